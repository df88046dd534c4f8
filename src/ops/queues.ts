/**
 * What the operations commands need about the queues they work on, beyond finding them (that is
 * src/sqs/queue-pair.ts, shared with the consumer runtime).
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type BatchEntryFailure, Batcher, batchEntryId } from "../sqs/batcher.js";
import type { NoDeadLetterQueueHint } from "../sqs/queue-pair.js";

/** The fix an operator is told when the queue given has no dead-letter queue. */
export const OPERATOR_DEAD_LETTER_HINT: NoDeadLetterQueueHint = {
  fix: "Give the main queue of the pair (--queue-url), or read it from stack outputs (--source local|pulumi|terraform).",
};

/**
 * Hands messages back (or keeps them hidden) with one visibility for all, in batches of 10;
 * entries SQS fails on its side are retried. Returns how many could not be changed: those come
 * back by themselves when their current visibility timeout ends.
 */
export async function changeVisibility(
  client: SQSClient,
  queueUrl: string,
  receiptHandles: readonly string[],
  timeoutSeconds: number,
): Promise<number> {
  if (receiptHandles.length === 0) return 0;
  const batcher = new Batcher<string>(
    async (entries): Promise<BatchEntryFailure[]> => {
      const { Failed = [] } = await client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: entries.map(({ value }, i) => ({
            Id: batchEntryId(i),
            ReceiptHandle: value,
            VisibilityTimeout: timeoutSeconds,
          })),
        }),
      );
      return Failed.map((f) => ({
        id: f.Id ?? "",
        code: f.Code ?? "Unknown",
        message: f.Message ?? "",
        senderFault: f.SenderFault ?? false,
      }));
    },
    { maxWaitMs: 0 },
  );
  const results = await Promise.allSettled(receiptHandles.map((handle) => batcher.add(handle)));
  return results.filter((result) => result.status === "rejected").length;
}
