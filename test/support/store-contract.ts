/**
 * The sent-email store's contract (src/consumer/store/contract.ts) as one suite, run against
 * every implementation:
 *
 *   describeStoreContract("dynamodb", (timing) => makeDynamoStore(timing));
 *   describeStoreContract("sqlite", (timing) => makeSqliteStore(timing));
 *
 * `makeStore` may be called several times in one test: every store it makes must share the same
 * data (as the consumers of a fleet share one table), each with its own owner tokens. Each test
 * uses fresh ids, so the data may also be shared across tests. The clock is injected: tests move
 * it, never sleep.
 */
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import {
  type Claim,
  type ClaimResult,
  type SentEmailStore,
  StaleClaimError,
  type StoreTiming,
} from "../../src/consumer/store/contract.js";

export type MakeStore = (timing: StoreTiming) => Promise<SentEmailStore>;

export const contractTiming = {
  leaseMs: 30_000,
  /** Main retention + dead-letter retention + a margin, as the real settings give. */
  retentionMs: 20 * 24 * 3_600_000,
} as const;

/** Stores may keep expiry in whole seconds (DynamoDB's TTL does): tests step past by this. */
const EXPIRY_SLACK_MS = 2_000;

const DIGEST_A = "a".repeat(64);
const DIGEST_B = "b".repeat(64);

export function describeStoreContract(name: string, makeStore: MakeStore): void {
  describe(`sent-email store contract: ${name}`, () => {
    let now = Date.UTC(2026, 0, 1);
    const open: SentEmailStore[] = [];
    const timing: StoreTiming = { ...contractTiming, now: () => now };
    const store = async () => {
      const made = await makeStore(timing);
      open.push(made);
      return made;
    };
    const freshId = () => `reg-${randomUUID()}`;
    const claimed = (result: ClaimResult): Claim => {
      if (result.outcome !== "claimed") throw new Error(`expected a claim, got ${JSON.stringify(result)}`);
      return result.claim;
    };

    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
      now += 365 * 24 * 3_600_000; // the next test starts on a clean clock, far from this one's records
    });

    it("claims an absent id for its holder, then reports it already sent once marked", async () => {
      const [a, b] = [await store(), await store()];
      const id = freshId();
      const claim = claimed(await a.claim(id, DIGEST_A));
      expect(claim).toMatchObject({ id, digest: DIGEST_A, leaseUntil: now + contractTiming.leaseMs });
      expect(claim.owner).toEqual(expect.any(String));
      expect(claim.owner.length).toBeGreaterThan(0);
      await a.markSent(claim);
      expect(await a.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
      expect(await b.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
      now += contractTiming.leaseMs * 10;
      expect(await b.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" }); // sent has no lease
    });

    it("reports a live claim as in progress, with the holder's leaseUntil, to everyone", async () => {
      const [a, b] = [await store(), await store()];
      const id = freshId();
      const claim = claimed(await a.claim(id, DIGEST_A));
      now += 1_000;
      const live = { outcome: "in-progress", leaseUntil: claim.leaseUntil, owner: claim.owner };
      expect(await b.claim(id, DIGEST_A)).toEqual(live);
      expect(await a.claim(id, DIGEST_A)).toEqual(live);
      now = claim.leaseUntil; // not yet passed
      expect(await b.claim(id, DIGEST_A)).toEqual(live);
    });

    it("lets another consumer take over once the lease has passed, with a new owner and lease", async () => {
      const [a, b] = [await store(), await store()];
      const id = freshId();
      const first = claimed(await a.claim(id, DIGEST_A));
      now = first.leaseUntil + 1;
      const second = claimed(await b.claim(id, DIGEST_A));
      expect(second.owner).not.toBe(first.owner);
      expect(second.leaseUntil).toBe(now + contractTiming.leaseMs);
      expect(await a.claim(id, DIGEST_A)).toEqual({
        outcome: "in-progress",
        leaseUntil: second.leaseUntil,
        owner: second.owner,
      });
    });

    it("treats an expired record as absent, whatever its digest or state", async () => {
      const [a, b] = [await store(), await store()];
      const sentId = freshId();
      const sendingId = freshId();
      await a.markSent(claimed(await a.claim(sentId, DIGEST_A)));
      claimed(await a.claim(sendingId, DIGEST_A));
      now += contractTiming.retentionMs - EXPIRY_SLACK_MS;
      expect(await b.claim(sentId, DIGEST_A)).toEqual({ outcome: "already-sent" });
      expect(await b.claim(sentId, DIGEST_B)).toEqual({ outcome: "conflict" });
      now += 2 * EXPIRY_SLACK_MS;
      expect(claimed(await b.claim(sentId, DIGEST_B)).digest).toBe(DIGEST_B);
      expect(claimed(await b.claim(sendingId, DIGEST_B)).digest).toBe(DIGEST_B);
    });

    it("answers conflict for a known id with another digest: sent, in progress, or lapsed", async () => {
      const [a, b] = [await store(), await store()];
      const [sent, sending, lapsed] = [freshId(), freshId(), freshId()];
      await a.markSent(claimed(await a.claim(sent, DIGEST_A)));
      claimed(await a.claim(sending, DIGEST_A));
      const old = claimed(await a.claim(lapsed, DIGEST_A));
      expect(await b.claim(sent, DIGEST_B)).toEqual({ outcome: "conflict" });
      expect(await b.claim(sending, DIGEST_B)).toEqual({ outcome: "conflict" });
      now = old.leaseUntil + 1;
      expect(await b.claim(lapsed, DIGEST_B)).toEqual({ outcome: "conflict" });
      // The registration that owns the id still gets its email.
      claimed(await b.claim(lapsed, DIGEST_A));
    });

    it("fences a holder whose claim was taken over: its markSent and release throw StaleClaimError", async () => {
      const [a, b] = [await store(), await store()];
      const id = freshId();
      const paused = claimed(await a.claim(id, DIGEST_A));
      now = paused.leaseUntil + 1;
      const current = claimed(await b.claim(id, DIGEST_A));
      await expect(a.markSent(paused)).rejects.toBeInstanceOf(StaleClaimError);
      await expect(a.release(paused)).rejects.toMatchObject({ name: "StaleClaimError", registrationId: id });
      // The late writes changed nothing: the new holder's claim stands.
      expect(await a.claim(id, DIGEST_A)).toEqual({
        outcome: "in-progress",
        leaseUntil: current.leaseUntil,
        owner: current.owner,
      });
      await b.markSent(current);
      expect(await a.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
      await expect(a.markSent(paused)).rejects.toBeInstanceOf(StaleClaimError);
    });

    it("lets a holder mark its own claim twice (a retried markSent), and nobody else's", async () => {
      const [a, b] = [await store(), await store()];
      const id = freshId();
      const claim = claimed(await a.claim(id, DIGEST_A));
      await a.markSent(claim);
      await a.markSent(claim);
      await expect(b.markSent({ ...claim, owner: "someone-else" })).rejects.toBeInstanceOf(StaleClaimError);
      expect(await b.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
    });

    it("lets a holder mark its send after the lease passed when nobody took over", async () => {
      const a = await store();
      const id = freshId();
      const claim = claimed(await a.claim(id, DIGEST_A));
      now = claim.leaseUntil + 1_000;
      await a.markSent(claim);
      expect(await a.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
    });

    it("frees a released claim at once, and a released claim can no longer be marked", async () => {
      const [a, b] = [await store(), await store()];
      const id = freshId();
      const first = claimed(await a.claim(id, DIGEST_A));
      await a.release(first);
      await expect(a.markSent(first)).rejects.toBeInstanceOf(StaleClaimError);
      const second = claimed(await b.claim(id, DIGEST_A));
      await expect(a.release(first)).rejects.toBeInstanceOf(StaleClaimError);
      await b.markSent(second);
      expect(await a.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
    });

    it("gives one claim among many concurrent claimants of several stores", async () => {
      const stores = await Promise.all([store(), store(), store(), store()]);
      const id = freshId();
      const results = await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          (stores[i % stores.length] as SentEmailStore).claim(id, DIGEST_A),
        ),
      );
      const winners = results.filter((r) => r.outcome === "claimed");
      expect(winners).toHaveLength(1);
      const { leaseUntil, owner } = claimed(winners[0] as ClaimResult);
      for (const r of results)
        if (r.outcome !== "claimed") expect(r).toEqual({ outcome: "in-progress", leaseUntil, owner });
    });

    it("S4: records an ambiguous send on its claim (fenced), lapses the lease, and the next holder learns the attempts", async () => {
      const [a, b] = [await store(), await store()];
      const id = freshId();
      const first = claimed(await a.claim(id, DIGEST_A));
      expect(first.ambiguous).toBeUndefined();
      now += 5_000;
      await a.recordAmbiguous(first, { attempts: 1, lastAt: now });
      // The lease lapsed at once: another consumer may claim (a second copy waits for the server).
      const second = claimed(await b.claim(id, DIGEST_A));
      expect(second.ambiguous).toEqual({ attempts: 1, lastAt: now });
      await expect(a.recordAmbiguous(first, { attempts: 2, lastAt: now })).rejects.toBeInstanceOf(
        StaleClaimError,
      );
      // Released with its attempts: they stay for the next holder, and the released claim is void.
      await b.release(second);
      await expect(b.markSent(second)).rejects.toBeInstanceOf(StaleClaimError);
      const third = claimed(await a.claim(id, DIGEST_A));
      expect(third.ambiguous).toEqual({ attempts: 1, lastAt: now });
      await a.recordAmbiguous(third, { attempts: 2, lastAt: now + 1 });
      const fourth = claimed(await b.claim(id, DIGEST_A));
      expect(fourth.ambiguous).toEqual({ attempts: 2, lastAt: now + 1 });
      await b.markSent(fourth);
      expect(await a.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
    });

    it("S4: an expired record's ambiguous attempts do not carry over", async () => {
      const a = await store();
      const id = freshId();
      await a.recordAmbiguous(claimed(await a.claim(id, DIGEST_A)), { attempts: 1, lastAt: now });
      now += contractTiming.retentionMs + EXPIRY_SLACK_MS;
      expect(claimed(await a.claim(id, DIGEST_A)).ambiguous).toBeUndefined();
    });

    it("forgets every record of one digest, sent or sending, and no other", async () => {
      const [a, b] = [await store(), await store()];
      const person = randomUUID().replaceAll("-", "").padEnd(64, "0");
      const [sent, sending, other] = [freshId(), freshId(), freshId()];
      await a.markSent(claimed(await a.claim(sent, person)));
      claimed(await a.claim(sending, person));
      await a.markSent(claimed(await a.claim(other, DIGEST_B)));
      expect(await b.forget(person)).toBe(2);
      expect(await b.forget(person)).toBe(0);
      // Gone: the ids are free again (a resend would email once more), the other person untouched.
      claimed(await a.claim(sent, person));
      claimed(await b.claim(sending, person));
      expect(await b.claim(other, DIGEST_B)).toEqual({ outcome: "already-sent" });
    });

    it("closes, and what it recorded stays for the next store", async () => {
      const a = await store();
      const id = freshId();
      await a.markSent(claimed(await a.claim(id, DIGEST_A)));
      await a.close();
      await a.close(); // twice is harmless
      const b = await store();
      expect(await b.claim(id, DIGEST_A)).toEqual({ outcome: "already-sent" });
    });
  });
}
