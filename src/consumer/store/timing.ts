/**
 * The store's two durations, decided once from the settings data:
 *
 * - the **lease** of a claim is the mail transport's send timeout plus a margin: the handler aborts
 *   a send at the timeout, so a live holder never sends after its lease; no renewal, no heartbeat.
 *   The margin covers the fenced write after the send and clock differences between hosts.
 * - the **retention** of a record outlives every way a message can come back: the main queue's
 *   retention, then the dead-letter queue's, then a redrive margin for a human to act.
 */
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../../config/limits.js";
import { type Settings, settings } from "../../config/settings.js";
import type { StoreTiming } from "./contract.js";

/** The most the lease adds to the send timeout. */
export const MAX_LEASE_MARGIN_MS = 5_000;
/** Time to redrive a message from the dead-letter queue after its retention there began. */
export const REDRIVE_MARGIN_MS = 24 * 3_600_000;

/** Send timeout + margin: a fifth of the timeout, between 0.5 s and 5 s. */
export function claimLeaseMs(sendTimeoutMs: number = MAIL_SEND_TIMEOUT_DEFAULT_MS): number {
  return sendTimeoutMs + Math.min(MAX_LEASE_MARGIN_MS, Math.max(500, Math.round(sendTimeoutMs / 5)));
}

/** Main retention + dead-letter retention + the redrive margin, from the settings data. */
export function recordRetentionMs(queues: Settings["queues"] = settings.queues): number {
  return (queues.messageRetentionSeconds + queues.deadLetterRetentionSeconds) * 1000 + REDRIVE_MARGIN_MS;
}

/** The store timing for a consumer whose sends time out after `sendTimeoutMs`. */
export function storeTiming(
  sendTimeoutMs: number = MAIL_SEND_TIMEOUT_DEFAULT_MS,
  queues?: Settings["queues"],
): StoreTiming {
  return { leaseMs: claimLeaseMs(sendTimeoutMs), retentionMs: recordRetentionMs(queues) };
}
