/**
 * How long a failed message stays invisible before its next try, and how long a handed-back one
 * does: defined once for every runtime (the long-running consumer's state machine and the Lambda
 * handler set the same visibility for the same failure).
 */
import { VISIBILITY_MAX_SECONDS } from "../../sqs/limits.js";
import { RetryAfterError } from "../errors.js";

/** The backoff's defaults: 2 s doubling with each receive, capped at 15 minutes. */
export const RETRY_DELAY_DEFAULTS = { retryBaseDelaySeconds: 2, maxRetryDelaySeconds: 900 } as const;

export interface RetryDelayOptions {
  readonly retryBaseDelaySeconds: number;
  readonly maxRetryDelaySeconds: number;
}

/**
 * Visibility given to a message handed back. 1 s rather than 0: a stock fauxqs 2.4.1 with a data
 * folder answers a change to 0 with HTTP 500 "NOT NULL constraint failed:
 * sqs_messages.approximate_receive_count" after it has already taken the message out of flight,
 * so the message stays stranded until the emulator restarts. Our embedded emulator fixes that
 * at its source (src/local/fauxqs.ts), but the consumer also talks to fauxqs servers it did not
 * start (its own CLI or Docker image); on SQS 0 and 1 s are the same for a hand-back.
 */
export const HAND_BACK_SECONDS = 1;

/**
 * The visibility of a message whose handler failed: a RetryAfterError knows when the message can
 * be worked on (another consumer's lease ends); anything else waits base × 2^(receiveCount − 1)
 * seconds, capped.
 */
export function retryDelaySeconds(cause: unknown, receiveCount: number, options: RetryDelayOptions): number {
  if (cause instanceof RetryAfterError) {
    return Math.min(VISIBILITY_MAX_SECONDS, Math.max(0, Math.ceil(cause.delaySeconds)));
  }
  return Math.min(
    options.maxRetryDelaySeconds,
    Math.round(options.retryBaseDelaySeconds * 2 ** (receiveCount - 1)),
  );
}
