/**
 * One invocation's batch, with the long-running consumer's semantics (docs/email-delivery.md,
 * docs/lambda.md) on top of the event source mapping's: the mapping deletes every record the
 * function does not name in `batchItemFailures` and leaves the named ones to come back when their
 * visibility ends. So:
 *
 * - success → not named (the mapping deletes it);
 * - poison (PoisonMessageError) → sent to the dead-letter queue with its reason, not named (done);
 * - a failure → named, its visibility set by the runtime's backoff (retry-delay.ts);
 * - FIFO → the first failure of a message group names the rest of that group in the batch, with
 *   the same visibility, unstarted (SQS then hands the group back in order);
 * - an environment fault (the mail server or the store down or throttling) → no record starts
 *   after it; every record not done is named with a visibility that grows with its receive
 *   count (environmentFaultDelaySeconds), so an outage spends as few receives as it can;
 * - a record is started only while the invocation has time for its whole claim lease (and the
 *   settling after it); later ones are handed back (visible again in a second).
 */
import { ChangeMessageVisibilityBatchCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchItemFailure, SQSBatchResponse, SQSEvent } from "aws-lambda";
import {
  FUNCTION_BATCHING_WINDOW_MAX_SECONDS,
  FUNCTION_TIMEOUT_MAX_SECONDS,
  FUNCTION_SETTLE_MARGIN_MS as SETTLE_MARGIN_MS,
  TIMER_MAX_MS,
} from "../config/limits.js";
import {
  type EnvironmentFaultError,
  environmentFaultIn,
  HandlerError,
  HoldError,
  PoisonMessageError,
} from "../consumer/errors.js";
import { forwardToDeadLetter } from "../consumer/runtime/dead-letter.js";
import {
  HAND_BACK_SECONDS,
  RETRY_DELAY_DEFAULTS,
  type RetryDelayOptions,
  retryDelaySeconds,
} from "../consumer/runtime/retry-delay.js";
import type { ConsumerEvents, MessageHandler } from "../consumer/runtime/types.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { batchEntryId } from "../sqs/batcher.js";
import { BATCH_MAX_ENTRIES, VISIBILITY_MAX_SECONDS } from "../sqs/limits.js";
import { toMessage } from "./records.js";

/**
 * The longest visibility the function may set. SQS refuses a ChangeMessageVisibility that would
 * keep a message invisible more than 12 hours from its receive, and the mapping received the
 * record up to one batching window (at most 5 minutes: it holds what it received while the window
 * fills) and one function timeout (at most 15 minutes) before the function sets it: 11 h 40 min.
 */
export const FUNCTION_VISIBILITY_MAX_SECONDS =
  VISIBILITY_MAX_SECONDS - FUNCTION_BATCHING_WINDOW_MAX_SECONDS - FUNCTION_TIMEOUT_MAX_SECONDS;

/**
 * The visibility an environment fault gives a message, by its receive count: first × growth^(k−1)
 * seconds, capped at FUNCTION_VISIBILITY_MAX_SECONDS. 30 s first (a blip costs half a minute), ×4
 * after (an outage of hours fits in the stack's five receives: outageSurvivedSeconds).
 */
export const ENVIRONMENT_FAULT_BACKOFF = {
  firstSeconds: 30,
  growth: 4,
  maxSeconds: FUNCTION_VISIBILITY_MAX_SECONDS,
};

export interface FaultBackoff {
  readonly firstSeconds: number;
  readonly growth: number;
  readonly maxSeconds: number;
}

export function environmentFaultDelaySeconds(
  receiveCount: number,
  backoff: FaultBackoff = ENVIRONMENT_FAULT_BACKOFF,
): number {
  return Math.min(
    backoff.maxSeconds,
    Math.round(backoff.firstSeconds * backoff.growth ** (receiveCount - 1)),
  );
}

/**
 * How long an environment fault may last before a message that met it at its first receive is
 * dead-lettered: SQS moves it at the receive after `maxReceiveCount`, and each failed receive kept
 * it invisible for its delay, so the sum of the delays of receives 1…maxReceiveCount.
 */
export function outageSurvivedSeconds(
  maxReceiveCount: number,
  backoff: FaultBackoff = ENVIRONMENT_FAULT_BACKOFF,
): number {
  let total = 0;
  for (let k = 1; k <= maxReceiveCount; k++) total += environmentFaultDelaySeconds(k, backoff);
  return total;
}

/** What the invocations of one container did (the demo's summary, the logs). */
export interface BatchStats {
  received: number;
  /** Succeeded: left for the event source mapping to delete. */
  processed: number;
  /** Named in batchItemFailures after a failure (a retry delay set). */
  failed: number;
  deadLettered: number;
  /** Records that met an environment fault, or were not started after one. */
  environmentFaults: number;
  /** Named unstarted: behind a failure of their FIFO group, or no time left for a lease. */
  released: number;
}

export function emptyBatchStats(): BatchStats {
  return { received: 0, processed: 0, failed: 0, deadLettered: 0, environmentFaults: 0, released: 0 };
}

export interface BatchOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly fifo: boolean;
  readonly handler: MessageHandler;
  /** The claim lease (store/timing.ts): a record starts only with this much time left. */
  readonly leaseMs: number;
  /** Lambda's context.getRemainingTimeInMillis. */
  readonly remainingMs: () => number;
  /** Records (standard) or message groups (FIFO) worked on at once. Default 10. */
  readonly concurrency?: number;
  readonly retry?: RetryDelayOptions;
  readonly faultBackoff?: FaultBackoff;
  readonly stats?: BatchStats;
  /** Where the EMF writer listens (processed, failed, dead-lettered). */
  readonly events?: { emit<K extends keyof ConsumerEvents>(event: K, ...args: ConsumerEvents[K]): boolean };
  readonly logger?: Logger;
}

type Outcome =
  | { readonly kind: "done" }
  /** In the dead-letter queue: done for the mapping (deleted), not processed. */
  | { readonly kind: "dead-lettered" }
  | { readonly kind: "retry"; readonly seconds: number }
  /** Not started (no time left for a lease): handed back, visible again in HAND_BACK_SECONDS. */
  | { readonly kind: "released" }
  | { readonly kind: "fault"; readonly seconds: number };

export async function processBatch(event: SQSEvent, options: BatchOptions): Promise<SQSBatchResponse> {
  const logger = options.logger ?? silentLogger;
  const stats = options.stats ?? emptyBatchStats();
  const retry = options.retry ?? RETRY_DELAY_DEFAULTS;
  const messages = event.Records.map(toMessage);
  stats.received += messages.length;
  const outcomes = new Map<Message, Outcome>();
  let fault: EnvironmentFaultError | undefined;
  const faultDelay = (m: Message) => environmentFaultDelaySeconds(receiveCountOf(m), options.faultBackoff);

  // Running handlers are aborted when only the settling margin is left (a send cut off then leaves
  // its claim to lapse, as at the long-running consumer's shutdown deadline).
  const abort = new AbortController();
  // Node fires a timer above 2^31 − 1 ms at once: a timeout of 15 minutes (Lambda's longest) is far below.
  const untilSettleMs = options.remainingMs() - SETTLE_MARGIN_MS;
  const settleFrom = Date.now() + untilSettleMs;
  const abortInMs = Math.min(TIMER_MAX_MS, Math.max(0, untilSettleMs));
  const timer = setTimeout(() => abort.abort(), abortInMs);
  timer.unref?.();

  async function runOne(message: Message): Promise<Outcome> {
    if (fault) return { kind: "fault", seconds: faultDelay(message) };
    if (abort.signal.aborted || options.remainingMs() < options.leaseMs + SETTLE_MARGIN_MS) {
      return { kind: "released" };
    }
    const receiveCount = receiveCountOf(message);
    try {
      await options.handler(message, {
        signal: abort.signal,
        receiveCount,
        // A send that could outlast the invocation is not started (its abort would make it ambiguous).
        deadline: settleFrom,
        // A handler working through a fault (a record it must write): nothing new starts meanwhile.
        environmentFault: (error) => {
          fault ??= error;
        },
      });
      return { kind: "done" };
    } catch (error) {
      const met = environmentFaultIn(error);
      if (met) {
        fault ??= met;
        return { kind: "fault", seconds: faultDelay(message) };
      }
      if (error instanceof PoisonMessageError) {
        try {
          await forwardToDeadLetter(options, message, error);
          stats.deadLettered += 1;
          options.events?.emit("dead-lettered", error, message);
          logger.warn(
            { messageId: message.MessageId, reason: error.reason, error: error.message },
            "moved an invalid message to the dead-letter queue",
          );
          return { kind: "dead-lettered" };
        } catch (sendError) {
          // Not forwarded: a failure like any other; the queue's redrive policy still catches it.
          return failed(message, sendError);
        }
      }
      // Our own claim, held until its lease ends: on Lambda the wait costs a receive.
      if (error instanceof HoldError) return { kind: "retry", seconds: Math.ceil(error.delayMs / 1000) };
      return failed(message, error);
    }
  }

  function failed(message: Message, cause: unknown): Outcome {
    const receiveCount = receiveCountOf(message);
    const seconds = retryDelaySeconds(cause, receiveCount, retry);
    stats.failed += 1;
    const error = new HandlerError(message.MessageId ?? "?", options.queueUrl, receiveCount, cause);
    options.events?.emit("failed", error, message);
    logger.warn(
      { err: cause, messageId: message.MessageId, receiveCount, retryInSeconds: seconds },
      "handler failed; message goes back to the queue",
    );
    return { kind: "retry", seconds };
  }

  // A lane is worked on in order: one record (standard queue) or one message group (FIFO), whose
  // first failure names the rest of the group unstarted, with the same visibility.
  async function runLane(lane: readonly Message[]): Promise<void> {
    let stopped: Outcome | undefined;
    for (const message of lane) {
      if (stopped) {
        if (fault) stats.environmentFaults += 1;
        else stats.released += 1;
        outcomes.set(message, fault ? { kind: "fault", seconds: faultDelay(message) } : stopped);
        continue;
      }
      const outcome = await runOne(message);
      outcomes.set(message, outcome);
      if (outcome.kind === "done") {
        stats.processed += 1;
        options.events?.emit("processed", message);
      } else if (outcome.kind !== "dead-lettered") {
        // Counted once each: a failure whose delay happens to be the hand-back's 1 s is a failure.
        if (outcome.kind === "fault") stats.environmentFaults += 1;
        else if (outcome.kind === "released") stats.released += 1;
        if (options.fifo) stopped = outcome;
      }
    }
  }

  try {
    const lanes = options.fifo ? byGroup(messages) : messages.map((m) => [m]);
    let next = 0;
    const worker = async () => {
      while (next < lanes.length) await runLane(lanes[next++] as Message[]);
    };
    const workers = Math.min(lanes.length, options.concurrency ?? BATCH_MAX_ENTRIES);
    await Promise.all(Array.from({ length: workers }, worker));
  } finally {
    clearTimeout(timer);
  }

  const settled = (m: Message) => ["done", "dead-lettered"].includes(outcomes.get(m)?.kind ?? "");
  const failures = messages.filter((m) => !settled(m));
  if (fault) {
    logger.warn(
      { err: fault, component: fault.component, handedBack: failures.length },
      "environment fault: the batch's unfinished records come back with a growing visibility",
    );
  }
  await setVisibility(options, failures, (m) => {
    const outcome = outcomes.get(m);
    return outcome && "seconds" in outcome ? outcome.seconds : HAND_BACK_SECONDS;
  });
  const batchItemFailures: SQSBatchItemFailure[] = failures.map((m) => ({
    itemIdentifier: m.MessageId ?? "",
  }));
  return { batchItemFailures };
}

function receiveCountOf(message: Message): number {
  return Number(message.Attributes?.ApproximateReceiveCount ?? 1);
}

/** FIFO records by message group, each group in the order SQS delivered it. */
function byGroup(messages: readonly Message[]): Message[][] {
  const groups = new Map<string, Message[]>();
  for (const message of messages) {
    const group = message.Attributes?.MessageGroupId ?? "";
    const lane = groups.get(group);
    if (lane) lane.push(message);
    else groups.set(group, [message]);
  }
  return [...groups.values()];
}

/**
 * One ChangeMessageVisibilityBatch per ten named records, each visibility capped at
 * FUNCTION_VISIBILITY_MAX_SECONDS (a mail service's Retry-After or a hold may ask for more, and
 * SQS would refuse the change). A change that fails is logged, not thrown: the record still comes
 * back, after the visibility timeout it was received with.
 */
async function setVisibility(
  options: Pick<BatchOptions, "client" | "queueUrl" | "logger">,
  messages: readonly Message[],
  seconds: (message: Message) => number,
): Promise<void> {
  for (let i = 0; i < messages.length; i += BATCH_MAX_ENTRIES) {
    const chunk = messages.slice(i, i + BATCH_MAX_ENTRIES);
    try {
      const { Failed = [] } = await options.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: options.queueUrl,
          Entries: chunk.map((m, j) => ({
            Id: batchEntryId(j),
            ReceiptHandle: m.ReceiptHandle ?? "",
            VisibilityTimeout: Math.min(FUNCTION_VISIBILITY_MAX_SECONDS, seconds(m)),
          })),
        }),
      );
      if (Failed.length > 0) {
        options.logger?.warn(
          { failed: Failed },
          "some retry delays were not set; those records come back sooner",
        );
      }
    } catch (error) {
      options.logger?.warn({ err: error }, "could not set the retry delays; the records come back sooner");
    }
  }
}
