/**
 * A queue and its dead-letter queue, found once for the consumer runtime and the operations
 * commands alike: stack outputs name both queues, but a bare queue URL names only the main one, so
 * its dead-letter queue is read from the main queue's RedrivePolicy.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { SqsAccessError } from "../errors.js";

/** The URLs of a queue and of the dead-letter queue its RedrivePolicy names. */
export interface QueuePairUrls {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/** What a caller tells the one who meets a queue without a dead-letter queue. */
export interface NoDeadLetterQueueHint {
  /** Why that matters here, after a comma ("so a failing message would loop forever"). */
  readonly why?: string;
  /** The sentence that names the fix. */
  readonly fix: string;
}

/** The attributes the consumer runtime needs, in one GetQueueAttributes request. */
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

/**
 * The URL of the queue's RedrivePolicy target; a queue without one is refused with `hint`.
 * `redrivePolicy` is the attribute when the caller has already read it (undefined: read it now).
 */
export async function findDeadLetterQueue(
  client: SQSClient,
  queueUrl: string,
  hint: NoDeadLetterQueueHint,
  redrivePolicy?: string | null,
): Promise<string> {
  const policy =
    redrivePolicy === undefined
      ? (
          await client.send(
            new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }),
          )
        ).Attributes?.RedrivePolicy
      : (redrivePolicy ?? undefined);
  const arn = policy
    ? (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
    : undefined;
  if (!arn) {
    throw new SqsAccessError(
      `The queue ${queueUrl} has no dead-letter queue (no RedrivePolicy)${hint.why ? `, ${hint.why}` : ""}. ${hint.fix}`,
      queueUrl,
    );
  }
  // arn:aws:sqs:<region>:<account>:<name>
  const [, , , , account, name] = arn.split(":");
  const { QueueUrl } = await client.send(
    new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
  );
  if (!QueueUrl) throw new SqsAccessError(`SQS returned no URL for the dead-letter queue ${arn}.`, queueUrl);
  return QueueUrl;
}

/** Both queue URLs: the dead-letter queue's as given (stack outputs), or from the RedrivePolicy. */
export async function queuePair(
  client: SQSClient,
  queue: { readonly queueUrl: string; readonly deadLetterQueueUrl?: string | undefined },
  hint: NoDeadLetterQueueHint,
): Promise<QueuePairUrls> {
  const deadLetterQueueUrl =
    queue.deadLetterQueueUrl || (await findDeadLetterQueue(client, queue.queueUrl, hint));
  return { queueUrl: queue.queueUrl, deadLetterQueueUrl };
}

/** The queue's name: the last segment of its URL. */
export function queueName(queueUrl: string): string {
  return new URL(queueUrl).pathname.split("/").filter(Boolean).at(-1) ?? queueUrl;
}

/**
 * The dead-letter queue's URL from the queue's RedrivePolicy alone, without GetQueueUrl: SQS
 * requires a dead-letter queue in the same account and region as its source queue, so it answers
 * on the source's endpoint at /<account>/<name>. For a caller whose role grants only
 * sqs:GetQueueAttributes on the queue and sqs:SendMessage on its dead-letter queue (the Lambda
 * function). A queue without a RedrivePolicy is refused with `hint`.
 */
export function deadLetterQueueUrlFromPolicy(
  queueUrl: string,
  redrivePolicy: string | undefined,
  hint: NoDeadLetterQueueHint,
): string {
  const arn = redrivePolicy
    ? (JSON.parse(redrivePolicy) as { deadLetterTargetArn?: string }).deadLetterTargetArn
    : undefined;
  // arn:aws:sqs:<region>:<account>:<name>
  const [, , service, , account, name] = arn?.split(":") ?? [];
  if (!arn || service !== "sqs" || !account || !name) {
    throw new SqsAccessError(
      `The queue ${queueUrl} has no dead-letter queue (no RedrivePolicy)${hint.why ? `, ${hint.why}` : ""}. ${hint.fix}`,
      queueUrl,
    );
  }
  return `${new URL(queueUrl).origin}/${account}/${name}`;
}
