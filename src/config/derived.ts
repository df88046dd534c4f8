/**
 * The numbers derived from the settings, computed once: the runtime, the Pulumi program and the
 * docs' tests import them from here. Terraform cannot import TypeScript, so it writes each formula
 * once as a local (infra-terraform/main.tf, `derived`), and test/infra ties the two by planning.
 *
 * - The **per-task mail rate**: a mail service's quota is per account (SES: messages per second)
 *   and every consumer task sends at once, so each task gets its share, account quota ÷ maximum
 *   tasks (`max(1, …)`: a fleet of zero tasks still has one sender's worth).
 * - The **lease** of a claim is the mail transport's send timeout plus a margin: the handler aborts
 *   a send at the timeout, so a live holder never sends after its lease; no renewal, no heartbeat.
 *   The margin covers the fenced write after the send and clock differences between hosts.
 * - The store's **record expiry** outlives every way a message can come back: the main queue's
 *   retention, then the dead-letter queue's, then a redrive margin for a human to act.
 */
import { type Settings, settings } from "./settings.js";

/** The most the lease adds to the send timeout. */
export const MAX_LEASE_MARGIN_MS = 5_000;
/** Time to redrive a message from the dead-letter queue after its retention there began. */
export const REDRIVE_MARGIN_MS = 24 * 3_600_000;

/** One task's share of an account quota. */
export function perTaskRate(accountQuotaPerSecond: number, maxTasks: number): number {
  return accountQuotaPerSecond / Math.max(1, maxTasks);
}

/** The per-task rate of the settings' `email` section (14 ÷ 4 = 3.5 emails a second by default). */
export function settingsTaskSendRate(
  email: Pick<Settings["email"], "accountSendRatePerSecond" | "maxConsumerTasks"> = settings.email,
): number {
  return perTaskRate(email.accountSendRatePerSecond, email.maxConsumerTasks);
}

/** Send timeout + margin: a fifth of the timeout, between 0.5 s and 5 s. */
export function leaseForSendTimeoutMs(sendTimeoutMs: number): number {
  return sendTimeoutMs + Math.min(MAX_LEASE_MARGIN_MS, Math.max(500, Math.round(sendTimeoutMs / 5)));
}

/** Main retention + dead-letter retention + the redrive margin, from the settings data. */
export function recordRetentionMs(
  queues: Pick<
    Settings["queues"],
    "messageRetentionSeconds" | "deadLetterRetentionSeconds"
  > = settings.queues,
): number {
  return (queues.messageRetentionSeconds + queues.deadLetterRetentionSeconds) * 1000 + REDRIVE_MARGIN_MS;
}
