/**
 * The attributes a consumer adds when it dead-letters a message, and their reader, defined once: the
 * runtime writes them (consumer/runtime/dead-letter.ts), `dlq list|show` reads them and `dlq
 * redrive` filters on the reason and removes them on the way back (ops/). Also the order in which
 * the 10 attribute slots are given out.
 */
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import { MESSAGE_ATTRIBUTES_MAX } from "../sqs/limits.js";
import { ACCEPTED_SEND_ATTRIBUTE } from "./accepted-send-attribute.js";

export const DEAD_LETTER_ATTRIBUTES = {
  reason: "dead-letter-reason",
  error: "dead-letter-error",
  sourceMessageId: "source-message-id",
  sourceQueueUrl: "source-queue-url",
  /**
   * The names of the message's own attributes that did not fit beside ours (SQS allows 10), comma
   * separated (an attribute name is letters, digits, `_`, `-` and `.`: never a comma). Absent when
   * nothing was dropped.
   */
  droppedAttributes: "dead-letter-dropped-attributes",
} as const;

/** Every name the dead-lettering writes: what a reader shows apart and a redrive strips. */
export const DEAD_LETTER_ATTRIBUTE_NAMES: ReadonlySet<string> = new Set(
  Object.values(DEAD_LETTER_ATTRIBUTES),
);

/**
 * The W3C trace context (what the producer's propagator injects): kept before any other original
 * attribute, so the dead-lettered message still links to the trace it came from.
 */
export const TRACE_CONTEXT_ATTRIBUTES = ["traceparent", "tracestate"] as const;

/**
 * The dead-lettered message's attributes: the reason, the error, the source (always), then the
 * trace context and an accepted send's fact (contract/accepted-send-attribute.ts: dropped, a redrive would
 * mail that person again), then the message's own attributes in their order while room remains. When some do
 * not fit, one slot lists their names instead of the last of them, so nothing vanishes silently.
 */
export function withDeadLetterAttributes(
  ours: {
    readonly reason: string;
    readonly error: string;
    readonly sourceMessageId: string;
    readonly sourceQueueUrl: string;
  },
  original: Readonly<Record<string, MessageAttributeValue>> = {},
): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });
  const result: Record<string, MessageAttributeValue> = {
    [DEAD_LETTER_ATTRIBUTES.reason]: text(ours.reason),
    [DEAD_LETTER_ATTRIBUTES.error]: text(ours.error),
    [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: text(ours.sourceMessageId),
    [DEAD_LETTER_ATTRIBUTES.sourceQueueUrl]: text(ours.sourceQueueUrl),
  };
  // A message dead-lettered before (then redriven) may carry our names: ours replace them.
  const ordered = carriedAttributeOrder(
    Object.keys(original).filter((name) => !DEAD_LETTER_ATTRIBUTE_NAMES.has(name)),
  );
  const room = MESSAGE_ATTRIBUTES_MAX - Object.keys(result).length;
  const kept = ordered.length <= room ? ordered : ordered.slice(0, room - 1);
  for (const name of kept) result[name] = sendable(original[name] as MessageAttributeValue);
  const dropped = ordered.slice(kept.length);
  if (dropped.length > 0) result[DEAD_LETTER_ATTRIBUTES.droppedAttributes] = text(dropped.join(","));
  return result;
}

/**
 * The order in which a message's own attributes are carried onto a message sent on its behalf (a
 * dead-lettering, the Lambda function's hand-over copy) while SQS's slots last: the trace context,
 * then an accepted send's fact, then the rest in their order.
 */
export function carriedAttributeOrder(names: readonly string[]): string[] {
  const first: string[] = [...TRACE_CONTEXT_ATTRIBUTES, ACCEPTED_SEND_ATTRIBUTE].filter((name) =>
    names.includes(name),
  );
  return [...first, ...names.filter((name) => !first.includes(name))];
}

/** A received attribute value as SendMessage takes it: a received one also carries empty list fields, which it refuses. */
export function sendable(value: MessageAttributeValue): MessageAttributeValue {
  return {
    DataType: value.DataType,
    ...(value.StringValue !== undefined ? { StringValue: value.StringValue } : {}),
    ...(value.BinaryValue !== undefined ? { BinaryValue: value.BinaryValue } : {}),
  };
}

/** The names a dead-lettering had to drop (empty when none, or not dead-lettered by us). */
export function droppedAttributesOf(
  attributes: Readonly<Record<string, MessageAttributeValue>> = {},
): string[] {
  const value = attributes[DEAD_LETTER_ATTRIBUTES.droppedAttributes]?.StringValue;
  return value ? value.split(",").filter(Boolean) : [];
}

/**
 * The reason shown for a message SQS itself moved after maxReceiveCount failed receives: it has
 * none of our attributes, only the system attribute DeadLetterQueueSourceArn.
 */
export const MAX_RECEIVES_REASON = "max-receive-count";
/** The reason shown for a message in the dead-letter queue that neither we nor SQS moved there. */
export const UNKNOWN_REASON = "unknown";

/** What a dead-lettering wrote on a message, as received back from the dead-letter queue. */
export interface DeadLetterAttributes {
  /** Ours, or MAX_RECEIVES_REASON / UNKNOWN_REASON when the message carries none. */
  readonly reason: string;
  readonly error: string | null;
  readonly sourceMessageId: string | null;
  readonly sourceQueueUrl: string | null;
  readonly droppedAttributes: string[];
}

/** Reads the dead-letter attributes of a received message (asked for with MessageAttributeNames). */
export function readDeadLetterAttributes(
  message: Pick<Message, "MessageAttributes" | "Attributes">,
): DeadLetterAttributes {
  const value = (name: string): string | null => message.MessageAttributes?.[name]?.StringValue ?? null;
  const reason = value(DEAD_LETTER_ATTRIBUTES.reason);
  return {
    reason: reason ?? (message.Attributes?.DeadLetterQueueSourceArn ? MAX_RECEIVES_REASON : UNKNOWN_REASON),
    error: value(DEAD_LETTER_ATTRIBUTES.error),
    sourceMessageId: value(DEAD_LETTER_ATTRIBUTES.sourceMessageId),
    sourceQueueUrl: value(DEAD_LETTER_ATTRIBUTES.sourceQueueUrl),
    droppedAttributes: droppedAttributesOf(message.MessageAttributes),
  };
}
