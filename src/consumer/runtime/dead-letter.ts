/**
 * Forwarding a poison message (PoisonMessageError) to the dead-letter queue at once, with why.
 * Other failures are left to the queue's redrive policy (the receive count survives, unlike a
 * re-publish); only a message that can never succeed skips its retries.
 */
import {
  type Message,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { withDeadLetterAttributes } from "../../contract/dead-letter.js";
import { createLink, sendSpan } from "../../observability/tracing.js";
import type { PoisonMessageError } from "../errors.js";

export interface DeadLetterTarget {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string | undefined;
  readonly fifo: boolean;
}

/**
 * Sends `message` to the dead-letter queue with the reason as attributes (it is deleted later), in
 * a `send <dead-letter queue>` span linked to its producer's create context (the settle step runs
 * after the process span has ended).
 */
export async function forwardToDeadLetter(
  target: DeadLetterTarget,
  message: Message,
  error: PoisonMessageError,
): Promise<void> {
  const deadLetterQueueUrl = target.deadLetterQueueUrl ?? "";
  const link = createLink(message);
  await sendSpan(deadLetterQueueUrl, link ? [link] : [], 1, () =>
    target.client.send(
      new SendMessageCommand({
        QueueUrl: deadLetterQueueUrl,
        MessageBody: message.Body ?? "",
        MessageAttributes: deadLetterAttributes(message, error, target.queueUrl),
        ...(target.fifo
          ? {
              MessageGroupId: message.Attributes?.MessageGroupId ?? "poison",
              MessageDeduplicationId: message.MessageId,
            }
          : {}),
      }),
    ),
  );
}

/**
 * SQS allows 10 attributes a message: the reason, the error and the source first, then the trace
 * context, then the message's own while room remains; the names that did not fit are listed in
 * one attribute (contract/dead-letter.ts).
 */
export function deadLetterAttributes(
  message: Message,
  error: PoisonMessageError,
  queueUrl: string,
): Record<string, MessageAttributeValue> {
  return withDeadLetterAttributes(
    {
      reason: error.reason,
      error: error.message.slice(0, 1024),
      sourceMessageId: message.MessageId ?? "unknown",
      sourceQueueUrl: queueUrl,
    },
    message.MessageAttributes,
  );
}
