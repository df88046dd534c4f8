import { readFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { AcceptedSends } from "../../src/consumer/accepted-sends.js";
import {
  EnvironmentFaultError,
  HoldError,
  NotSentError,
  PoisonMessageError,
  RetryAfterError,
} from "../../src/consumer/errors.js";
import {
  LEASE_LAPSES_MAX,
  type RegistrationCounts,
  registrationHandler,
  SendNotStartedError,
} from "../../src/consumer/registration-handler.js";
import type { HandlerContext } from "../../src/consumer/runtime/types.js";
import type { SentEmailStore } from "../../src/consumer/store/contract.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import {
  ACCEPTED_SEND_ATTRIBUTE,
  acceptedSendAttribute,
} from "../../src/contract/accepted-send-attribute.js";
import { registrationDigest, registrationIdFor } from "../../src/contract/digest.js";
import { parseRegistration, type Registration } from "../../src/contract/registration.js";
import { acceptedOnDisk, endOfTurn } from "../support/accepted-on-disk.js";
import { capturedLogger } from "../support/captured-logger.js";
import { testDigestKey } from "../support/digest-key.js";

const LEASE_MS = 10_000;
const message = (body: object) => ({ MessageId: "m-1", Body: JSON.stringify(body) });
const ana = { nome: "Ana Souza", email: "ana.souza@example.com", id: "reg-1" };

interface SetupOptions {
  onClaim?: () => void;
  /** Called as a claim goes back (release). */
  onRelease?: () => void;
  /** While true, every store call fails as a store that does not answer. */
  storeDown?: { value: boolean };
  checkHealth?: () => Promise<void>;
  accepted?: AcceptedSends;
  /** Called as each send starts. */
  onSend?: () => void;
  /** The transport's send timeout. */
  sendTimeoutMs?: number;
}

function setup(options: SetupOptions = {}) {
  const clock = { now: 1_000_000 };
  const sqlite = new SqliteSentEmailStore(":memory:", {
    leaseMs: LEASE_MS,
    retentionMs: 600_000,
    now: () => clock.now,
  });
  const storeCall = async <T>(call: () => Promise<T>): Promise<T> => {
    if (options.storeDown?.value) throw new EnvironmentFaultError("store", "the store does not answer");
    return call();
  };
  const store: SentEmailStore = {
    claim: async (id, digest) => {
      const result = await storeCall(() => sqlite.claim(id, digest));
      options.onClaim?.();
      return result;
    },
    markSent: (claim) => storeCall(() => sqlite.markSent(claim)),
    release: (claim) => {
      options.onRelease?.();
      return storeCall(() => sqlite.release(claim));
    },
    recordAmbiguous: (claim, attempts) => storeCall(() => sqlite.recordAmbiguous(claim, attempts)),
    forget: (digest) => sqlite.forget(digest),
    close: () => sqlite.close(),
  };
  const sent: string[] = [];
  const attempts = { value: 0 };
  const reserves = { value: 0 };
  let failure: Error | undefined;
  const sender = {
    send: async (_: Registration, id: string) => {
      attempts.value += 1;
      options.onSend?.();
      if (failure) throw failure;
      sent.push(id);
    },
    reserve: async () => {
      reserves.value += 1;
    },
    ...(options.checkHealth ? { checkHealth: options.checkHealth } : {}),
    ...(options.sendTimeoutMs ? { sendTimeoutMs: options.sendTimeoutMs } : {}),
  };
  const { logger, lines } = capturedLogger("debug");
  const counts: RegistrationCounts = { sent: 0, duplicates: 0, conflicts: 0 };
  const handle = registrationHandler(sender, {
    digestKey: testDigestKey,
    store,
    counts,
    logger,
    now: () => clock.now,
    ...(options.accepted ? { accepted: options.accepted } : {}),
  });
  const faults: EnvironmentFaultError[] = [];
  const context = {
    signal: new AbortController().signal,
    receiveCount: 1,
    environmentFault: (error: EnvironmentFaultError) => faults.push(error),
  };
  return {
    clock,
    sqlite,
    sent,
    counts,
    lines,
    context,
    faults,
    get attempts() {
      return attempts.value;
    },
    /** Send-rate tokens taken. */
    get reserves() {
      return reserves.value;
    },
    handleWith: (body: object, with_: HandlerContext) => handle(message(body), with_),
    handle: (body: object, signal = context.signal) => handle(message(body), { ...context, signal }),
    handleMessage: (received: Message) => handle(received, context),
    failWith: (error: Error | undefined) => {
      failure = error;
    },
  };
}

const bob = { nome: "Bob Lima", email: "bob.lima@example.com", id: "reg-2" };
const cid = { nome: "Cid Reis", email: "cid.reis@example.com", id: "reg-3" };

/**
 * A handler whose claims run out before their send (a long pause between the claim and the send):
 * every one ("all"), or the next `next` of them. `claims` counts every claim.
 */
function lapsing(next: number | "all", options: SetupOptions = {}) {
  const lapses = { next, claims: 0 };
  let clock: { now: number } | undefined;
  const t = setup({
    ...options,
    onClaim: () => {
      lapses.claims += 1;
      if (clock === undefined || lapses.next === 0) return;
      clock.now += LEASE_MS;
      if (lapses.next !== "all") lapses.next -= 1;
    },
  });
  clock = t.clock;
  return { t, lapses };
}

describe("registration handler with a sent-email store", () => {
  it("sends once per registration, however often the message comes", async () => {
    const t = setup();
    for (let i = 0; i < 3; i++) await t.handle(ana);
    expect(t.sent).toEqual(["reg-1"]);
    expect(t.counts).toEqual({ sent: 1, duplicates: 2, conflicts: 0 });
  });

  it("dead-letters another registration under a known id as id-conflict, logged without the address", async () => {
    const t = setup();
    await t.handle(ana);
    const other = { nome: "Bruno Lima", email: "bruno.lima@example.com", id: "reg-1" };
    const error = await t.handle(other).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PoisonMessageError);
    expect(error).toMatchObject({ reason: "id-conflict" });
    expect(t.sent).toEqual(["reg-1"]);
    expect(t.counts).toEqual({ sent: 1, duplicates: 0, conflicts: 1 });
    const logged = `${t.lines.join("")} ${(error as Error).message}`;
    expect(logged).toContain("reg-1");
    expect(logged).not.toMatch(/bruno|lima|ana|souza/i);
  });

  it("hands a message back until another consumer's claim ends, instead of retrying at once", async () => {
    const t = setup();
    await t.sqlite.claim("reg-1", registrationDigest(parseRegistration(JSON.stringify(ana)), testDigestKey));
    t.clock.now += 4_000;
    const error = await t.handle(ana).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryAfterError);
    expect((error as RetryAfterError).delaySeconds).toBe((LEASE_MS - 4_000) / 1000);
    expect(t.sent).toEqual([]);
  });

  it("gives the claim back after a send that surely did not happen, so the retry sends", async () => {
    const t = setup();
    const cause = new Error("outbox refused before writing");
    t.failWith(new NotSentError(cause));
    await expect(t.handle(ana)).rejects.toBe(cause);
    t.failWith(undefined);
    await t.handle(ana);
    expect(t.sent).toEqual(["reg-1"]);
  });

  it("S4: an ambiguous end pauses (a mailer fault), and the second copy waits until the server accepted an email", async () => {
    const t = setup();
    const bruno = { nome: "Bruno Lima", email: "bruno.lima@example.com", id: "reg-2" };
    t.failWith(new Error("SMTP timeout after DATA"));
    await expect(t.handle(ana)).rejects.toMatchObject({ name: "EnvironmentFaultError", component: "mailer" });
    t.failWith(undefined);
    t.clock.now += 1_000;
    // No server seen healthy since, and no health check on this sender: nothing is sent.
    await expect(t.handle(ana)).rejects.toMatchObject({ name: "EnvironmentFaultError", component: "mailer" });
    expect(t.sent).toEqual([]);
    // Another registration's first send is accepted: the server is healthy, the second copy goes.
    t.clock.now += 1_000;
    await t.handle(bruno);
    await t.handle(ana);
    expect(t.sent).toEqual(["reg-2", "reg-1"]);
    expect(t.counts).toMatchObject({ sent: 2, secondSends: 1 });
    await t.handle(ana); // recorded: a duplicate now
    expect(t.sent).toEqual(["reg-2", "reg-1"]);
  });

  it("S5: with a health check, the second copy goes once the check is accepted, never while it fails", async () => {
    let healthy = false;
    let checks = 0;
    const t = setup({
      checkHealth: async () => {
        checks += 1;
        if (!healthy) throw new Error("connection lost after DATA");
      },
    });
    t.failWith(new Error("connection lost after DATA"));
    await expect(t.handle(ana)).rejects.toBeInstanceOf(EnvironmentFaultError);
    t.failWith(undefined);
    for (let i = 0; i < 3; i++) {
      t.clock.now += 1_000;
      await expect(t.handle(ana)).rejects.toBeInstanceOf(EnvironmentFaultError);
    }
    expect(t.sent).toEqual([]);
    expect(checks).toBe(3);
    healthy = true;
    t.clock.now += 1_000;
    await t.handle(ana);
    expect(t.sent).toEqual(["reg-1"]);
    expect(t.counts.secondSends).toBe(1);
  });

  it("S5: a sender without a health check sends the second copy as the breaker's probe, never a third", async () => {
    const t = setup();
    t.failWith(new Error("connection lost after DATA"));
    await expect(t.handle(ana)).rejects.toBeInstanceOf(EnvironmentFaultError);
    t.clock.now += 1_000;
    const probe = (body: object) => t.handle(body).catch((e: unknown) => e);
    // Not a probe: it waits.
    expect(await probe(ana)).toBeInstanceOf(EnvironmentFaultError);
    expect(t.sent).toEqual([]);
    // The probe: the second copy goes (and ends ambiguously again).
    const asProbe = { ...t.context, probe: true };
    const handleAsProbe = () => t.handleWith(ana, asProbe).catch((e: unknown) => e);
    expect(await handleAsProbe()).toBeInstanceOf(EnvironmentFaultError);
    t.failWith(undefined);
    t.clock.now += 1_000;
    // A third copy waits, even as a probe, until an email is accepted after the second.
    expect(await handleAsProbe()).toBeInstanceOf(EnvironmentFaultError);
    expect(t.sent).toEqual([]);
    expect(t.attempts).toBe(2);
  });

  it("S12/S8: an ambiguous end the store could not record holds the message until its own claim lapses", async () => {
    const storeDown = { value: false };
    const t = setup({
      storeDown,
      onSend: () => {
        storeDown.value = true;
      },
    });
    // The send ends ambiguously while the store is down: the attempt cannot be recorded.
    t.failWith(new Error("SMTP timeout after DATA"));
    await expect(t.handle(ana)).rejects.toBeInstanceOf(EnvironmentFaultError);
    storeDown.value = false;
    t.failWith(undefined);
    t.clock.now += 2_000;
    const held = await t.handle(ana).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(HoldError);
    expect((held as HoldError).delayMs).toBeGreaterThan(LEASE_MS - 2_000 - 1);
    expect(t.sent).toEqual([]);
  });

  it("S9: a 250 whose record fails is kept, retried while the store is down, and never sent again", async () => {
    const storeDown = { value: false };
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const t = setup({ storeDown, accepted: new AcceptedSends(dir) });
    const original = t.sqlite.markSent.bind(t.sqlite);
    let marks = 0;
    t.sqlite.markSent = async (claim) => {
      marks += 1;
      if (marks === 1) {
        storeDown.value = true; // down from the first markSent on, back 1.5 s later
        setTimeout(() => {
          storeDown.value = false;
        }, 1_500);
        throw new EnvironmentFaultError("store", "the store does not answer");
      }
      return original(claim);
    };
    const run = t.handle(ana);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // While it retries, the fact is on disk and the runtime has been told of the fault.
    expect(await acceptedOnDisk(dir)).toEqual(["reg-1"]);
    await run;
    expect(t.faults.length).toBeGreaterThan(0);
    expect(t.sent).toEqual(["reg-1"]);
    expect(t.counts).toMatchObject({ sent: 1, recordedLate: 1 });
    expect(await acceptedOnDisk(dir)).toEqual([]);
    await t.handle(ana);
    expect(t.sent).toEqual(["reg-1"]);
  });

  it("S10: a consumer restarted on the same state folder records its predecessor's 250 and sends nothing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const storeDown = { value: false };
    const first = setup({ storeDown, accepted: new AcceptedSends(dir) });
    const stop = new AbortController();
    const markSent = first.sqlite.markSent.bind(first.sqlite);
    first.sqlite.markSent = async () => {
      stop.abort(); // killed at its shutdown deadline while the store is down
      throw new EnvironmentFaultError("store", "the store does not answer");
    };
    await expect(first.handle(ana, stop.signal)).rejects.toBeInstanceOf(EnvironmentFaultError);
    await endOfTurn(); // the process ends after the turn that accepted (its facts are written then)
    expect(first.sent).toEqual(["reg-1"]);
    // The next consumer: the same store (the record is still "sending"), a fresh handler.
    // Read back on the handlers' clock: a fact is kept until the record retention has passed.
    const second = setup({ accepted: new AcceptedSends(dir, undefined, { now: () => first.clock.now }) });
    const digest = registrationDigest(parseRegistration(JSON.stringify(ana)), testDigestKey);
    const lapsed = await first.sqlite.claim("reg-1", digest);
    expect(lapsed.outcome).toBe("in-progress");
    second.sqlite.markSent = markSent;
    second.sqlite.claim = (id, d) => first.sqlite.claim(id, d);
    await second.handle(ana);
    expect(second.sent).toEqual([]);
    expect(await first.sqlite.claim("reg-1", digest)).toEqual({ outcome: "already-sent" });
    expect(await acceptedOnDisk(dir)).toEqual([]);
  });

  it("S9: a message carrying a signed accepted-send fact (a Lambda copy) is recorded, kept while the store is down, and never sent", async () => {
    const storeDown = { value: false };
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    const t = setup({ storeDown, accepted: new AcceptedSends(dir) });
    const digest = registrationDigest(parseRegistration(JSON.stringify(ana)), testDigestKey);
    const claimed = await t.sqlite.claim("reg-1", digest);
    if (claimed.outcome !== "claimed") throw new Error("not claimed");
    const { owner, leaseUntil } = claimed.claim;
    const copy = {
      ...message(ana),
      MessageAttributes: {
        [ACCEPTED_SEND_ATTRIBUTE]: acceptedSendAttribute(
          { id: "reg-1", digest, owner, leaseUntil, acceptedAt: t.clock.now },
          testDigestKey,
        ),
      },
    };
    storeDown.value = true;
    const held = t.handleMessage(copy);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Kept like a 250 of its own while the store is down: on disk, the runtime told of the fault.
    expect(await acceptedOnDisk(dir)).toEqual(["reg-1"]);
    expect(t.faults.length).toBeGreaterThan(0);
    storeDown.value = false;
    await held;
    expect(t.sent).toEqual([]);
    expect(await t.sqlite.claim("reg-1", digest)).toEqual({ outcome: "already-sent" });
    expect(t.counts).toMatchObject({ sent: 0, recordedLate: 1 });
    expect(await acceptedOnDisk(dir)).toEqual([]);
  });

  it("S16: checks the lease right before sending: a claim that ran out sends nothing, and is claimed again at once", async () => {
    const { t, lapses } = lapsing(1); // the first claim only
    await t.handle(ana); // the same run: no receive spent on our own slowness
    expect(lapses.claims).toBe(2);
    expect(t.attempts).toBe(1);
    expect(t.reserves).toBe(1); // the token of the send that did not start is the one used
    expect(t.counts.leaseLapses).toBe(1);
    expect(t.sent).toEqual(["reg-1"]);
    expect(t.counts.sent).toBe(1);
    expect(await t.sqlite.claim("reg-1", registrationDigest(ana, testDigestKey))).toEqual({
      outcome: "already-sent",
    });
    expect(t.lines.filter((line) => line.includes("claiming again"))).toHaveLength(1);
  });

  it(`S16: a claim that runs out ${LEASE_LAPSES_MAX} times in a row is a fault of the store: nothing sent, the claim given back`, async () => {
    const { t, lapses } = lapsing("all");
    const error = await t.handle(ana).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentFaultError);
    expect((error as EnvironmentFaultError).component).toBe("store");
    expect((error as Error).cause).toBeInstanceOf(SendNotStartedError);
    expect(((error as Error).cause as SendNotStartedError).why).toBe("lease-ran-out");
    expect(lapses.claims).toBe(LEASE_LAPSES_MAX);
    expect(t.attempts).toBe(0);
    expect(t.reserves).toBe(1);
    // Thrown, for the runtime to pause on: not reported as a fault worked through.
    expect(t.faults).toEqual([]);
    expect(t.lines.filter((line) => line.includes("claiming again"))).toHaveLength(LEASE_LAPSES_MAX - 1);
    // Given back each time: claimable again at once.
    expect(await t.sqlite.claim("reg-1", registrationDigest(ana, testDigestKey))).toMatchObject({
      outcome: "claimed",
    });
  });

  it("S16: lapses count across messages: a store slow for all of them is a fault at the next lapse, until a run ends in a send", async () => {
    const { t, lapses } = lapsing("all");
    await expect(t.handle(ana)).rejects.toBeInstanceOf(EnvironmentFaultError);
    lapses.claims = 0;
    // The streak goes on: the next message's first lapse is a fault already.
    await expect(t.handle(bob)).rejects.toBeInstanceOf(EnvironmentFaultError);
    expect(lapses.claims).toBe(1);
    // A run that ends in a send ends the streak: a later lapse is claimed again, and sent.
    lapses.next = 0;
    await t.handle(bob);
    lapses.next = 1;
    lapses.claims = 0;
    await t.handle(cid);
    expect(lapses.claims).toBe(2);
    expect(t.sent).toEqual(["reg-2", "reg-3"]);
  });

  it("S16: a stop while the lapsed claim goes back claims nothing more: the claim stays given back", async () => {
    const abort = new AbortController();
    // The shutdown deadline, during the give-back.
    const { t, lapses } = lapsing("all", { onRelease: () => abort.abort() });
    await expect(t.handle(ana, abort.signal)).rejects.toMatchObject({
      name: "SendNotStartedError",
      why: "stopping",
    });
    expect(lapses.claims).toBe(1);
    expect(t.attempts).toBe(0);
    expect(await t.sqlite.claim("reg-1", registrationDigest(ana, testDigestKey))).toMatchObject({
      outcome: "claimed",
    });
  });

  it("S16: a run the store answered in time ends the streak: a duplicate's, not only a send's", async () => {
    const { t, lapses } = lapsing(0);
    await t.handle(ana); // sent: a duplicate of it later answers "already-sent"
    lapses.next = "all";
    await expect(t.handle(bob)).rejects.toBeInstanceOf(EnvironmentFaultError);
    lapses.next = 0;
    await t.handle(ana); // a duplicate, answered in time
    expect(t.counts.duplicates).toBe(1);
    lapses.next = 1;
    lapses.claims = 0;
    await t.handle(bob); // one lapse, claimed again: the streak began anew
    expect(lapses.claims).toBe(2);
    expect(t.sent).toEqual(["reg-1", "reg-2"]);
  });

  it("docs/email-delivery.md's row S16 states the lapses in a row that make a fault of the store", () => {
    const page = readFileSync(join(projectRoot, "docs", "email-delivery.md"), "utf8");
    const row = page.split("\n").find((line) => line.startsWith("| S16 |")) ?? "";
    expect(row).toContain(`after ${LEASE_LAPSES_MAX} in a row (\`LEASE_LAPSES_MAX\`)`);
  });

  it("starts no send once the consumer is stopping", async () => {
    const t = setup();
    const abort = new AbortController();
    abort.abort();
    await expect(t.handle(ana, abort.signal)).rejects.toMatchObject({
      name: "SendNotStartedError",
      why: "stopping",
    });
    expect(t.sent).toEqual([]);
    await t.handle(ana); // the claim was given back
    expect(t.sent).toEqual(["reg-1"]);
  });

  it("starts no send that could end after the run's deadline (a Lambda invocation's); the claim goes back", async () => {
    const t = setup({ sendTimeoutMs: 1_000 });
    const by = (deadline: number) => t.handleWith(ana, { ...t.context, deadline });
    await expect(by(t.clock.now + 1_000)).rejects.toMatchObject({
      name: "SendNotStartedError",
      why: "deadline",
    });
    expect(t.sent).toEqual([]);
    await by(t.clock.now + 1_001); // the claim was given back: claimed again at once, and sent
    expect(t.sent).toEqual(["reg-1"]);
  });

  it("gives a registration without an id the keyed default id", async () => {
    const t = setup();
    await t.handle({ nome: ana.nome, email: ana.email });
    expect(t.sent).toEqual([registrationIdFor(ana, testDigestKey)]);
  });
});
