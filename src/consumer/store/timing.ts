/**
 * The store's two durations for a consumer: the formulas (lease, record expiry) live once in
 * src/config/derived.ts, which the infrastructure reads too; this module adds the default send
 * timeout.
 */
import { leaseForSendTimeoutMs, recordRetentionMs } from "../../config/derived.js";
import type { Settings } from "../../config/settings.js";
import type { StoreTiming } from "./contract.js";

export { MAX_LEASE_MARGIN_MS, REDRIVE_MARGIN_MS, recordRetentionMs } from "../../config/derived.js";

/** How long one welcome email may take to send (nodemailer's SMTP socket timeout is of this order). */
export const MAIL_SEND_TIMEOUT_MS = 30_000;

/** Send timeout + margin: a fifth of the timeout, between 0.5 s and 5 s. */
export function claimLeaseMs(sendTimeoutMs: number = MAIL_SEND_TIMEOUT_MS): number {
  return leaseForSendTimeoutMs(sendTimeoutMs);
}

/** The store timing for a consumer whose sends time out after `sendTimeoutMs`. */
export function storeTiming(
  sendTimeoutMs: number = MAIL_SEND_TIMEOUT_MS,
  queues?: Settings["queues"],
): StoreTiming {
  return { leaseMs: claimLeaseMs(sendTimeoutMs), retentionMs: recordRetentionMs(queues) };
}
