/**
 * The hand-over of an accepted send the store could not record (row S9 of docs/email-delivery.md).
 * A long-running consumer keeps such a message invisible until the record is written; a Lambda
 * invocation must end, and the fact in its container's memory does not reach the container the
 * event source mapping hands the message to next, which would claim the lapsed claim and mail the
 * person again. So when the handler fails with the registration's send accepted and unrecorded,
 * the fact goes back to the queue on a copy of the message, signed (contract/accepted-send-attribute.ts),
 * and the original is reported done: whoever receives the copy writes the record and sends nothing.
 *
 * If the copy cannot be sent, the original fails as before (named, the fault's visibility) and the
 * container's memory is the fact's only home again: at most 2 copies for that double fault.
 */
import type { Message, MessageAttributeValue, SQSClient } from "@aws-sdk/client-sqs";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { FUNCTION_SETTLE_MARGIN_MS } from "../config/limits.js";
import type { AcceptedSends } from "../consumer/accepted-sends.js";
import type { MessageHandler } from "../consumer/runtime/types.js";
import {
  ACCEPTED_SEND_ATTRIBUTE,
  type AcceptedSendFact,
  acceptedSendAttribute,
  readAcceptedSend,
} from "../contract/accepted-send-attribute.js";
import { carriedAttributeOrder, sendable } from "../contract/dead-letter.js";
import { type DigestKey, registrationDigests } from "../contract/digest.js";
import { parseRegistration, processingIdOf } from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { DELAY_MAX_SECONDS, MESSAGE_ATTRIBUTES_MAX } from "../sqs/limits.js";

/**
 * How long the copy's SendMessage may take: half the settling margin, which it shares with the
 * batch's visibility changes when the handler gave up at the invocation's end. A send cut off
 * then may still have reached SQS: the original is named as well (the double fault's bound).
 */
export const COPY_SEND_TIMEOUT_MS = FUNCTION_SETTLE_MARGIN_MS / 2;

/** What the hand-overs of one container did. */
export interface AcceptedCopyCounts {
  /** Copies sent: their originals reported done. */
  sent: number;
  /** Copies that could not be sent: their originals named, as before the hand-over existed. */
  failed: number;
}

export interface AcceptedCopyOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly fifo: boolean;
  readonly digestKey: DigestKey;
  /** The container's accepted sends: what the registration handler kept and could not record. */
  readonly accepted: AcceptedSends;
  /** The copy's delay on a standard queue, by the original's receive count: the fault's visibility. */
  readonly delaySeconds: (receiveCount: number) => number;
  readonly counts: AcceptedCopyCounts;
  readonly logger?: Logger;
}

/** `handler`, with a failure that leaves an accepted send unrecorded handed over to a copy. */
export function withAcceptedCopies(handler: MessageHandler, options: AcceptedCopyOptions): MessageHandler {
  const logger = options.logger ?? silentLogger;
  return async (message, context) => {
    try {
      await handler(message, context);
    } catch (error) {
      const fact = unrecordedFact(message, options);
      if (fact === undefined) throw error;
      try {
        await sendCopy(message, fact, context.receiveCount, options, logger);
      } catch (sendError) {
        options.counts.failed += 1;
        logger.warn(
          { registrationId: fact.id, messageId: message.MessageId, err: sendError },
          "could not send the copy carrying an unrecorded accepted send; the message comes back instead",
        );
        throw error;
      }
      options.counts.sent += 1;
      logger.warn(
        { registrationId: fact.id, messageId: message.MessageId, err: error },
        "accepted send not recorded by the invocation's end: its signed fact went back to the queue on a copy",
      );
    }
  };
}

/**
 * The container's unrecorded fact for this message's registration, unless the message carries it
 * already (a copy that failed again keeps its attribute: it is named, and comes back as it is).
 */
function unrecordedFact(message: Message, options: AcceptedCopyOptions): AcceptedSendFact | undefined {
  let id: string;
  let digests: readonly string[];
  try {
    const registration = parseRegistration(message.Body ?? "");
    id = processingIdOf(registration, options.digestKey);
    digests = registrationDigests(registration, options.digestKey);
  } catch {
    return undefined; // not a registration: nothing of it was sent
  }
  const fact = options.accepted.get(id);
  if (fact === undefined || !digests.includes(fact.digest)) return undefined;
  const carried = readAcceptedSend(message.MessageAttributes, options.digestKey, { id, digests });
  return carried.kind === "valid" ? undefined : fact;
}

async function sendCopy(
  message: Message,
  fact: AcceptedSendFact,
  receiveCount: number,
  options: AcceptedCopyOptions,
  logger: Logger,
): Promise<void> {
  const { attributes, dropped } = copyAttributes(fact, options.digestKey, message.MessageAttributes);
  if (dropped.length > 0) {
    logger.warn(
      { messageId: message.MessageId, dropped },
      "the copy has no room for some of the message's attributes",
    );
  }
  await options.client.send(
    new SendMessageCommand({
      QueueUrl: options.queueUrl,
      MessageBody: message.Body ?? "",
      MessageAttributes: attributes,
      // FIFO: the same group, after the messages behind the original (whose emails then go first;
      // this one's left already), and deduplicated on the original, so a retried hand-over within
      // SQS's five minutes is one copy. FIFO takes no per-message delay; a standard queue's copy
      // waits out the fault as the original would have.
      ...(options.fifo
        ? {
            MessageGroupId: message.Attributes?.MessageGroupId ?? "accepted-send",
            MessageDeduplicationId: `accepted-send-${message.MessageId ?? fact.id}`,
          }
        : { DelaySeconds: Math.min(DELAY_MAX_SECONDS, options.delaySeconds(receiveCount)) }),
    }),
    { abortSignal: AbortSignal.timeout(COPY_SEND_TIMEOUT_MS) },
  );
}

/**
 * The fact first, then the trace context, then the message's own attributes (any earlier value of
 * ours replaced) while SQS's 10 slots last; the names that did not fit are returned for the log.
 */
export function copyAttributes(
  fact: AcceptedSendFact,
  key: DigestKey,
  original: Readonly<Record<string, MessageAttributeValue>> = {},
): { attributes: Record<string, MessageAttributeValue>; dropped: string[] } {
  const ordered = carriedAttributeOrder(
    Object.keys(original).filter((name) => name !== ACCEPTED_SEND_ATTRIBUTE),
  );
  const kept = ordered.slice(0, MESSAGE_ATTRIBUTES_MAX - 1);
  const attributes: Record<string, MessageAttributeValue> = {
    [ACCEPTED_SEND_ATTRIBUTE]: acceptedSendAttribute(fact, key),
  };
  for (const name of kept) attributes[name] = sendable(original[name] as MessageAttributeValue);
  return { attributes, dropped: ordered.slice(kept.length) };
}
