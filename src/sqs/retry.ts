/**
 * The one retry engine for SQS batch requests, shared by the producer (SendMessageBatch) and the
 * consumer's batchers (DeleteMessageBatch, ChangeMessageVisibilityBatch): the same backoff (full
 * jitter, capped exponential) and the same classification (src/sqs/errors.ts, on top of
 * @smithy/service-error-classification).
 *
 * A batch request can fail in two ways. Entries SQS refused on its side (SenderFault false) are
 * retried alone, after a backoff; entries refused as the sender's fault (a stale receipt handle,
 * a body SQS will never take) fail at once. A whole request that failed (the SDK has already
 * retried it with its own backoff) is retried only when the error says another try may help.
 */
import { type Clock, systemClock } from "../time/clock.js";
import { isRetryable } from "./errors.js";

export interface RetryPolicy {
  /** Attempts per entry, the first included. */
  readonly maxAttempts: number;
  /** Ceiling of the first backoff; doubled each retry (full jitter below it). */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Whether a failed whole request is worth another try. Default: isRetryable. */
  readonly retryable?: (error: unknown) => boolean;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000 };

/** Full-jitter backoff after `attempt` (from 1): uniform below min(max, base × 2^(attempt − 1)). */
export function backoffMs(
  attempt: number,
  policy: Pick<RetryPolicy, "baseDelayMs" | "maxDelayMs">,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return random() * ceiling;
}

export interface EntryFailure {
  readonly code: string;
  readonly message: string;
  /** The request was wrong for this entry: retrying cannot help. */
  readonly senderFault: boolean;
}

/** One request for `entries`: returns the failed ones; throws when the whole request failed. */
export type BatchAttempt<T> = (entries: readonly T[]) => Promise<ReadonlyMap<T, EntryFailure>>;

export interface FailedEntry<T> {
  readonly entry: T;
  readonly failure: EntryFailure;
  readonly attempts: number;
  /** The whole request failed (not this entry alone). */
  readonly wholeRequest: boolean;
}

export interface RetryOutcome<T> {
  readonly failed: FailedEntry<T>[];
  /** Requests made, retries included. */
  readonly requests: number;
  /** A whole-request failure retrying cannot fix (access denied, no such queue, unreachable). */
  readonly fatal?: unknown;
}

export interface RetryOptions {
  readonly policy?: RetryPolicy;
  readonly clock?: Clock;
  /** After each request: how many entries it settled successfully. */
  readonly onAttempt?: (succeeded: number) => void;
  /** Before each backoff: how many entries are retried, after which attempt. */
  readonly onRetry?: (entries: number, attempt: number) => void;
  /** Checked before each retry: true gives the rest up (reported with code "Aborted"). */
  readonly giveUp?: () => boolean;
}

function requestFailure(error: unknown): EntryFailure {
  return {
    code: error instanceof Error ? error.name : "Error",
    message: error instanceof Error ? error.message : String(error),
    senderFault: false,
  };
}

/** Sends `entries`, retrying what may succeed later, until each succeeded or failed for good. */
export async function sendWithRetries<T>(
  entries: readonly T[],
  attempt: BatchAttempt<T>,
  options: RetryOptions = {},
): Promise<RetryOutcome<T>> {
  const policy = options.policy ?? DEFAULT_RETRY_POLICY;
  const clock = options.clock ?? systemClock;
  const retryable = policy.retryable ?? isRetryable;
  const failed: FailedEntry<T>[] = [];
  let requests = 0;
  let remaining = entries;
  for (let n = 1; remaining.length > 0; n++) {
    let retry: T[] = [];
    requests += 1;
    try {
      const failures = await attempt(remaining);
      for (const entry of remaining) {
        const failure = failures.get(entry);
        if (!failure) continue;
        if (failure.senderFault || n >= policy.maxAttempts) {
          failed.push({ entry, failure, attempts: n, wholeRequest: false });
        } else {
          retry.push(entry);
        }
      }
      options.onAttempt?.(remaining.length - failures.size);
    } catch (error) {
      const canRetry = retryable(error);
      if (!canRetry || n >= policy.maxAttempts) {
        const failure = requestFailure(error);
        for (const entry of remaining) failed.push({ entry, failure, attempts: n, wholeRequest: true });
        options.onAttempt?.(0);
        return { failed, requests, ...(canRetry ? {} : { fatal: error }) };
      }
      retry = [...remaining];
    }
    if (retry.length > 0) {
      if (options.giveUp?.()) {
        const failure = {
          code: "Aborted",
          message: "not sent: an earlier request failed",
          senderFault: false,
        };
        for (const entry of retry) failed.push({ entry, failure, attempts: n, wholeRequest: true });
        return { failed, requests };
      }
      options.onRetry?.(retry.length, n);
      await clock.sleep(backoffMs(n, policy));
    }
    remaining = retry;
  }
  return { failed, requests };
}
