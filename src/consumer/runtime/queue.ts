/** What the runtime reads about its queue before it starts: attributes, the dead-letter queue. */
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsAccessError } from "../../errors.js";

/** The attributes the runtime needs, in one GetQueueAttributes request. */
export async function describeQueueAttributes(
  client: SQSClient,
  queueUrl: string,
): Promise<Record<string, string>> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["VisibilityTimeout", "RedrivePolicy", "FifoQueue"],
    }),
  );
  return Attributes;
}

/** The URL of the queue's RedrivePolicy target; a queue without one is refused. */
export async function findDeadLetterQueue(
  client: SQSClient,
  queueUrl: string,
  redrivePolicy: string | undefined,
): Promise<string> {
  const arn = redrivePolicy ? (JSON.parse(redrivePolicy).deadLetterTargetArn as string) : undefined;
  if (!arn) {
    throw new SqsAccessError(
      `The queue ${queueUrl} has no dead-letter queue (no RedrivePolicy), so a failing message would loop forever. Provision it with its dead-letter queue (npm run local, pulumi up or terraform apply).`,
      queueUrl,
    );
  }
  // arn:aws:sqs:<region>:<account>:<name>
  const [, , , , account, name] = arn.split(":");
  const { QueueUrl } = await client.send(
    new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
  );
  if (!QueueUrl) throw new Error(`SQS returned no URL for the dead-letter queue ${arn}`);
  return QueueUrl;
}
