/**
 * Adversarial tests of the "accepted send" paths (rows S9/S10 of docs/email-delivery.md): a fact
 * that the mail server accepted a registration's email, kept until its record is written. Every
 * case counts the emails at the mailer (the sender stub's own list) and the records in the store,
 * never the handler's counters: a first email for a registration that was not sent is never
 * suppressed, an accepted one is never sent again, nothing crashes, nothing personal is logged.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { ACCEPTED_SENDS_FILE, AcceptedSends } from "../../src/consumer/accepted-sends.js";
import { EnvironmentFaultError, NotSentError, RetryAfterError } from "../../src/consumer/errors.js";
import { registrationHandler } from "../../src/consumer/registration-handler.js";
import type { HandlerContext } from "../../src/consumer/runtime/types.js";
import { type SentEmailStore, StaleClaimError } from "../../src/consumer/store/contract.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import {
  ACCEPTED_SEND_ATTRIBUTE,
  type AcceptedSendFact,
  acceptedSendAttribute,
} from "../../src/contract/accepted-send-attribute.js";
import { DigestKey, registrationDigest } from "../../src/contract/digest.js";
import { parseRegistration } from "../../src/contract/registration.js";
import { withAcceptedCopies } from "../../src/lambda/accepted-copy.js";
import { forgetPerson } from "../../src/ops/forget.js";
import { acceptedOnDisk, endOfTurn } from "../support/accepted-on-disk.js";
import { capturedLogger } from "../support/captured-logger.js";
import { testDigestKey } from "../support/digest-key.js";
import { type StubSqs, stubSqs } from "../support/stub-sqs.js";
import { smallTmpfs } from "../support/tmpfs.js";

const LEASE_MS = 10_000;
const ana = { nome: "Ana Souza", email: "ana.souza@example.com", id: "reg-1" };
const bruno = { nome: "Bruno Lima", email: "bruno.lima@example.com", id: "reg-2" };
const digestOf = (body: object) => registrationDigest(parseRegistration(JSON.stringify(body)), testDigestKey);
const otherKey = new DigestKey("another-deployment-key-0123456789abcdef0123");
const folder = () => mkdtempSync(join(tmpdir(), "adv-accepted-"));
/** What the folder holds beside the facts' file: an earlier version's files, or hostile ones. */
const filesBeside = (dir: string) => readdirSync(dir).filter((name) => !name.startsWith(ACCEPTED_SENDS_FILE));
const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });

/** One store (SQLite in memory) shared by every consumer `world.consumer()` builds: a fleet's table. */
function world() {
  const clock = { now: 1_000_000 };
  const sqlite = new SqliteSentEmailStore(":memory:", {
    leaseMs: LEASE_MS,
    retentionMs: 600_000,
    now: () => clock.now,
  });
  /** While true, every store call fails as a store that does not answer. */
  const storeDown = { value: false };
  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    if (storeDown.value) throw new EnvironmentFaultError("store", "the store does not answer");
    return run();
  };
  const store: SentEmailStore = {
    claim: (id, digest) => call(() => sqlite.claim(id, digest)),
    markSent: (claim) => call(() => sqlite.markSent(claim)),
    release: (claim) => call(() => sqlite.release(claim)),
    recordAmbiguous: (claim, attempts) => call(() => sqlite.recordAmbiguous(claim, attempts)),
    forget: (digest) => call(() => sqlite.forget(digest)),
    close: async () => {},
  };
  /** Every email the mail server accepted, across every consumer: the count that matters. */
  const mailed: string[] = [];
  const { logger, lines } = capturedLogger("debug");
  /** A consumer process: its own handler and memory, on `dir` (its state folder's accepted/) if given. */
  function consumer(dir?: string, hooks: { afterSend?: () => void | Promise<void> } = {}) {
    const accepted = new AcceptedSends(dir, logger, { now: () => clock.now });
    const handle = registrationHandler(
      {
        send: async (_registration, id) => {
          mailed.push(id);
          await hooks.afterSend?.();
        },
      },
      { digestKey: testDigestKey, store, logger, now: () => clock.now, accepted },
    );
    const faults: EnvironmentFaultError[] = [];
    const context = (signal = new AbortController().signal): HandlerContext => ({
      signal,
      receiveCount: 1,
      environmentFault: (error) => faults.push(error),
    });
    return {
      accepted,
      handle,
      faults,
      deliver: (message: Message, signal?: AbortSignal) => handle(message, context(signal)),
      /** The body as a plain message (no attributes). */
      receive: (body: object, signal?: AbortSignal) =>
        handle({ MessageId: `m-${randomUUID()}`, Body: JSON.stringify(body) }, context(signal)),
    };
  }
  const state = async (id: string) => {
    const result = await sqlite.claim(id, digestOf(id === ana.id ? ana : bruno));
    // A probe that leaves no trace: give a fresh claim straight back.
    if (result.outcome === "claimed") await sqlite.release(result.claim);
    return result.outcome;
  };
  return { clock, sqlite, store, storeDown, mailed, lines, consumer, state };
}

/** `run` on the first call only (a fault that strikes one send, not every later one). */
/** `run` the first time only; its promise is returned, so a hook that awaits it waits for it. */
const once = (run: () => void | Promise<void>) => {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    return run();
  };
};

/** A message of `body` carrying `attribute` as its accepted-send attribute. */
const carrying = (body: object, attribute: MessageAttributeValue): Message => ({
  MessageId: `m-${randomUUID()}`,
  Body: JSON.stringify(body),
  MessageAttributes: { [ACCEPTED_SEND_ATTRIBUTE]: attribute },
});

/** A signed fact for `body` (what a Lambda container's copy carries), the claim's fields given. */
const factFor = (body: { id: string }, fields: Partial<AcceptedSendFact> = {}): AcceptedSendFact => ({
  id: body.id,
  digest: digestOf(body),
  owner: randomUUID(),
  leaseUntil: 1_010_000,
  acceptedAt: 1_000_000,
  ...fields,
});

/** The store goes down right after a send and is back 600 ms later. */
function storeBlinks(storeDown: { value: boolean }): void {
  storeDown.value = true;
  setTimeout(() => {
    storeDown.value = false;
  }, 600);
}

/**
 * Ana's registration handled by another consumer (no folder) whose transport refuses before
 * sending: it claims the record, sends nothing and gives the claim back.
 */
function refusedElsewhere(
  store: SentEmailStore,
  clock: { now: number },
  messageId: string,
  receiveCount: number,
): Promise<void> {
  const handle = registrationHandler(
    {
      send: async () => {
        throw new NotSentError(new Error("connection refused before MAIL FROM"));
      },
    },
    { digestKey: testDigestKey, store, now: () => clock.now },
  );
  return handle(
    { MessageId: messageId, Body: JSON.stringify(ana) },
    { signal: new AbortController().signal, receiveCount },
  );
}

describe("adversarial: forged, replayed and mutated accepted-send attributes", () => {
  const signedForAna = acceptedSendAttribute(factFor(ana), testDigestKey);
  const signedValue = JSON.parse(signedForAna.StringValue ?? "{}") as Record<string, unknown>;
  const deep = `${"[".repeat(400)}${"]".repeat(400)}`;
  const hostile: [string, MessageAttributeValue][] = [
    ["signed with another deployment's key", acceptedSendAttribute(factFor(ana), otherKey)],
    ["bruno's valid attribute pasted onto ana's body", acceptedSendAttribute(factFor(bruno), testDigestKey)],
    [
      "ana's id, another person's digest (same id, other content)",
      acceptedSendAttribute(factFor(ana, { digest: digestOf(bruno) }), testDigestKey),
    ],
    [
      "ana's digest under another id (same person, another registration)",
      acceptedSendAttribute(factFor(ana, { id: "reg-9" }), testDigestKey),
    ],
    ["owner changed after signing", text(JSON.stringify({ ...signedValue, owner: "mine-now" }))],
    ["leaseUntil pushed after signing", text(JSON.stringify({ ...signedValue, leaseUntil: 9e15 }))],
    [
      "signature in upper case",
      text(JSON.stringify({ ...signedValue, sig: String(signedValue.sig).toUpperCase() })),
    ],
    ["signature cut short", text(JSON.stringify({ ...signedValue, sig: String(signedValue.sig).slice(2) }))],
    ["a 1 MiB value", text(JSON.stringify({ ...signedValue, owner: "x".repeat(1 << 20) }))],
    ["a deeply nested JSON", text(deep)],
    ["__proto__ smuggled in", text(`{"__proto__":{"v":1},${JSON.stringify(signedValue).slice(1)}`)],
    ["not JSON, quoting the address", text(`sent to ${ana.email}, trust me`)],
    ["JSON null", text("null")],
    ["a Number attribute", { DataType: "Number", StringValue: "1" }],
    [
      "a Binary attribute",
      { DataType: "Binary", BinaryValue: new TextEncoder().encode(signedForAna.StringValue) },
    ],
    ["a custom String type", { DataType: "String.accepted", StringValue: signedForAna.StringValue }],
    ["no value at all", { DataType: "String" }],
  ];

  it.each(hostile)(
    "%s: ana's first email is sent once, the handler does not crash, nothing personal is logged",
    async (_, attribute) => {
      const w = world();
      const c = w.consumer();
      await c.deliver(carrying(ana, attribute));
      await c.deliver(carrying(ana, attribute)); // the same message again: a duplicate now
      expect(w.mailed).toEqual([ana.id]);
      expect(await w.state(ana.id)).toBe("already-sent");
      const log = w.lines.join("");
      expect(log).toContain("does not verify");
      expect(log).not.toMatch(/ana|souza|bruno|lima|@example/i);
      expect(log).not.toContain(String(signedValue.sig));
    },
  );

  it("the attribute's name in another case is not the attribute: the email is sent", async () => {
    const w = world();
    const c = w.consumer();
    await c.deliver({
      MessageId: "m",
      Body: JSON.stringify(ana),
      MessageAttributes: { "Accepted-Send": signedForAna },
    });
    expect(w.mailed).toEqual([ana.id]);
  });

  it("a replayed valid attribute after the record is written: a duplicate, nothing sent", async () => {
    const w = world();
    const c = w.consumer();
    await c.receive(ana);
    await c.deliver(carrying(ana, signedForAna)); // stale owner: the record is another claim's, and sent
    await c.deliver(carrying(ana, signedForAna));
    expect(w.mailed).toEqual([ana.id]);
    expect(await w.state(ana.id)).toBe("already-sent");
  });

  it("a stale valid attribute while another consumer holds a live claim: handed back, nothing sent by the reader", async () => {
    const w = world();
    const held = await w.sqlite.claim(ana.id, digestOf(ana));
    if (held.outcome !== "claimed") throw new Error("not claimed");
    const c = w.consumer();
    await expect(c.deliver(carrying(ana, signedForAna))).rejects.toBeInstanceOf(RetryAfterError);
    expect(w.mailed).toEqual([]);
  });

  it("a valid fact for bruno on bruno's message never lets ana's unsent registration go unmailed", async () => {
    const w = world();
    const c = w.consumer(folder());
    await c.deliver(carrying(bruno, acceptedSendAttribute(factFor(bruno), testDigestKey)));
    await c.receive(ana);
    expect(w.mailed).toEqual([ana.id]); // bruno's email had left (the fact says so), ana's had not
    expect(await w.state(bruno.id)).toBe("already-sent");
  });
});

describe("adversarial: the accepted/ folder", () => {
  const fact = (body: { id: string }, fields: Record<string, unknown> = {}) =>
    JSON.stringify({ ...factFor(body), ...fields });

  it("hostile names and contents are skipped: ana's unsent registration is mailed once", async () => {
    const dir = folder();
    const outside = folder();
    const outsideFact = fact(ana);
    writeFileSync(join(outside, "reg-1.json"), outsideFact);
    symlinkSync(join(outside, "reg-1.json"), join(dir, "reg-1.json.1.tmp")); // a "temporary" link out
    writeFileSync(join(dir, "..json"), fact(ana, { id: "." }));
    writeFileSync(join(dir, ".json"), fact(ana, { id: "" }));
    writeFileSync(join(dir, "reg-1.json"), fact(ana, { id: "../reg-1" })); // id and name disagree
    writeFileSync(join(dir, "reg-3.json"), "{not json");
    writeFileSync(join(dir, "reg-4.json"), "null");
    writeFileSync(join(dir, "reg-5.json"), JSON.stringify([fact(ana)]));
    mkdirSync(join(dir, "reg-6.json"));
    symlinkSync("/etc/hostname", join(dir, "reg-7.json"));
    symlinkSync(join(outside, "missing"), join(dir, "reg-8.json"));
    const sparse = join(dir, "reg-9.json");
    writeFileSync(sparse, "");
    truncateSync(sparse, 64 * 1024 * 1024); // 64 MiB of holes: not a fact
    const w = world();
    const c = w.consumer(dir);
    expect(c.accepted.size).toBe(0);
    await c.receive(ana);
    expect(w.mailed).toEqual([ana.id]);
    // Nothing outside the folder was read as a fact or touched.
    expect(readFileSync(join(outside, "reg-1.json"), "utf8")).toBe(outsideFact);
    expect(readdirSync(outside)).toEqual(["reg-1.json"]);
  });

  it("an id that is not a safe file name is kept in memory only, never written outside the folder", async () => {
    const root = folder();
    const dir = join(root, "state", "accepted");
    const accepted = new AcceptedSends(dir);
    for (const id of ["../../escape", "/etc/escape", "a/b", ".hidden", `x${"y".repeat(200)}`]) {
      accepted.add({ id, digest: "d".repeat(64), owner: "o", leaseUntil: 1 }, Date.now());
      expect(accepted.get(id)?.owner).toBe("o");
    }
    expect(await acceptedOnDisk(dir)).toEqual([]);
    expect(filesBeside(dir)).toEqual([]);
    expect(readdirSync(root)).toEqual(["state"]);
    expect(existsSync("/etc/escape.json")).toBe(false);
  });

  it("a FIFO named like a fact does not hang the consumer's start (it would block the event loop)", () => {
    const dir = folder();
    const made = spawnSync("mkfifo", [join(dir, "reg-1.json")]);
    if (made.status !== 0) return; // no mkfifo here: nothing to test
    writeFileSync(join(dir, "reg-2.json"), fact(bruno, { acceptedAt: Date.now() }));
    const module = join(import.meta.dirname, "../../src/consumer/accepted-sends.ts");
    const script = `import { AcceptedSends } from ${JSON.stringify(module)};
      process.stdout.write(String(new AcceptedSends(${JSON.stringify(dir)}).size));`;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      timeout: 20_000,
      encoding: "utf8",
    });
    expect(run.signal, "the constructor hung on the FIFO").toBeNull();
    expect(run.stdout).toBe("1"); // the FIFO skipped, bruno's fact read
  });

  it("a symlink planted at the temporary file's name does not make the writer overwrite its target", () => {
    const dir = folder();
    const victim = join(folder(), "precious.conf");
    writeFileSync(victim, "keep me");
    symlinkSync(victim, join(dir, `reg-1.json.${process.pid}.tmp`));
    const accepted = new AcceptedSends(dir);
    accepted.add({ id: "reg-1", digest: "d".repeat(64), owner: "o", leaseUntil: 1 }, Date.now());
    expect(readFileSync(victim, "utf8")).toBe("keep me");
    expect(accepted.get("reg-1")?.owner).toBe("o");
  });

  it("a read-only folder: the fact is kept in memory; one email while the store is down, then up", async () => {
    const fs = smallTmpfs("64k", { readOnly: true });
    if (!fs) return;
    try {
      const w = world();
      const c = w.consumer(fs.dir, { afterSend: () => storeBlinks(w.storeDown) });
      await c.receive(ana);
      await c.receive(ana);
      expect(w.mailed).toEqual([ana.id]);
      expect(await w.state(ana.id)).toBe("already-sent");
      expect(w.lines.join("")).toMatch(/keep (an accepted send|accepted sends) on disk/);
    } finally {
      fs.unmount();
    }
  });

  it("a full disk: the fact is kept in memory, one email, and no temporary file is left to fill it further", async () => {
    const fs = smallTmpfs("64k");
    if (!fs) return;
    try {
      const dir = join(fs.dir, "accepted");
      mkdirSync(dir);
      // Fill the file system to its last byte.
      spawnSync("dd", ["if=/dev/zero", `of=${join(fs.dir, "filler")}`, "bs=4k"], { stdio: "ignore" });
      const w = world();
      const c = w.consumer(dir, { afterSend: () => storeBlinks(w.storeDown) });
      await c.receive(ana);
      await c.receive(ana);
      expect(w.mailed).toEqual([ana.id]);
      expect(w.lines.join("")).toMatch(/keep (an accepted send|accepted sends) on disk/);
      expect(filesBeside(dir)).toEqual([]);
    } finally {
      fs.unmount();
    }
  });

  it("a restart on a previous run's folder: recorded facts stay duplicates, unrecorded ones get their record, nothing is sent", async () => {
    const w = world();
    const dir = folder();
    // The previous run: ana accepted and recorded, but her fact's removal failed (left behind,
    // its owner since superseded); bruno accepted, the store down at markSent, the run killed.
    const previous = w.consumer(dir);
    await previous.receive(ana);
    writeFileSync(join(dir, "reg-1.json"), fact(ana, { acceptedAt: w.clock.now }));
    const stop = new AbortController();
    const markSent = w.store.markSent;
    w.store.markSent = async () => {
      stop.abort(); // killed at its shutdown deadline while the store is down
      throw new EnvironmentFaultError("store", "the store does not answer");
    };
    await expect(previous.receive(bruno, stop.signal)).rejects.toBeInstanceOf(EnvironmentFaultError);
    w.store.markSent = markSent;
    // Ana's left behind as an earlier version's file, bruno's a row of the file.
    expect(filesBeside(dir)).toEqual(["reg-1.json"]);
    expect(await acceptedOnDisk(dir)).toEqual(["reg-2"]);
    w.clock.now += LEASE_MS * 3; // the claim's lease long over
    const next = w.consumer(dir);
    expect(next.accepted.size).toBe(2);
    await next.receive(bruno);
    await next.receive(ana);
    await next.receive(bruno);
    expect(w.mailed).toEqual([ana.id, bruno.id]);
    expect(await w.state(bruno.id)).toBe("already-sent");
    expect(await w.state(ana.id)).toBe("already-sent");
    expect(await acceptedOnDisk(dir)).toEqual([]);
    expect(filesBeside(dir)).toEqual([]);
  });

  it("a writer killed after its temporary file was whole but before the rename: the restart must not send again", async () => {
    const w = world();
    const dir = folder();
    const first = w.consumer(dir);
    const stop = new AbortController();
    const markSent = w.store.markSent;
    w.store.markSent = async () => {
      stop.abort();
      throw new EnvironmentFaultError("store", "the store does not answer");
    };
    await expect(first.receive(ana, stop.signal)).rejects.toBeInstanceOf(EnvironmentFaultError);
    w.store.markSent = markSent;
    // What an earlier version (a file per fact) killed between its write and its rename left: the
    // whole fact under the temporary name, and no file of rows yet.
    first.accepted.close();
    writeFileSync(join(dir, "reg-1.json.4242.tmp"), JSON.stringify(first.accepted.get(ana.id)));
    for (const name of readdirSync(dir)) if (name.startsWith(ACCEPTED_SENDS_FILE)) rmSync(join(dir, name));
    w.clock.now += LEASE_MS * 3;
    await w.consumer(dir).receive(ana);
    expect(w.mailed).toEqual([ana.id]);
  });
});

describe("adversarial: kill and restart windows between the acceptance and markSent", () => {
  it("killed with the store down, restarted with it still down and killed again, then restarted with it up: one email", async () => {
    const w = world();
    const dir = folder();
    const killed = (ms: number) => {
      const stop = new AbortController();
      setTimeout(() => stop.abort(), ms);
      return stop.signal;
    };
    const first = w.consumer(dir, {
      afterSend: () => {
        w.storeDown.value = true; // down exactly between the 250 and markSent
      },
    });
    await expect(first.receive(ana, killed(300))).rejects.toBeInstanceOf(EnvironmentFaultError);
    expect(await acceptedOnDisk(dir)).toEqual(["reg-1"]);
    w.clock.now += LEASE_MS * 2; // the message comes back after its visibility timeout: lease over
    const second = w.consumer(dir);
    await expect(second.receive(ana, killed(300))).rejects.toBeInstanceOf(EnvironmentFaultError);
    expect(second.faults.length).toBeGreaterThan(0);
    expect(await acceptedOnDisk(dir)).toEqual(["reg-1"]);
    w.storeDown.value = false;
    w.clock.now += LEASE_MS * 2;
    const third = w.consumer(dir);
    await third.receive(ana);
    await third.receive(ana);
    expect(w.mailed).toEqual([ana.id]);
    expect(await w.state(ana.id)).toBe("already-sent");
    expect(await acceptedOnDisk(dir)).toEqual([]);
  });

  it("the restarted consumer's fact outlives the lapsed claim being taken and given back by a consumer whose send never started", async () => {
    const w = world();
    const dir = folder();
    const stop = new AbortController();
    const first = w.consumer(dir, {
      afterSend: () => {
        w.storeDown.value = true;
        stop.abort();
      },
    });
    await expect(first.receive(ana, stop.signal)).rejects.toBeInstanceOf(EnvironmentFaultError);
    await endOfTurn(); // the process ends after the turn that accepted (its facts are written then)
    w.storeDown.value = false;
    w.clock.now += LEASE_MS * 2;
    // Another consumer (no folder) claims the lapsed claim, its transport refuses before sending.
    await expect(refusedElsewhere(w.store, w.clock, "m", 2)).rejects.toThrow("connection refused");
    await w.consumer(dir).receive(ana);
    expect(w.mailed).toEqual([ana.id]);
    expect(await w.state(ana.id)).toBe("already-sent");
  });
});

describe("adversarial: the record taken over while markSent is retried", () => {
  it("another consumer claims the lapsed claim and gives it back unsent: the sender's late write is rejected, and the redelivery must not mail again", async () => {
    const w = world();
    const a = w.consumer(folder(), {
      afterSend: once(() => {
        w.storeDown.value = true; // A cannot reach the store; B (below) can
      }),
    });
    const running = a.receive(ana);
    await new Promise((resolve) => setTimeout(resolve, 100));
    w.clock.now += LEASE_MS * 2;
    // A duplicate message of ana's registration reaches B: it claims, its send never starts, it gives back.
    await expect(refusedElsewhere(w.sqlite, w.clock, "dup", 1)).rejects.toThrow("connection refused");
    w.storeDown.value = false;
    await expect(running).rejects.toBeInstanceOf(StaleClaimError);
    await a.receive(ana); // A's message, back after its visibility timeout
    expect(w.mailed).toEqual([ana.id]);
    expect(await w.state(ana.id)).toBe("already-sent");
  });
});

describe("adversarial: forget while facts are present", () => {
  /** Ana accepted and unrecorded (the store down at markSent, the consumer killed); bruno the same. */
  async function bothUnrecorded() {
    const w = world();
    const dir = folder();
    for (const body of [ana, bruno]) {
      const stop = new AbortController();
      const c = w.consumer(dir, {
        afterSend: () => {
          w.storeDown.value = true;
          stop.abort();
        },
      });
      await expect(c.receive(body, stop.signal)).rejects.toBeInstanceOf(EnvironmentFaultError);
      await endOfTurn(); // the process ends after the turn that accepted (its facts are written then)
      w.storeDown.value = false;
    }
    return { w, dir };
  }

  it("with the consumers stopped: ana's fact and record go, bruno's stay, hostile files do not stop it; bruno is not mailed again", async () => {
    const { w, dir } = await bothUnrecorded();
    const fifo = spawnSync("mkfifo", [join(dir, "zz.json")]).status === 0;
    symlinkSync("/etc/hostname", join(dir, "zy.json"));
    writeFileSync(join(dir, "reg-1.json.4242.tmp"), `{"id":"reg-1","digest":"${digestOf(ana)}","own`);
    const report = await forgetPerson({
      email: "ANA.Souza@example.com",
      nomes: [ana.nome],
      digestKey: testDigestKey,
      store: w.store,
      acceptedDir: dir,
    });
    expect(report).toMatchObject({ storeRecords: 1, acceptedSends: 2 });
    expect(await acceptedOnDisk(dir)).toEqual(["reg-2"]);
    expect(filesBeside(dir).sort()).toEqual([...(fifo ? ["zz.json"] : []), "zy.json"].sort());
    const next = w.consumer(dir);
    expect(next.accepted.get(ana.id)).toBeUndefined();
    w.clock.now += LEASE_MS * 2;
    await next.receive(bruno);
    expect(w.mailed).toEqual([ana.id, bruno.id]);
    expect(await w.state(bruno.id)).toBe("already-sent");
  });

  it("with a consumer still retrying ana's markSent (against the documented precondition): still one email", async () => {
    const w = world();
    const dir = folder();
    const c = w.consumer(dir, {
      afterSend: once(() => {
        w.storeDown.value = true;
      }),
    });
    const running = c.receive(ana);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await acceptedOnDisk(dir)).toEqual(["reg-1"]);
    // forget reaches the store (the consumer does not) and sweeps the folder under its feet.
    const report = await forgetPerson({
      email: ana.email,
      nomes: [ana.nome],
      digestKey: testDigestKey,
      store: w.sqlite,
      acceptedDir: dir,
    });
    expect(report).toMatchObject({ storeRecords: 1, acceptedSends: 1 });
    w.storeDown.value = false;
    // Its record is gone: the late write is rejected, and the message comes back.
    await expect(running).rejects.toBeInstanceOf(StaleClaimError);
    await c.receive(ana);
    expect(w.mailed).toEqual([ana.id]);
    expect(await acceptedOnDisk(dir)).toEqual([]);
  });
});

describe("adversarial: the Lambda hand-over's copy", () => {
  const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/user-registrations";
  /** A container's handler (its own memory) wrapped with the hand-over, sending to `sqs`. */
  function container(w: ReturnType<typeof world>, sqs: StubSqs, fifo: boolean, hooks = {}) {
    const c = w.consumer(undefined, hooks);
    const handle = withAcceptedCopies(c.handle, {
      client: sqs.client,
      queueUrl: QUEUE_URL,
      fifo,
      digestKey: testDigestKey,
      accepted: c.accepted,
      delaySeconds: () => 30,
      counts: { sent: 0, failed: 0 },
    });
    return (message: Message) => handle(message, { signal: new AbortController().signal, receiveCount: 1 });
  }
  /** The copies sent back to the queue, each as its next delivery. */
  const copies = (sqs: StubSqs): Message[] =>
    sqs.named("SendMessage").map((input, n) => ({
      MessageId: `copy-${n}`,
      Body: input.MessageBody as string,
      MessageAttributes: input.MessageAttributes as Message["MessageAttributes"],
    }));

  it("a standard queue's copy delivered to a FIFO container: recorded, nothing mailed, no copy of the copy", async () => {
    const w = world();
    const sqs = stubSqs({ SendMessage: () => ({ MessageId: "c" }) });
    const stop = new AbortController();
    const a = w.consumer(undefined, {
      afterSend: once(() => {
        w.storeDown.value = true;
        stop.abort(); // the invocation's end, the store still down
      }),
    });
    const handOver = withAcceptedCopies(a.handle, {
      client: sqs.client,
      queueUrl: QUEUE_URL,
      fifo: false,
      digestKey: testDigestKey,
      accepted: a.accepted,
      delaySeconds: () => 30,
      counts: { sent: 0, failed: 0 },
    });
    await handOver({ MessageId: "m1", Body: JSON.stringify(ana) }, { signal: stop.signal, receiveCount: 1 });
    expect(copies(sqs)).toHaveLength(1);
    w.storeDown.value = false;
    w.clock.now += LEASE_MS * 2;
    const fifoSqs = stubSqs({ SendMessage: () => ({ MessageId: "c" }) });
    const b = container(w, fifoSqs, true);
    await b(copies(sqs)[0] as Message);
    await b(copies(sqs)[0] as Message);
    expect(w.mailed).toEqual([ana.id]);
    expect(fifoSqs.named("SendMessage")).toEqual([]);
    expect(await w.state(ana.id)).toBe("already-sent");
  });

  it("a late markSent rejected as stale (the taker gave the claim back unsent): the fact goes on a copy, and its receiver mails nothing", async () => {
    const w = world();
    const sqs = stubSqs({ SendMessage: () => ({ MessageId: "c" }) });
    const a = container(w, sqs, false, {
      afterSend: once(async () => {
        // Frozen past the lease: another container claims, its transport refuses, it gives back.
        w.clock.now += LEASE_MS * 2;
        const taken = await w.sqlite.claim(ana.id, digestOf(ana));
        if (taken.outcome === "claimed") await w.sqlite.release(taken.claim);
      }),
    });
    await a({ MessageId: "m1", Body: JSON.stringify(ana) });
    expect(copies(sqs)).toHaveLength(1); // the original reported done, its fact on the copy
    await container(w, sqs, false)(copies(sqs)[0] as Message);
    expect(w.mailed).toEqual([ana.id]);
    expect(await w.state(ana.id)).toBe("already-sent");
  });
});
