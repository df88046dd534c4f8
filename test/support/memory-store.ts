/**
 * The store contract in its plainest form: a Map shared by every store made from one
 * `memoryBackend()`, as a table is shared by a fleet. The reference the contract suite is checked
 * against, and a fake for handler tests that need a store without a server.
 */
import { randomUUID } from "node:crypto";
import {
  type AmbiguousAttempts,
  type Claim,
  type ClaimResult,
  RELEASED_OWNER,
  type SentEmailRecord,
  type SentEmailStore,
  StaleClaimError,
  type StoreTiming,
} from "../../src/consumer/store/contract.js";

export function memoryBackend(): {
  records: Map<string, SentEmailRecord>;
  makeStore(timing: StoreTiming): SentEmailStore;
} {
  const records = new Map<string, SentEmailRecord>();
  return { records, makeStore: (timing) => new MemorySentEmailStore(records, timing) };
}

export class MemorySentEmailStore implements SentEmailStore {
  private readonly now: () => number;
  constructor(
    private readonly records: Map<string, SentEmailRecord>,
    private readonly timing: StoreTiming,
  ) {
    this.now = timing.now ?? Date.now;
  }

  async claim(id: string, digest: string): Promise<ClaimResult> {
    const now = this.now();
    const old = this.records.get(id);
    const free =
      old === undefined ||
      old.expiresAt < now ||
      (old.state === "sending" && old.leaseUntil < now && old.digest === digest);
    if (free) {
      const carried = old !== undefined && old.expiresAt >= now ? attemptsOf(old) : undefined;
      const claim: Claim = {
        id,
        digest,
        owner: randomUUID(),
        leaseUntil: now + this.timing.leaseMs,
        ...(carried ? { ambiguous: carried } : {}),
      };
      this.records.set(id, {
        id,
        digest,
        owner: claim.owner,
        leaseUntil: claim.leaseUntil,
        state: "sending",
        expiresAt: now + this.timing.retentionMs,
        ...(carried ? { ambiguousAttempts: carried.attempts, lastAmbiguousAt: carried.lastAt } : {}),
      });
      return { outcome: "claimed", claim };
    }
    if (old.digest !== digest) return { outcome: "conflict" };
    if (old.state === "sent") return { outcome: "already-sent" };
    return { outcome: "in-progress", leaseUntil: old.leaseUntil, owner: old.owner };
  }

  async markSent(claim: Claim): Promise<void> {
    const record = this.records.get(claim.id);
    if (record?.owner !== claim.owner) throw new StaleClaimError(claim.id);
    this.records.set(claim.id, { ...record, state: "sent", expiresAt: this.now() + this.timing.retentionMs });
  }

  async release(claim: Claim): Promise<void> {
    const record = this.fenced(claim);
    if (claim.ambiguous === undefined) this.records.delete(claim.id);
    else this.lapse(record, RELEASED_OWNER, claim.ambiguous);
  }

  async recordAmbiguous(claim: Claim, attempts: AmbiguousAttempts): Promise<void> {
    this.lapse(this.fenced(claim), claim.owner, attempts);
  }

  private lapse(record: SentEmailRecord, owner: string, attempts: AmbiguousAttempts): void {
    this.records.set(record.id, {
      ...record,
      owner,
      leaseUntil: 0,
      ambiguousAttempts: attempts.attempts,
      lastAmbiguousAt: attempts.lastAt,
    });
  }

  async forget(digest: string): Promise<number> {
    let deleted = 0;
    for (const [id, record] of this.records) {
      if (record.digest === digest && this.records.delete(id)) deleted += 1;
    }
    return deleted;
  }

  async close(): Promise<void> {}

  private fenced(claim: Claim): SentEmailRecord {
    const record = this.records.get(claim.id);
    if (record?.owner !== claim.owner || record.state !== "sending") throw new StaleClaimError(claim.id);
    return record;
  }
}

function attemptsOf(record: SentEmailRecord): AmbiguousAttempts | undefined {
  if (!record.ambiguousAttempts) return undefined;
  return { attempts: record.ambiguousAttempts, lastAt: record.lastAmbiguousAt ?? 0 };
}
