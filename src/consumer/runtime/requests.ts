/**
 * The runtime's two batched writes to SQS: deletes (a message is done) and visibility changes
 * (a retry delay, a hand-back, a heartbeat extension). Both go through the shared batcher and its
 * retry engine; a whole request is retried unless the error is fatal (no queue, no access), since
 * a lost delete costs a second delivery and a lost extension a second handler run.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { clientSpan } from "../../observability/tracing.js";
import { type BatchEntryFailure, Batcher, batchEntryId } from "../../sqs/batcher.js";
import { isFatal } from "../../sqs/errors.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../../sqs/retry.js";
import type { Clock } from "../../time/clock.js";

export interface VisibilityChange {
  readonly receiptHandle: string;
  readonly timeoutSeconds: number;
}

/** How long a visibility change waits for company: they are few, and a hand-back should be quick. */
const VISIBILITY_WAIT_MS = 10;

const RUNTIME_RETRY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, retryable: (error) => !isFatal(error) };

function toFailures(
  failed: { Id?: string; Code?: string; Message?: string; SenderFault?: boolean }[] | undefined,
): BatchEntryFailure[] {
  if (failed === undefined || failed.length === 0) return [];
  return failed.map((f) => ({
    id: f.Id ?? "",
    code: f.Code ?? "Unknown",
    message: f.Message ?? "",
    senderFault: f.SenderFault ?? false,
  }));
}

/**
 * Runs a batch request inside its CLIENT span when tracing is on (`traced`, decided once by the
 * consumer), else directly: no span, context or attributes per request.
 */
function maybeSpan<T>(
  traced: boolean,
  queueUrl: string,
  operation: "delete" | "change_visibility",
  size: number,
  work: () => Promise<T>,
): Promise<T> {
  return traced ? clientSpan(queueUrl, operation, size, work) : work();
}

export function deleteBatcher(
  client: SQSClient,
  queueUrl: string,
  clock: Clock,
  maxWaitMs: number,
  traced: boolean,
) {
  return new Batcher<string>(
    async (entries) => {
      const command = new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.map(({ value }, i) => ({ Id: batchEntryId(i), ReceiptHandle: value })),
      });
      const output = await maybeSpan(traced, queueUrl, "delete", entries.length, () => client.send(command));
      return toFailures(output.Failed);
    },
    { maxWaitMs, clock, retry: RUNTIME_RETRY },
  );
}

export function visibilityBatcher(client: SQSClient, queueUrl: string, clock: Clock, traced: boolean) {
  return new Batcher<VisibilityChange>(
    async (entries) => {
      const command = new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.map(({ value }, i) => ({
          Id: batchEntryId(i),
          ReceiptHandle: value.receiptHandle,
          VisibilityTimeout: value.timeoutSeconds,
        })),
      });
      const output = await maybeSpan(traced, queueUrl, "change_visibility", entries.length, () =>
        client.send(command),
      );
      return toFailures(output.Failed);
    },
    { maxWaitMs: VISIBILITY_WAIT_MS, clock, retry: RUNTIME_RETRY },
  );
}
