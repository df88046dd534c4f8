/**
 * The sent-email store's contract: one record per registration id, the same in every
 * implementation (SQLite on one machine, DynamoDB for a fleet). A consumer claims the id before
 * sending, marks it sent after, and only then deletes the message, so a second delivery of the
 * same registration sends nothing.
 *
 * - The record is bound to the registration's content by `digest` (a keyed HMAC over the
 *   normalised `nome` and `email`, see `contract/digest.ts`): whoever sends chooses the id, so a
 *   known id with another digest is a conflict, never a duplicate.
 * - Every write after the claim is fenced by `owner`: a holder paused past its lease (GC pause,
 *   frozen container) cannot mark or release a record another consumer has taken over.
 * - The lease is fixed (no renewal): a send is bounded by the mail transport's timeout, and the
 *   lease is that timeout plus a margin.
 * - A record past `expiresAt` counts as absent in the claim itself: DynamoDB's TTL deletion lags
 *   by up to days, and local servers have none.
 */

/** What a store keeps per registration id. Times are epoch milliseconds. */
export interface SentEmailRecord {
  /** The registration id (checked by the contract: a strict character set, at most 128). */
  readonly id: string;
  /** Keyed digest of the registration's normalised `nome` and `email` (hex). */
  readonly digest: string;
  readonly state: "sending" | "sent";
  /** Random token of the consumer holding (or that held) the claim: the fence. */
  readonly owner: string;
  /** A "sending" record may be taken over once this has passed. */
  readonly leaseUntil: number;
  /** After this the record counts as absent (at least as long as a message can come back). */
  readonly expiresAt: number;
  /** Sends of this registration that ended ambiguously (may have been delivered). Absent: none. */
  readonly ambiguousAttempts?: number;
  /** When the last of them ended (epoch ms). */
  readonly lastAmbiguousAt?: number;
}

/** Sends of one registration that ended ambiguously: a timeout or a connection lost after DATA. */
export interface AmbiguousAttempts {
  readonly attempts: number;
  /** When the last one ended (epoch ms). */
  readonly lastAt: number;
}

/** A claim held by this consumer: what `markSent` and `release` are fenced on. */
export interface Claim {
  readonly id: string;
  readonly digest: string;
  readonly owner: string;
  readonly leaseUntil: number;
  /**
   * Ambiguous sends recorded on the record this claim took over (a lapsed or released claim of the
   * same registration); absent when there were none. A second copy must wait for the mail server
   * to be seen healthy (registration-handler.ts).
   */
  readonly ambiguous?: AmbiguousAttempts;
}

export type ClaimResult =
  /** The id is ours until `claim.leaseUntil`: send, then mark it sent. */
  | { readonly outcome: "claimed"; readonly claim: Claim }
  /** The same registration was emailed already: a duplicate delivery, nothing to send. */
  | { readonly outcome: "already-sent" }
  /**
   * A consumer is sending it; its lease ends at `leaseUntil`. `owner` is the holder's token: a
   * consumer that finds its own claim (an ambiguous end it could not record) holds the message.
   */
  | { readonly outcome: "in-progress"; readonly leaseUntil: number; readonly owner: string }
  /** The id is known with a different digest: another registration reuses it (dead-letter, `id-conflict`). */
  | { readonly outcome: "conflict" };

export interface SentEmailStore {
  /**
   * Claims `id` for `digest`: succeeds when the id is absent, its record expired, or its
   * "sending" lease lapsed (with the same digest).
   */
  claim(id: string, digest: string): Promise<ClaimResult>;
  /** Marks the claim's email sent. Throws StaleClaimError when the record is no longer this claim's. */
  markSent(claim: Claim): Promise<void>;
  /**
   * Gives the claim back after a send that surely did not happen (the transport refused before
   * sending). Never after an ambiguous end (a timeout, a cut-off send): let the lease lapse.
   * Throws StaleClaimError when the record is no longer this claim's.
   */
  release(claim: Claim): Promise<void>;
  /**
   * Records that the claim's send ended ambiguously (`attempts` in all, the last at `at`) and lets
   * its lease lapse at once: the send is over on this side (its connection closed or aborted), and
   * whoever claims next learns of the attempts from `claim.ambiguous`. A claim that carries
   * `ambiguous` is released the same way (the attempts stay), not deleted.
   * Throws StaleClaimError when the record is no longer this claim's.
   */
  recordAmbiguous(claim: Claim, attempts: AmbiguousAttempts): Promise<void>;
  /**
   * Erases every record bound to `digest` (one person's registrations: `npm run forget`), in any
   * state; returns how many it deleted. An operator's tool, not the hot path: an implementation
   * may scan (DynamoDB has no index on the digest).
   */
  forget(digest: string): Promise<number>;
  close(): Promise<void>;
}

export interface StoreTiming {
  /** How long a claim protects a send: the mail transport's timeout plus a margin. */
  readonly leaseMs: number;
  /** How long a record lives: main retention + dead-letter retention + a redrive margin. */
  readonly retentionMs: number;
  readonly now?: () => number;
}

/**
 * The owner of a record whose claim was released with its ambiguous attempts kept: no claim's
 * token (claims carry random UUIDs), so the released claim's later writes fail their fence.
 */
export const RELEASED_OWNER = "released";

/** A fenced write found the record taken over (or gone): this consumer's claim is void. */
export class StaleClaimError extends Error {
  override readonly name = "StaleClaimError";
  constructor(readonly registrationId: string) {
    super(`the claim on registration ${registrationId} was taken over by another consumer`);
  }
}
