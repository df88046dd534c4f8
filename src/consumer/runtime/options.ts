/**
 * The consumer's options, checked when it is built (bbc/sqs-consumer's validation.ts does the
 * same) and settled into one object with every default filled in.
 */
import { type Logger, silentLogger } from "../../log/logger.js";
import { socketPoolSize } from "../../sqs/client.js";
import { BATCH_MAX_ENTRIES, LONG_POLL_MAX_SECONDS, VISIBILITY_MAX_SECONDS } from "../../sqs/limits.js";
import { type Clock, systemClock } from "../../time/clock.js";
import { RETRY_DELAY_DEFAULTS } from "./retry-delay.js";
import type { ConsumerOptions } from "./types.js";

export class ConsumerOptionsError extends RangeError {
  override readonly name = "ConsumerOptionsError";
}

/** Handlers at most: beyond this one process should be two. */
export const CONCURRENCY_MAX = 10_000;

/** Longest batching window, as Lambda's MaximumBatchingWindowInSeconds (300 s). */
export const BATCHING_WINDOW_MAX_MS = 300_000;

/** Longest shutdown deadline: an hour (ECS gives a task at most 120 s; a laptop run may want more). */
export const SHUTDOWN_TIMEOUT_MAX_MS = 3_600_000;

/** A delete never waits for company longer than this fraction of its message's remaining visibility. */
export const DELETE_WAIT_VISIBILITY_FRACTION = 0.1;

/**
 * Receives under way at most, whatever the concurrency. Each one holds a socket and, when it
 * returns, a response of up to 10 bodies; past this many the receives only queue at SQS and in
 * the agent while their sockets and buffers cost memory. Measured with `npm run bench --
 * --groups c1000` (docs/benchmarks.md): at concurrency 1,000, 16 pollers kept the rate of 100
 * (against squiss-ts) at 42 MB less peak RSS.
 */
export const POLLERS_MAX = 16;

/**
 * Pollers at most for a concurrency: enough to keep every slot fed with full batches (at least
 * one), never more than POLLERS_MAX. The adaptive count (pollers.ts) moves between 1 and this.
 */
export function maxPollersFor(concurrency: number): number {
  return Math.max(1, Math.min(POLLERS_MAX, Math.floor(concurrency / BATCH_MAX_ENTRIES)));
}

/**
 * Buffered messages at most beside busy handlers, by default: a fifth of the concurrency, at
 * least one batch, and no more than a batch for every poller. Past that the buffer cannot refill
 * faster than the pollers bring batches in, so a bigger one only holds messages (and memory)
 * that a handler would otherwise take straight from the next receive.
 */
export function defaultPrefetch(concurrency: number): number {
  const fifth = Math.max(BATCH_MAX_ENTRIES, Math.ceil(concurrency / 5));
  return Math.min(fifth, Math.max(BATCH_MAX_ENTRIES, maxPollersFor(concurrency) * BATCH_MAX_ENTRIES));
}

/** The consumer's batchers: deletes, and visibility changes (retry delays, hand-backs, heartbeat). */
export const BATCHERS = 2;

/** Sockets the SQS client of a consumer with this concurrency needs (src/sqs/client.ts). */
export function consumerSocketPool(concurrency: number): number {
  return socketPoolSize({ pollers: maxPollersFor(concurrency), batchers: BATCHERS });
}

/** The options of a consumer once checked, with every default filled in. */
export interface RuntimeOptions {
  readonly concurrency: number;
  readonly prefetch: number;
  readonly maxPollers: number;
  readonly waitTimeSeconds: number;
  readonly retryBaseDelaySeconds: number;
  readonly maxRetryDelaySeconds: number;
  readonly deleteBatchWaitMs: number;
  readonly batchingWindowMs: number;
  readonly shutdownTimeoutMs: number;
  readonly stopWhenEmpty: boolean;
  readonly maxMessages: number;
  readonly logger: Logger;
  readonly clock: Clock;
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConsumerOptionsError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
}

/** Checks every option (throws ConsumerOptionsError naming it) and fills in the defaults. */
export function settle(options: ConsumerOptions): RuntimeOptions {
  checkRange("concurrency", options.concurrency, 1, CONCURRENCY_MAX);
  checkRange("prefetch", options.prefetch, 0, CONCURRENCY_MAX);
  checkRange("waitTimeSeconds", options.waitTimeSeconds, 0, LONG_POLL_MAX_SECONDS);
  checkRange("visibilityTimeoutSeconds", options.visibilityTimeoutSeconds, 1, VISIBILITY_MAX_SECONDS);
  checkRange("retryBaseDelaySeconds", options.retryBaseDelaySeconds, 0, VISIBILITY_MAX_SECONDS);
  checkRange("maxRetryDelaySeconds", options.maxRetryDelaySeconds, 0, VISIBILITY_MAX_SECONDS);
  checkRange("maxMessages", options.maxMessages, 1, Number.MAX_SAFE_INTEGER);
  checkRange("shutdownTimeoutMs", options.shutdownTimeoutMs, 0, SHUTDOWN_TIMEOUT_MAX_MS);
  checkRange("deleteBatchWaitMs", options.deleteBatchWaitMs, 0, 60_000);
  checkRange("batchingWindowMs", options.batchingWindowMs, 0, BATCHING_WINDOW_MAX_MS);
  if (options.concurrency !== undefined && !Number.isInteger(options.concurrency)) {
    throw new ConsumerOptionsError(`concurrency must be a whole number, got ${options.concurrency}`);
  }
  if (options.batchingWindowMs && options.queueAttributes?.FifoQueue === "true") {
    throw fifoWindowError();
  }
  const concurrency = options.concurrency ?? 20;
  return {
    concurrency,
    prefetch: options.prefetch ?? defaultPrefetch(concurrency),
    maxPollers: maxPollersFor(concurrency),
    waitTimeSeconds: options.waitTimeSeconds ?? LONG_POLL_MAX_SECONDS,
    retryBaseDelaySeconds: options.retryBaseDelaySeconds ?? RETRY_DELAY_DEFAULTS.retryBaseDelaySeconds,
    maxRetryDelaySeconds: options.maxRetryDelaySeconds ?? RETRY_DELAY_DEFAULTS.maxRetryDelaySeconds,
    deleteBatchWaitMs: options.deleteBatchWaitMs ?? 1_000,
    batchingWindowMs: options.batchingWindowMs ?? 0,
    shutdownTimeoutMs: options.shutdownTimeoutMs ?? 25_000,
    stopWhenEmpty: options.stopWhenEmpty ?? false,
    maxMessages: options.maxMessages ?? Number.POSITIVE_INFINITY,
    logger: options.logger ?? silentLogger,
    clock: options.clock ?? systemClock,
  };
}

/**
 * A FIFO queue delivers a group's next message only after the previous one is deleted (or
 * visible again): holding receives back for a window would hold every group back with them.
 */
export function fifoWindowError(): ConsumerOptionsError {
  return new ConsumerOptionsError(
    "batchingWindowMs is not for FIFO queues: a group's next message waits for the previous one, so a window would only add latency",
  );
}
