/**
 * The store's two durations for a consumer: the formulas (lease, record expiry) live once in
 * src/config/derived.ts, which the infrastructure reads too; this module applies them to a
 * consumer's send timeout (default: config/limits.ts).
 */
import { leaseForSendTimeoutMs, recordRetentionMs } from "../../config/derived.js";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../../config/limits.js";
import type { Settings } from "../../config/settings.js";
import type { StoreTiming } from "./contract.js";

/** Send timeout + margin: a fifth of the timeout, between 0.5 s and 5 s. */
export function claimLeaseMs(sendTimeoutMs: number = MAIL_SEND_TIMEOUT_DEFAULT_MS): number {
  return leaseForSendTimeoutMs(sendTimeoutMs);
}

/** The store timing for a consumer whose sends time out after `sendTimeoutMs`. */
export function storeTiming(
  sendTimeoutMs: number = MAIL_SEND_TIMEOUT_DEFAULT_MS,
  queues?: Settings["queues"],
): StoreTiming {
  return { leaseMs: claimLeaseMs(sendTimeoutMs), retentionMs: recordRetentionMs(queues) };
}
