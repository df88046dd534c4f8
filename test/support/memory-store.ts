/**
 * The store contract in its plainest form: a Map shared by every store made from one
 * `memoryBackend()`, as a table is shared by a fleet. The reference the contract suite is checked
 * against, and a fake for handler tests that need a store without a server.
 */
import { randomUUID } from "node:crypto";
import {
  type Claim,
  type ClaimResult,
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
      const claim: Claim = { id, digest, owner: randomUUID(), leaseUntil: now + this.timing.leaseMs };
      this.records.set(id, { ...claim, state: "sending", expiresAt: now + this.timing.retentionMs });
      return { outcome: "claimed", claim };
    }
    if (old.digest !== digest) return { outcome: "conflict" };
    if (old.state === "sent") return { outcome: "already-sent" };
    return { outcome: "in-progress", leaseUntil: old.leaseUntil };
  }

  async markSent(claim: Claim): Promise<void> {
    const record = this.records.get(claim.id);
    if (record?.owner !== claim.owner) throw new StaleClaimError(claim.id);
    this.records.set(claim.id, { ...record, state: "sent", expiresAt: this.now() + this.timing.retentionMs });
  }

  async release(claim: Claim): Promise<void> {
    this.fenced(claim);
    this.records.delete(claim.id);
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
