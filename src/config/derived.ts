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
 *   paced at the invocation's rate (the handler starts no record it could not finish).
 * - The **queue's visibility timeout** must outlast the batching window and the invocation: the
 *   mapping receives a message when the window opens and invokes when it closes, so a visibility
 *   shorter than window + function timeout lets the message come back while its invocation still
 *   runs (AWS refuses a mapping whose visibility is below the function's timeout, and recommends
 *   6 × the timeout + the window: room for retries of a throttled batch).
 */
import {
  FUNCTION_CONCURRENCY_MAX,
  FUNCTION_CONCURRENCY_MIN,
  FUNCTION_SETTLE_MARGIN_MS,
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
 * The shortest function timeout, in whole seconds, that outlasts the slowest batch: the batch's
 * sends but the last paced at the invocation's rate, then the last one's lease and the settling
 * margin (less, and the handler would never start the batch's last records).
 */
export function minimumFunctionTimeoutSeconds(input: {
  readonly batchSize: number;
  readonly sendRatePerSecond: number;
  readonly sendTimeoutMs?: number;
}): number {
  const pacingMs = ((input.batchSize - 1) / input.sendRatePerSecond) * 1000;
  return Math.ceil((pacingMs + functionLastRecordMs(input.sendTimeoutMs)) / 1000);
}

/** The batch's fixed tail in the shortest timeout: the last record's lease, then the settling. */
export function functionLastRecordMs(sendTimeoutMs: number = MAIL_SEND_TIMEOUT_DEFAULT_MS): number {
  return leaseForSendTimeoutMs(sendTimeoutMs) + FUNCTION_SETTLE_MARGIN_MS;
}

/** The shortest visibility timeout of the function's queue: the batching window, then the invocation. */
export function minimumFunctionVisibilitySeconds(input: {
  readonly functionTimeoutSeconds: number;
  readonly batchingWindowSeconds: number;
}): number {
  return input.functionTimeoutSeconds + input.batchingWindowSeconds;
}

/** AWS's recommended visibility timeout for the function's queue: 6 × the timeout + the window. */
export function recommendedFunctionVisibilitySeconds(input: {
  readonly functionTimeoutSeconds: number;
  readonly batchingWindowSeconds: number;
}): number {
  return FUNCTION_VISIBILITY_FACTOR * input.functionTimeoutSeconds + input.batchingWindowSeconds;
}

/**
 * What is wrong with a function timeout against its batch and its queue, one sentence each
 * naming the fix (empty: nothing). Both programs check the same: the Pulumi program with this,
 * Terraform with the same arithmetic as preconditions (lambda.tf), tied by test/infra.
 */
export function functionTimingProblems(input: {
  readonly functionTimeoutSeconds: number;
  readonly visibilityTimeoutSeconds: number;
  readonly batchingWindowSeconds: number;
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
  if (input.visibilityTimeoutSeconds < minimumFunctionVisibilitySeconds(input)) {
    problems.push(
      `visibilityTimeoutSeconds ${input.visibilityTimeoutSeconds} is shorter than functionBatchingWindowSeconds ${input.batchingWindowSeconds} + functionTimeoutSeconds ${input.functionTimeoutSeconds} (a message would come back while its invocation runs; AWS refuses a visibility below the timeout): raise it to ${recommendedFunctionVisibilitySeconds(input)} (AWS recommends ${FUNCTION_VISIBILITY_FACTOR} × the timeout + the window).`,
    );
  }
  return problems;
}
