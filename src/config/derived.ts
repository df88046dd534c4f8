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
 * - The **function's concurrency and rate** (the consumer on Lambda): the event source mapping
 *   runs at most `maxConsumerTasks` invocations at once (Lambda's floor of 2, its ceiling of 1,000),
 *   and each invocation sends at most the account quota ÷ that concurrency, so that concurrency ×
 *   rate never exceeds the quota: the per-task formula with the mapping's concurrency.
 * - The **function's timeout** must outlast the slowest batch, whose last send may hold its claim
 *   for a whole lease (plus the handler's settling margin) after the batch's earlier sends were
 *   paced at the invocation's rate (the handler starts no record it could not finish); and AWS refuses a
 *   mapping whose queue's visibility timeout is shorter than the function's timeout (it
 *   recommends 6×, room for retries of a throttled batch).
 */
import {
  FUNCTION_CONCURRENCY_MAX,
  FUNCTION_CONCURRENCY_MIN,
  MAIL_SEND_TIMEOUT_DEFAULT_MS,
} from "./limits.js";
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

/** The event source mapping's maximum concurrency: the most senders, within Lambda's 2–1,000. */
export function functionConcurrency(maxSenders: number): number {
  return Math.min(FUNCTION_CONCURRENCY_MAX, Math.max(FUNCTION_CONCURRENCY_MIN, maxSenders));
}

/** One invocation's send cap (the function's MAIL_RATE_PER_SECOND): its share at full concurrency. */
export function functionSendRate(
  email: Pick<Settings["email"], "accountSendRatePerSecond" | "maxConsumerTasks"> = settings.email,
): number {
  return perTaskRate(email.accountSendRatePerSecond, functionConcurrency(email.maxConsumerTasks));
}

/** AWS's recommendation: the queue's visibility timeout at least this many function timeouts. */
export const FUNCTION_VISIBILITY_FACTOR = 6;

/**
 * The time the function's handler keeps after a record's lease to settle the batch (the
 * visibility changes, dead-letter sends, its response): it starts a record only while the
 * invocation has the lease plus this much left.
 */
export const FUNCTION_SETTLE_MARGIN_MS = 2_000;

/**
 * The shortest function timeout, in whole seconds, that outlasts the slowest batch: the batch's
 * sends but the last paced at the invocation's rate, then the last one's lease and the settling
 * margin (less, and the handler would never start the batch's last records).
 */
export function minimumFunctionTimeoutSeconds(input: {
  readonly batchSize: number;
  readonly sendRatePerSecond: number;
  readonly sendTimeoutMs?: number;
}): number {
  const leaseMs = leaseForSendTimeoutMs(input.sendTimeoutMs ?? MAIL_SEND_TIMEOUT_DEFAULT_MS);
  const pacingMs = ((input.batchSize - 1) / input.sendRatePerSecond) * 1000;
  return Math.ceil((pacingMs + leaseMs + FUNCTION_SETTLE_MARGIN_MS) / 1000);
}

/**
 * What is wrong with a function timeout against its batch and its queue, one sentence each
 * naming the fix (empty: nothing). Both programs check the same: the Pulumi program with this,
 * Terraform with the same arithmetic as preconditions (lambda.tf), tied by test/infra.
 */
export function functionTimingProblems(input: {
  readonly functionTimeoutSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly batchSize: number;
  readonly sendRatePerSecond: number;
}): string[] {
  const problems: string[] = [];
  const minimum = minimumFunctionTimeoutSeconds(input);
  if (input.functionTimeoutSeconds < minimum) {
    problems.push(
      `functionTimeoutSeconds ${input.functionTimeoutSeconds} is shorter than the slowest batch (${input.batchSize} messages at ${input.sendRatePerSecond}/s, then a claim lease): raise it to ${minimum} or more, or lower functionBatchSize.`,
    );
  }
  if (input.visibilityTimeoutSeconds < input.functionTimeoutSeconds) {
    problems.push(
      `visibilityTimeoutSeconds ${input.visibilityTimeoutSeconds} is shorter than functionTimeoutSeconds ${input.functionTimeoutSeconds} (AWS refuses the event source mapping): raise it to ${FUNCTION_VISIBILITY_FACTOR * input.functionTimeoutSeconds} (AWS recommends ${FUNCTION_VISIBILITY_FACTOR}×).`,
    );
  }
  return problems;
}
