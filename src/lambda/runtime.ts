/**
 * What one Lambda container keeps between invocations: the registration handler (its memory of
 * ambiguous sends, accepted sends and the mail server's health lives in its closure, as in one
 * long-running consumer), the store, the mail transport with its send-rate bucket, the suppression
 * list and the queue's attributes (read once). Built from objects, so the function's entry point
 * (index.ts), the local event source mapping, the demo and the tests share it.
 */
import { EventEmitter } from "node:events";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { TIMER_MAX_MS } from "../config/limits.js";
import { AcceptedSends, claimOf } from "../consumer/accepted-sends.js";
import type { Mailer } from "../consumer/mail/mailer.js";
import type { SuppressionList } from "../consumer/mail/suppression.js";
import { type RegistrationCounts, registrationHandler } from "../consumer/registration-handler.js";
import type { RetryDelayOptions } from "../consumer/runtime/retry-delay.js";
import type { ConsumerEvents } from "../consumer/runtime/types.js";
import { type SentEmailStore, StaleClaimError } from "../consumer/store/contract.js";
import { storeTiming } from "../consumer/store/timing.js";
import type { DigestKey } from "../contract/digest.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { startEmfWriter } from "../observability/emf.js";
import { deadLetterQueueUrlFromPolicy, describeQueueAttributes, queueName } from "../sqs/queue-pair.js";
import { type AcceptedCopyCounts, withAcceptedCopies } from "./accepted-copy.js";
import {
  type BatchStats,
  emptyBatchStats,
  environmentFaultDelaySeconds,
  type FaultBackoff,
  processBatch,
} from "./batch.js";

export interface LambdaRuntimeOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly store: SentEmailStore;
  readonly mailer: Mailer;
  readonly suppression?: SuppressionList | undefined;
  readonly digestKey: DigestKey;
  /** The mail transport's send timeout: the claim lease is this plus a margin (store/timing.ts). */
  readonly sendTimeoutMs: number;
  /** Records (or FIFO groups) worked on at once in one invocation. Default 10. */
  readonly concurrency?: number;
  readonly retry?: RetryDelayOptions;
  readonly faultBackoff?: FaultBackoff;
  /** Where one EMF line per invocation goes (Lambda ships stdout and stderr to its log group). */
  readonly emfStream?: Pick<NodeJS.WritableStream, "write"> | undefined;
  readonly logger?: Logger;
}

export interface LambdaRuntime {
  /** One invocation: the event's records in, the records to retry out. */
  handle(event: SQSEvent, remainingMs: () => number): Promise<SQSBatchResponse>;
  /** Across this container's invocations. */
  readonly stats: BatchStats;
  readonly emails: RegistrationCounts;
  /** Accepted sends handed over to a signed copy of their message (accepted-copy.ts). */
  readonly acceptedCopies: AcceptedCopyCounts;
  readonly leaseMs: number;
  readonly deadLetterQueueUrl: string;
  readonly fifo: boolean;
}

const NO_DEAD_LETTER_QUEUE_HINT = {
  why: "so a failing message would loop forever",
  fix: "Give the queue a RedrivePolicy (both infrastructure programs declare one).",
};

/** Reads the queue's attributes once (sqs:GetQueueAttributes) and builds the container's handler. */
export async function startLambdaRuntime(options: LambdaRuntimeOptions): Promise<LambdaRuntime> {
  const logger = options.logger ?? silentLogger;
  const attributes = await describeQueueAttributes(options.client, options.queueUrl);
  const deadLetterQueueUrl = deadLetterQueueUrlFromPolicy(
    options.queueUrl,
    attributes.RedrivePolicy,
    NO_DEAD_LETTER_QUEUE_HINT,
  );
  const fifo = attributes.FifoQueue === "true";
  const { leaseMs } = storeTiming(options.sendTimeoutMs);
  await options.mailer.prepare?.({ staleAfterMs: options.sendTimeoutMs });
  const emails: RegistrationCounts = {
    sent: 0,
    duplicates: 0,
    conflicts: 0,
    staleClaims: 0,
    secondSends: 0,
    recordedLate: 0,
    leaseLapses: 0,
  };
  // A container's disk is its own and goes with it: memory keeps the same facts as long.
  const accepted = new AcceptedSends(undefined, logger);
  const acceptedCopies: AcceptedCopyCounts = { sent: 0, failed: 0 };
  const handler = withAcceptedCopies(
    registrationHandler(options.mailer, {
      digestKey: options.digestKey,
      store: options.store,
      suppression: options.suppression,
      counts: emails,
      logger,
      sendTimeoutMs: options.sendTimeoutMs,
      accepted,
    }),
    {
      client: options.client,
      queueUrl: options.queueUrl,
      fifo,
      digestKey: options.digestKey,
      accepted,
      delaySeconds: (receiveCount) => environmentFaultDelaySeconds(receiveCount, options.faultBackoff),
      counts: acceptedCopies,
      logger,
    },
  );
  /** Facts whose record another claim has taken over: kept for a delivery here, not written again. */
  const movedOn = new Set<string>();

  /**
   * Writes the records of sends this container saw accepted while the store was down (S9), before
   * the batch. Most of those facts went back to the queue on a signed copy (accepted-copy.ts);
   * this is the second chance, and the only one when the copy could not be sent: the message then
   * comes back to whichever container the mapping picks, and one without the fact would claim the
   * lapsed claim and send again. `markSent` is fenced on the owner alone,
   * so the lease having ended does not matter, only that nobody claimed since. One try each; the
   * first that fails for another reason ends the round (the store is still down: next invocation).
   */
  async function recordAcceptedEarlier(): Promise<void> {
    for (const id of movedOn) if (accepted.get(id) === undefined) movedOn.delete(id);
    for (const fact of accepted.pending()) {
      if (movedOn.has(fact.id)) continue;
      try {
        await options.store.markSent(claimOf(fact));
        accepted.delete(fact.id);
        emails.recordedLate = (emails.recordedLate ?? 0) + 1;
      } catch (error) {
        if (error instanceof StaleClaimError) {
          movedOn.add(fact.id);
          continue;
        }
        logger.warn({ err: error }, "could not yet record the sends accepted while the store was down");
        return;
      }
    }
  }
  const stats = emptyBatchStats();
  const name = queueName(options.queueUrl);

  return {
    stats,
    emails,
    acceptedCopies,
    leaseMs,
    deadLetterQueueUrl,
    fifo,
    async handle(event, remainingMs) {
      const events = Object.assign(new EventEmitter<ConsumerEvents>(), { paused: false });
      const emf = options.emfStream
        ? startEmfWriter({
            source: events,
            queueName: name,
            stream: options.emfStream,
            intervalMs: TIMER_MAX_MS,
          })
        : undefined;
      const faultsBefore = stats.environmentFaults;
      try {
        if (accepted.size > 0) await recordAcceptedEarlier();
        return await processBatch(event, {
          client: options.client,
          queueUrl: options.queueUrl,
          deadLetterQueueUrl,
          fifo,
          handler,
          leaseMs,
          remainingMs,
          stats,
          events,
          logger,
          ...(options.concurrency ? { concurrency: options.concurrency } : {}),
          ...(options.retry ? { retry: options.retry } : {}),
          ...(options.faultBackoff ? { faultBackoff: options.faultBackoff } : {}),
        });
      } finally {
        // The invocation's line: "paused" is 1 when it met an environment fault (the alarm's gauge).
        events.paused = stats.environmentFaults > faultsBefore;
        emf?.stop();
      }
    },
  };
}
