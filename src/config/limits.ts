/**
 * The ranges every command checks its numbers against at start, once. The flag parsers
 * (src/cli/shared.ts) and the environment schema (env.ts) both read them, so a flag and its
 * variable accept the same values. SQS's own limits are in src/sqs/limits.ts; the consumer
 * runtime's (concurrency, batching window, shutdown deadline) in src/consumer/runtime/options.ts.
 */
import { VISIBILITY_MAX_SECONDS } from "../sqs/limits.js";

/**
 * The longest delay a Node timer holds: setTimeout clamps anything above 2^31−1 ms to 1 ms with
 * only a warning, so an unchecked "long" timeout fires at once. Every timeout stays below it.
 */
export const TIMER_MAX_MS = 2 ** 31 - 1;

/** TCP ports; 0 asks the system for a free one. */
export const PORT_MIN = 0;
export const PORT_MAX = 65_535;

/** Counts (messages, runs): the largest whole number a double holds exactly. */
export const COUNT_MAX = Number.MAX_SAFE_INTEGER;

/**
 * One welcome email's send timeout (`--send-timeout`, MAIL_SEND_TIMEOUT_MS). Below 100 ms no mail
 * server answers; above two minutes a server is not slow but gone. The claim lease is this plus a
 * margin (src/consumer/store/timing.ts), and both must fit in a timer and in the longest
 * visibility a message can be given (12 h).
 */
export const MAIL_SEND_TIMEOUT_MIN_MS = 100;
export const MAIL_SEND_TIMEOUT_MAX_MS = 120_000;
/**
 * The send timeout when none is given, for every transport and for the claim lease alike (one
 * default, so a mailer built without one never outlives a lease computed without one): nodemailer's
 * SMTP socket timeout is of this order, and a connection, greeting, DATA and final reply fit in it.
 */
export const MAIL_SEND_TIMEOUT_DEFAULT_MS = 30_000;

/** The longest a send may be held by the heartbeat: SQS's visibility limit. */
export const VISIBILITY_MAX_MS = VISIBILITY_MAX_SECONDS * 1000;

/**
 * Emails a second per consumer (`--mail-rate`, MAIL_RATE_PER_SECOND). The lowest keeps the wait
 * between two sends (1/rate) far inside a timer (1,000 s); the highest is above any SES quota.
 */
export const MAIL_RATE_MIN_PER_SECOND = 0.001;
export const MAIL_RATE_MAX_PER_SECOND = 100_000;

/** `produce --concurrency`: requests in flight; the client's socket pool is 64, more only queue. */
export const PRODUCER_CONCURRENCY_MAX = 1_000;

/**
 * `demo --count`: the demo generates every registration up front and holds them in memory on one
 * machine; `produce` streams any number.
 */
export const DEMO_COUNT_MAX = 100_000;

/** Whole seconds a timer holds (for flags in seconds that become one timer). */
export const TIMER_MAX_SECONDS = Math.floor(TIMER_MAX_MS / 1000);

/** `demo --consumers`: consume processes on this machine (each is a Node process of ~100 MB). */
export const FLEET_CONSUMERS_MAX = 32;

/**
 * AWS Lambda's own ranges for the consumer function (Lambda quotas; the event source mapping's
 * for SQS): memory 128 MB–10,240 MB, timeout up to 15 minutes; a batch of 1–10,000 messages (above
 * 10 only with a batching window of at least 1 s, and never above 10 from a FIFO queue), a window
 * of 0–300 s, and a maximum concurrency of 2–1,000 invocations.
 */
export const FUNCTION_MEMORY_MIN_MIB = 128;
export const FUNCTION_MEMORY_MAX_MIB = 10_240;
export const FUNCTION_TIMEOUT_MAX_SECONDS = 900;
export const FUNCTION_BATCH_SIZE_MAX = 10_000;
export const FUNCTION_FIFO_BATCH_SIZE_MAX = 10;
export const FUNCTION_BATCHING_WINDOW_MAX_SECONDS = 300;
export const FUNCTION_CONCURRENCY_MIN = 2;
export const FUNCTION_CONCURRENCY_MAX = 1_000;

/**
 * Time the function's handler keeps back at the end of an invocation for the dead-letter sends and
 * visibility changes after the last handler, and the batch response: a record starts only with its
 * lease plus this left, running handlers are aborted when only this is left, and the function's
 * shortest timeout (config/derived.ts) counts it.
 */
export const FUNCTION_SETTLE_MARGIN_MS = 2_000;
