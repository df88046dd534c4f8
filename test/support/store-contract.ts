/**
 * The sent-email store contract as one suite, run against every implementation (SQLite here; a
 * DynamoDB store calls it the same way). Time is injected: `clock.now` moves only when a test
 * moves it.
 */
import { describe, expect, it } from "vitest";
import { type SentEmailStore, StaleClaimError, type StoreTiming } from "../../src/consumer/store/contract.js";

export interface Clock {
  now: number;
}

export const contractTiming = { leaseMs: 1_000, retentionMs: 60_000 } as const;

export function sentEmailStoreContract(
  name: string,
  open: (timing: StoreTiming & { now: () => number }) => Promise<SentEmailStore>,
): void {
  describe(`sent-email store contract: ${name}`, () => {
    async function fresh() {
      const clock: Clock = { now: 1_000_000 };
      const store = await open({ ...contractTiming, now: () => clock.now });
      return { clock, store };
    }

    it("lets one claimant send; the rest see it in progress (with its lease end), then sent", async () => {
      const { clock, store } = await fresh();
      const first = await store.claim("a", "d1");
      if (first.outcome !== "claimed") throw new Error(`expected a claim, got ${first.outcome}`);
      expect(first.claim).toMatchObject({
        id: "a",
        digest: "d1",
        leaseUntil: clock.now + contractTiming.leaseMs,
      });
      expect(await store.claim("a", "d1")).toEqual({
        outcome: "in-progress",
        leaseUntil: clock.now + contractTiming.leaseMs,
      });
      await store.markSent(first.claim);
      expect(await store.claim("a", "d1")).toEqual({ outcome: "already-sent" });
      clock.now += contractTiming.leaseMs * 10; // a sent record has no lease to lapse
      expect(await store.claim("a", "d1")).toEqual({ outcome: "already-sent" });
      await store.close();
    });

    it("reports a known id with another digest as a conflict, sending or sent, lapsed or not", async () => {
      const { clock, store } = await fresh();
      const first = await store.claim("b", "d1");
      expect(await store.claim("b", "d2")).toEqual({ outcome: "conflict" });
      clock.now += contractTiming.leaseMs + 1;
      expect(await store.claim("b", "d2")).toEqual({ outcome: "conflict" });
      if (first.outcome === "claimed") await expect(store.markSent(first.claim)).resolves.toBeUndefined();
      expect(await store.claim("b", "d2")).toEqual({ outcome: "conflict" });
      await store.close();
    });

    it("hands a lapsed lease over, and fences the old holder's writes", async () => {
      const { clock, store } = await fresh();
      const old = await store.claim("c", "d1");
      clock.now += contractTiming.leaseMs; // lapses at leaseUntil
      const taken = await store.claim("c", "d1");
      if (old.outcome !== "claimed" || taken.outcome !== "claimed") throw new Error("expected two claims");
      expect(taken.claim.owner).not.toBe(old.claim.owner);
      await expect(store.markSent(old.claim)).rejects.toThrow(StaleClaimError);
      await expect(store.release(old.claim)).rejects.toThrow(StaleClaimError);
      await store.markSent(taken.claim);
      expect(await store.claim("c", "d1")).toEqual({ outcome: "already-sent" });
      await store.close();
    });

    it("treats an expired record as absent, whatever its digest", async () => {
      const { clock, store } = await fresh();
      const first = await store.claim("e", "d1");
      if (first.outcome === "claimed") await store.markSent(first.claim);
      clock.now += contractTiming.retentionMs;
      expect((await store.claim("e", "d2")).outcome).toBe("claimed");
      await store.close();
    });

    it("gives a released claim back, and only the holder can release it", async () => {
      const { store } = await fresh();
      const first = await store.claim("r", "d1");
      if (first.outcome !== "claimed") throw new Error("expected a claim");
      await store.release(first.claim);
      await expect(store.release(first.claim)).rejects.toThrow(StaleClaimError);
      expect((await store.claim("r", "d1")).outcome).toBe("claimed");
      await store.close();
    });
  });
}
