/**
 * Accepted sends waiting for their record (row S9/S10 of docs/email-delivery.md): kept in memory
 * and in a SQLite file in a folder that a restarted consumer reads back.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { mkdtemp, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { failureOf } from "../../src/cli/shared.js";
import { recordRetentionMs } from "../../src/config/derived.js";
import {
  ACCEPTED_SENDS_FILE,
  AcceptedSends,
  AcceptedSendsUnreadableError,
  claimOf,
  forgetAcceptedSends,
} from "../../src/consumer/accepted-sends.js";
import { acceptedOnDisk, endOfTurn } from "../support/accepted-on-disk.js";
import { capturedLogger } from "../support/captured-logger.js";
import { smallTmpfs } from "../support/tmpfs.js";

const claim = { id: "reg-1", digest: "d".repeat(64), owner: "owner-1", leaseUntil: 5_000 };

/** Every byte the folder holds, its files' contents joined. */
async function folderBytes(dir: string): Promise<string> {
  const names = await readdir(dir);
  const texts = await Promise.all(names.map((name) => readFile(join(dir, name), "latin1")));
  return texts.join("\n");
}

describe("accepted sends", () => {
  it("S10: a fact written by one consumer is read back by the next, with no address in it, and removed once recorded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const first = new AcceptedSends(dir);
    first.add(claim, Date.now());
    await endOfTurn();
    // The process "dies" without closing after that turn: the row is committed, and holds no address.
    const peek = new DatabaseSync(join(dir, ACCEPTED_SENDS_FILE), { readOnly: true });
    expect(peek.prepare("SELECT * FROM accepted_sends").all()).toEqual([
      {
        id: "reg-1",
        digest: claim.digest,
        owner: "owner-1",
        lease_until: 5_000,
        accepted_at: expect.any(Number),
      },
    ]);
    peek.close();
    const next = new AcceptedSends(dir);
    const fact = next.get("reg-1");
    expect(fact && claimOf(fact)).toEqual(claim);
    next.delete("reg-1");
    next.close();
    first.close();
    expect(new AcceptedSends(dir).size).toBe(0);
  });

  it("two consumers on one folder each keep their facts; a third reads both", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const a = new AcceptedSends(dir);
    const b = new AcceptedSends(dir);
    a.add({ ...claim, id: "reg-a" }, Date.now());
    b.add({ ...claim, id: "reg-b" }, Date.now());
    b.delete("reg-b");
    b.add({ ...claim, id: "reg-c" }, Date.now());
    await endOfTurn();
    const third = new AcceptedSends(dir);
    expect(third.pending().map((f) => f.id)).toEqual(["reg-a", "reg-c"]);
    for (const accepted of [a, b, third]) accepted.close();
  });

  it("a fact recorded in the turn that accepted it never reaches the disk; one turn's facts are one commit", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const accepted = new AcceptedSends(dir);
    const wal = join(dir, `${ACCEPTED_SENDS_FILE}-wal`);
    const walBytes = () => (existsSync(wal) ? statSync(wal).size : 0);
    const peek = new DatabaseSync(join(dir, ACCEPTED_SENDS_FILE), { readOnly: true });
    const frameBytes = Number(peek.prepare("PRAGMA page_size").get()?.page_size) + 24;
    peek.close();
    try {
      const before = walBytes();
      // A store that records synchronously (SQLite) has written the record before the turn ends.
      accepted.add(claim, Date.now());
      accepted.delete(claim.id);
      await endOfTurn();
      expect(walBytes()).toBe(before);
      // A remote store: the turn's acceptances are written together, before its answers can come.
      for (let i = 0; i < 50; i++) accepted.add({ ...claim, id: `reg-${i}` }, Date.now());
      await endOfTurn();
      expect(await acceptedOnDisk(dir)).toHaveLength(50);
      // One commit: the table's and its key's pages once (and the header), not fifty times.
      expect((walBytes() - before) / frameBytes).toBeLessThan(10); // fifty commits: a hundred or more
      // Recorded in a later turn: the removals are written together too.
      for (let i = 0; i < 50; i++) accepted.delete(`reg-${i}`);
      expect(await acceptedOnDisk(dir)).toEqual([]);
    } finally {
      accepted.close();
    }
  });

  it("a write that fails (another consumer holds the lock past the busy timeout) is said once and kept in memory; the next turn writes again", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const { logger, lines } = capturedLogger("warn");
    const accepted = new AcceptedSends(dir, logger);
    const other = new DatabaseSync(join(dir, ACCEPTED_SENDS_FILE));
    other.exec("BEGIN IMMEDIATE; DELETE FROM accepted_sends WHERE id = 'none'");
    try {
      accepted.add(claim, Date.now());
      accepted.add({ ...claim, id: "reg-2" }, Date.now());
      await endOfTurn();
      expect(lines.map((line) => JSON.parse(line).msg)).toEqual(["could not write accepted sends to disk"]);
      expect(accepted.pending().map((fact) => fact.id)).toEqual(["reg-1", "reg-2"]);
    } finally {
      other.exec("COMMIT");
      other.close();
    }
    expect(await acceptedOnDisk(dir)).toEqual([]);
    accepted.add({ ...claim, id: "reg-3" }, Date.now());
    expect(await acceptedOnDisk(dir)).toEqual(["reg-3"]);
    accepted.close();
  });

  it("moves an earlier version's fact files into the file and removes them; skips files that are not facts", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const fact = { ...claim, acceptedAt: Date.now() };
    await writeFile(join(dir, "reg-1.json"), JSON.stringify(fact));
    await writeFile(join(dir, "reg-2.json"), "{not json");
    await writeFile(join(dir, "reg-3.json"), JSON.stringify({ ...claim, id: "reg-1", acceptedAt: 1 }));
    await writeFile(join(dir, "notes.txt"), "hello");
    const moved = new AcceptedSends(dir);
    expect(moved.pending()).toEqual([fact]);
    moved.close();
    expect((await readdir(dir)).filter((n) => !n.startsWith(ACCEPTED_SENDS_FILE)).sort()).toEqual([
      "notes.txt",
      "reg-2.json",
      "reg-3.json",
    ]);
    // Read back from the file alone.
    expect(new AcceptedSends(dir).get("reg-1")?.owner).toBe("owner-1");
  });

  it("keeps facts in memory when the folder cannot be used", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    await writeFile(join(dir, "file"), "a file where the folder should be");
    const accepted = new AcceptedSends(join(dir, "file", "accepted"));
    accepted.add(claim, 1_000);
    expect(accepted.get("reg-1")?.owner).toBe("owner-1");
  });

  it("keeps facts in memory when the file is not a database", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    await writeFile(
      join(dir, ACCEPTED_SENDS_FILE),
      "not a database, long enough to be read as one ".repeat(50),
    );
    const accepted = new AcceptedSends(dir);
    accepted.add(claim, 1_000);
    expect(accepted.get("reg-1")?.owner).toBe("owner-1");
    accepted.delete("reg-1");
    expect(accepted.size).toBe(0);
  });

  it("a file that is not a database: an earlier version's facts are still read (into memory, the files left)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    await writeFile(
      join(dir, ACCEPTED_SENDS_FILE),
      "not a database, long enough to be read as one ".repeat(50),
    );
    await writeFile(join(dir, "reg-1.json"), JSON.stringify({ ...claim, acceptedAt: Date.now() }));
    const accepted = new AcceptedSends(dir);
    const fact = accepted.get("reg-1");
    expect(fact && claimOf(fact)).toEqual(claim);
    expect(await readdir(dir)).toContain("reg-1.json");
  });

  it("a full disk at start: the facts already in the file are still read (a restart must not mail them again)", () => {
    const fs = smallTmpfs("256k");
    if (!fs) return; // needs mount (root): covered where the tests run as root
    try {
      const dir = join(fs.dir, "accepted");
      mkdirSync(dir);
      const writer = new AcceptedSends(dir);
      writer.add(claim, Date.now());
      writer.close();
      spawnSync("dd", ["if=/dev/zero", `of=${join(fs.dir, "filler")}`, "bs=4k"], { stdio: "ignore" });
      const started = new AcceptedSends(dir);
      const fact = started.get("reg-1");
      expect(fact && claimOf(fact)).toEqual(claim);
      started.close();
    } finally {
      fs.unmount();
    }
  });

  it("a write lock held at start (another consumer's statement) does not hide the facts already in the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const writer = new AcceptedSends(dir);
    writer.add(claim, Date.now());
    writer.close();
    const other = new DatabaseSync(join(dir, ACCEPTED_SENDS_FILE));
    other.exec("BEGIN IMMEDIATE; DELETE FROM accepted_sends WHERE id = 'none'");
    try {
      const fact = new AcceptedSends(dir).get("reg-1");
      expect(fact && claimOf(fact)).toEqual(claim);
    } finally {
      other.exec("COMMIT");
      other.close();
    }
  });

  it("two consumers starting on a new folder at once: the second waits for the first's lock, and keeps its facts on disk", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const path = join(dir, ACCEPTED_SENDS_FILE);
    // Another thread holds the new file's lock for 50 ms, as a consumer switching it to WAL does.
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(
      `const { workerData } = require("node:worker_threads");
       const { DatabaseSync } = require("node:sqlite");
       const db = new DatabaseSync(workerData.path);
       db.exec("BEGIN EXCLUSIVE");
       Atomics.store(workerData.flag, 0, 1);
       Atomics.notify(workerData.flag, 0);
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
       db.exec("COMMIT");
       db.close();`,
      { eval: true, workerData: { path, flag } },
    );
    Atomics.wait(flag, 0, 0, 5_000);
    const second = new AcceptedSends(dir);
    second.add(claim, Date.now());
    second.close();
    await new Promise((resolve) => worker.once("exit", resolve));
    expect(new AcceptedSends(dir).get("reg-1")?.owner).toBe("owner-1");
  });

  it("a consumer starting on the folder removes facts (and an earlier version's files) older than the record retention", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const retention = recordRetentionMs();
    const now = Date.now();
    const writer = new AcceptedSends(dir);
    writer.add({ ...claim, id: "reg-old" }, now - retention - 1);
    writer.add({ ...claim, id: "reg-young" }, now - retention + 60_000);
    writer.close();
    // An earlier version's: an old fact, a writer killed before its rename long ago, and one that
    // may still be writing.
    await writeFile(
      join(dir, "reg-older.json"),
      JSON.stringify({ ...claim, id: "reg-older", acceptedAt: 1 }),
    );
    await writeFile(join(dir, "reg-cut.json.4242.tmp"), '{"id":"reg-cut","digest":"');
    await writeFile(join(dir, "reg-busy.json.4243.tmp"), '{"id":"reg-busy","digest":"');
    const longAgo = new Date(Date.now() - retention - 60_000);
    await utimes(join(dir, "reg-cut.json.4242.tmp"), longAgo, longAgo);
    await writeFile(join(dir, "notes.txt"), "not ours");
    await utimes(join(dir, "notes.txt"), longAgo, longAgo);

    const started = new AcceptedSends(dir);
    expect(started.pending().map((f) => f.id)).toEqual(["reg-young"]);
    started.close();
    expect((await readdir(dir)).filter((n) => !n.startsWith(ACCEPTED_SENDS_FILE)).sort()).toEqual([
      "notes.txt",
      "reg-busy.json.4243.tmp",
    ]);
  });

  it("forget removes the facts (rows, an earlier version's files and cut-off writes) under the given digests, and only those, bytes included", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const mine = "a".repeat(64);
    const legacy = "b".repeat(64);
    const other = "c".repeat(64);
    const accepted = new AcceptedSends(dir);
    accepted.add({ ...claim, id: "reg-mine", digest: mine }, 1_000);
    accepted.add({ ...claim, id: "reg-legacy", digest: legacy }, 1_000);
    accepted.add({ ...claim, id: "reg-other", digest: other }, 1_000);
    accepted.close();
    await writeFile(
      join(dir, "reg-old.json"),
      JSON.stringify({ ...claim, id: "reg-old", digest: mine, acceptedAt: 1 }),
    );
    await writeFile(join(dir, "reg-cut.json.4242.tmp"), `{"id":"reg-cut","digest":"${mine}","own`);
    await writeFile(join(dir, "reg-cut2.json.4242.tmp"), `{"id":"reg-cut2","digest":"${other}","own`);
    expect(await forgetAcceptedSends(dir, new Set([mine, legacy]))).toBe(4);
    expect((await readdir(dir)).filter((n) => !n.startsWith(ACCEPTED_SENDS_FILE)).sort()).toEqual([
      "reg-cut2.json.4242.tmp",
    ]);
    const bytes = await folderBytes(dir);
    expect(bytes).not.toContain(mine);
    expect(bytes).not.toContain(legacy);
    expect(bytes).toContain(other);
    expect(
      new AcceptedSends(dir, undefined, { maxAgeMs: Number.MAX_SAFE_INTEGER }).pending().map((f) => f.id),
    ).toEqual(["reg-other"]);
    expect(await forgetAcceptedSends(join(dir, "missing"), new Set([mine]))).toBe(0);
  });

  it("forget beside an open consumer leaves no copy of a fact it recorded already (the write-ahead log keeps its insert)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const mine = "a".repeat(64);
    const accepted = new AcceptedSends(dir);
    accepted.add({ ...claim, digest: mine }, Date.now());
    await endOfTurn(); // written (a remote store's record takes longer than a turn)
    accepted.delete("reg-1"); // recorded: the row is gone, its insert's frame is not
    await endOfTurn();
    try {
      expect(await forgetAcceptedSends(dir, new Set([mine]))).toBe(0);
      expect(await folderBytes(dir)).not.toContain(mine);
    } finally {
      accepted.close();
    }
  });
  it("forget on a damaged file says so in one line naming it and the fix, after sweeping an earlier version's files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const mine = "a".repeat(64);
    await writeFile(
      join(dir, ACCEPTED_SENDS_FILE),
      "not a database, long enough to be read as one ".repeat(50),
    );
    await writeFile(
      join(dir, "reg-old.json"),
      JSON.stringify({ ...claim, id: "reg-old", digest: mine, acceptedAt: 1 }),
    );
    const forgetting = forgetAcceptedSends(dir, new Set([mine]));
    await expect(forgetting).rejects.toBeInstanceOf(AcceptedSendsUnreadableError);
    const failure = failureOf(await forgetting.catch((error: unknown) => error));
    expect(failure.code).toBe(1);
    expect(failure.message?.trim().split("\n")).toHaveLength(1);
    expect(failure.message).toContain(join(dir, ACCEPTED_SENDS_FILE));
    expect(failure.message).toContain("move it aside");
    expect((await readdir(dir)).sort()).toEqual([ACCEPTED_SENDS_FILE]);
  });
});
