/**
 * How many messages a queue holds, from its approximate counts: what `status`, `dlq` and the demos'
 * "nothing lost" checks read. Approximate on SQS (eventually consistent, about a minute).
 */
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

export interface QueueCounts {
  /** ApproximateNumberOfMessages: ready to be received. */
  readonly visible: number;
  /** ApproximateNumberOfMessagesNotVisible: received, not yet deleted. */
  readonly inFlight: number;
  /** ApproximateNumberOfMessagesDelayed: sent with a delay that has not passed. */
  readonly delayed: number;
}

export async function queueCounts(client: SQSClient, queueUrl: string): Promise<QueueCounts> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

export function total(counts: QueueCounts): number {
  return counts.visible + counts.inFlight + counts.delayed;
}
