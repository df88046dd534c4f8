/**
 * Accepted sends waiting for their record (row S9/S10 of docs/email-delivery.md): kept in memory
 * and in a folder that a restarted consumer reads back.
 */
import { mkdtemp, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recordRetentionMs } from "../../src/config/derived.js";
import { AcceptedSends, claimOf, forgetAcceptedSends } from "../../src/consumer/accepted-sends.js";

const claim = { id: "reg-1", digest: "d".repeat(64), owner: "owner-1", leaseUntil: 5_000 };

describe("accepted sends", () => {
  it("S10: a fact written by one consumer is read back by the next, with no address in it, and removed once recorded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    new AcceptedSends(dir).add(claim, Date.now());
    expect(await readdir(dir)).toEqual(["reg-1.json"]);
    expect(await readFile(join(dir, "reg-1.json"), "utf8")).not.toContain("@");
    const next = new AcceptedSends(dir);
    const fact = next.get("reg-1");
    expect(fact && claimOf(fact)).toEqual(claim);
    next.delete("reg-1");
    expect(await readdir(dir)).toEqual([]);
  });

  it("skips files that are not its own facts (another name, a broken or foreign body)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    await writeFile(join(dir, "reg-2.json"), "{not json");
    await writeFile(join(dir, "reg-3.json"), JSON.stringify({ ...claim, id: "reg-1", acceptedAt: 1 }));
    await writeFile(join(dir, "notes.txt"), "hello");
    expect(new AcceptedSends(dir).size).toBe(0);
  });

  it("keeps facts in memory when the folder cannot be used", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    await writeFile(join(dir, "file"), "a file where the folder should be");
    const accepted = new AcceptedSends(join(dir, "file", "accepted"));
    accepted.add(claim, 1_000);
    expect(accepted.get("reg-1")?.owner).toBe("owner-1");
  });

  it("a consumer starting on the folder removes facts (and temporary files) older than the record retention", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const retention = recordRetentionMs();
    const now = Date.now();
    new AcceptedSends(dir).add({ ...claim, id: "reg-old" }, now - retention - 1);
    new AcceptedSends(dir).add({ ...claim, id: "reg-young" }, now - retention + 60_000);
    // A writer killed before its rename, long ago, and one that may still be writing.
    await writeFile(join(dir, "reg-cut.json.4242.tmp"), '{"id":"reg-cut","digest":"');
    await writeFile(join(dir, "reg-busy.json.4243.tmp"), '{"id":"reg-busy","digest":"');
    const longAgo = new Date(Date.now() - retention - 60_000);
    await utimes(join(dir, "reg-cut.json.4242.tmp"), longAgo, longAgo);
    await writeFile(join(dir, "notes.txt"), "not ours");
    await utimes(join(dir, "notes.txt"), longAgo, longAgo);

    const started = new AcceptedSends(dir);
    expect(started.get("reg-old")).toBeUndefined();
    expect(started.get("reg-young")?.owner).toBe("owner-1");
    expect((await readdir(dir)).sort()).toEqual(["notes.txt", "reg-busy.json.4243.tmp", "reg-young.json"]);
  });

  it("forget removes the facts (and cut-off temporary files) under the given digests, and only those", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const mine = "a".repeat(64);
    const legacy = "b".repeat(64);
    const other = "c".repeat(64);
    const accepted = new AcceptedSends(dir);
    accepted.add({ ...claim, id: "reg-mine", digest: mine }, 1_000);
    accepted.add({ ...claim, id: "reg-legacy", digest: legacy }, 1_000);
    accepted.add({ ...claim, id: "reg-other", digest: other }, 1_000);
    await writeFile(join(dir, "reg-cut.json.4242.tmp"), `{"id":"reg-cut","digest":"${mine}","own`);
    await writeFile(join(dir, "reg-cut2.json.4242.tmp"), `{"id":"reg-cut2","digest":"${other}","own`);
    expect(await forgetAcceptedSends(dir, new Set([mine, legacy]))).toBe(3);
    expect((await readdir(dir)).sort()).toEqual(["reg-cut2.json.4242.tmp", "reg-other.json"]);
    expect(await forgetAcceptedSends(join(dir, "missing"), new Set([mine]))).toBe(0);
  });
});
