/**
 * The queue pair the operations commands work on, and what they need to know about it.
 * Stack outputs name both queues; a bare --queue-url names only the main one, so its
 * dead-letter queue is read from the RedrivePolicy (the consumer does the same in
 * src/consumer/consumer.ts; that one is private to the runtime, hence this copy).
 */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { isLoopbackHost } from "../config/endpoint.js";
import { SqsAccessError } from "../errors.js";
import { type BatchEntryFailure, Batcher } from "../sqs/batcher.js";
import type { QueueLocation } from "../stack/resolve.js";

export interface QueuePair {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** Both queue URLs: from the stack outputs, or the main queue's RedrivePolicy. */
export async function queuePair(client: SQSClient, location: QueueLocation): Promise<QueuePair> {
  if (location.deadLetterQueueUrl) {
    return { queueUrl: location.queueUrl, deadLetterQueueUrl: location.deadLetterQueueUrl };
  }
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: location.queueUrl, AttributeNames: ["RedrivePolicy"] }),
  );
  const arn = Attributes.RedrivePolicy
    ? (JSON.parse(Attributes.RedrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
    : undefined;
  if (!arn) {
    throw new SqsAccessError(
      `The queue ${location.queueUrl} has no dead-letter queue (no RedrivePolicy). Give the main queue of the pair (--queue-url), or read it from stack outputs (--source local|pulumi|terraform).`,
      location.queueUrl,
    );
  }
  // arn:aws:sqs:<region>:<account>:<name>
  const [, , , , account, name] = arn.split(":");
  const { QueueUrl } = await client.send(
    new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
  );
  if (!QueueUrl) throw new SqsAccessError(`SQS returned no URL for ${arn}.`, location.queueUrl);
  return { queueUrl: location.queueUrl, deadLetterQueueUrl: QueueUrl };
}

/** The queue's name: the last segment of its URL. */
export function queueName(queueUrl: string): string {
  return new URL(queueUrl).pathname.split("/").filter(Boolean).at(-1) ?? queueUrl;
}

/**
 * Whether `endpoint` is an emulator on this machine: loopback, or a `.localhost` name (RFC 6761;
 * fauxqs's default queue host is `sqs.<region>.localhost`). AWS itself is never given an endpoint.
 */
export function isLocalEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return isLoopbackHost(host) || host.endsWith(".localhost");
}

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
          Entries: entries.map(({ id, value }) => ({
            Id: id,
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
