import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { NotSentError, PoisonMessageError, RetryAfterError } from "../../src/consumer/errors.js";
import {
  ClaimLapsedError,
  type RegistrationCounts,
  registrationHandler,
} from "../../src/consumer/registration-handler.js";
import type { SentEmailStore } from "../../src/consumer/store/contract.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import { registrationDigest, registrationIdFor } from "../../src/contract/digest.js";
import { parseRegistration, type Registration } from "../../src/contract/registration.js";
import { testDigestKey } from "../support/digest-key.js";

const LEASE_MS = 10_000;
const message = (body: object) => ({ MessageId: "m-1", Body: JSON.stringify(body) });
const ana = { nome: "Ana Souza", email: "ana.souza@example.com", id: "reg-1" };

function setup(options: { onClaim?: () => void } = {}) {
  const clock = { now: 1_000_000 };
  const sqlite = new SqliteSentEmailStore(":memory:", {
    leaseMs: LEASE_MS,
    retentionMs: 600_000,
    now: () => clock.now,
  });
  const store: SentEmailStore = {
    claim: async (id, digest) => {
      const result = await sqlite.claim(id, digest);
      options.onClaim?.();
      return result;
    },
    markSent: (claim) => sqlite.markSent(claim),
    release: (claim) => sqlite.release(claim),
    forget: (digest) => sqlite.forget(digest),
    close: () => sqlite.close(),
  };
  const sent: string[] = [];
  let failure: Error | undefined;
  const sender = {
    send: async (_: Registration, id: string) => {
      if (failure) throw failure;
      sent.push(id);
    },
  };
  const lines: string[] = [];
  const logger = pino(
    { level: "debug" },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  const counts: RegistrationCounts = { sent: 0, duplicates: 0, conflicts: 0 };
  const handle = registrationHandler(sender, {
    digestKey: testDigestKey,
    store,
    counts,
    logger,
    now: () => clock.now,
  });
  const context = { signal: new AbortController().signal, receiveCount: 1 };
  return {
    clock,
    sqlite,
    sent,
    counts,
    lines,
    context,
    handle: (body: object, signal = context.signal) => handle(message(body), { ...context, signal }),
    failWith: (error: Error | undefined) => {
      failure = error;
    },
  };
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

  it("leaves the claim to lapse after an ambiguous failure (the email may have left)", async () => {
    const t = setup();
    t.failWith(new Error("SMTP timeout after DATA"));
    await expect(t.handle(ana)).rejects.toThrow("SMTP timeout");
    t.failWith(undefined);
    await expect(t.handle(ana)).rejects.toBeInstanceOf(RetryAfterError);
    t.clock.now += LEASE_MS + 1; // a lease is taken over once it has passed
    await t.handle(ana);
    expect(t.sent).toEqual(["reg-1"]);
  });

  it("checks the lease right before sending: a claim that ran out sends nothing", async () => {
    let clock: { now: number } | undefined;
    const t = setup({
      onClaim: () => {
        if (clock) clock.now += LEASE_MS; // a long pause between the claim and the send
      },
    });
    clock = t.clock;
    await expect(t.handle(ana)).rejects.toBeInstanceOf(ClaimLapsedError);
    expect(t.sent).toEqual([]);
  });

  it("starts no send once the consumer is stopping", async () => {
    const t = setup();
    const abort = new AbortController();
    abort.abort();
    await expect(t.handle(ana, abort.signal)).rejects.toBeInstanceOf(ClaimLapsedError);
    expect(t.sent).toEqual([]);
    await t.handle(ana); // the claim was given back
    expect(t.sent).toEqual(["reg-1"]);
  });

  it("gives a registration without an id the keyed default id", async () => {
    const t = setup();
    await t.handle({ nome: ana.nome, email: ana.email });
    expect(t.sent).toEqual([registrationIdFor(ana, testDigestKey)]);
  });
});
