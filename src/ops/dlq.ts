/**
 * Reading the dead-letter queue: `dlq list`, `dlq show <id>`, `dlq purge`.
 *
 * SQS has no "peek": a message is read by receiving it, which hides it for a visibility timeout.
 * Listing receives with a short visibility (so a crash hands the messages back soon), keeps what
 * it saw hidden until the end (so a message is not listed twice) and then hands every message
 * back at once with visibility 0, in batches of 10. Each listing adds one to the messages'
 * ApproximateReceiveCount; the dead-letter queue has no redrive policy of its own, so that is
 * harmless. On real SQS a receive returns a sample of the queue's servers: a listing is a sample,
 * not an enumeration, and `status` gives the count.
 *
 * Personal data: bodies are never printed. `show` prints a summary of the body's fields (the
 * name's initial, the masked address, the registration id); error texts have addresses masked
 * and quoted fragments elided (V8's JSON.parse messages quote the body).
 */
import {
  type Message,
  type MessageAttributeValue,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { ACCEPTED_SEND_ATTRIBUTE } from "../contract/accepted-send-attribute.js";
import { DEAD_LETTER_ATTRIBUTE_NAMES, readDeadLetterAttributes } from "../contract/dead-letter.js";
import { maskEmail, registrationSchema } from "../contract/registration.js";
import { BATCH_MAX_ENTRIES } from "../sqs/limits.js";
import {
  DeadLetterNotFoundError,
  PurgeCancelledError,
  PurgeInProgressError,
  PurgeNotConfirmedError,
} from "./errors.js";
import { changeVisibility } from "./queues.js";

/** Seconds a listed message stays hidden if the listing dies before handing it back. */
export const PEEK_VISIBILITY_SECONDS = 30;

/** How `list` and `show` describe a message: never its body. */
export interface DeadLetterSummary {
  /** The SQS MessageId in the dead-letter queue. */
  readonly id: string;
  readonly reason: string;
  /** The handler's error, addresses masked and quoted fragments elided; null when absent. */
  readonly error: string | null;
  readonly sourceMessageId: string | null;
  readonly sourceQueueUrl: string | null;
  /** When it was sent to the dead-letter queue (ISO 8601), when SQS says. */
  readonly sentAt: string | null;
  /** Receives in the dead-letter queue, this one included (listings count too). */
  readonly receiveCount: number | null;
  readonly bodyBytes: number;
}

/** `show`: the summary, the other attributes by name and type, and the body's fields, masked. */
export interface DeadLetterDetail extends DeadLetterSummary {
  readonly otherAttributes: { readonly name: string; readonly dataType: string }[];
  /** The message's own attributes that did not fit beside ours when it was dead-lettered. */
  readonly droppedAttributes: string[];
  /**
   * It carries an accepted send's fact (contract/accepted-send-attribute.ts): its email left, its
   * record was not written. Not verified here (that takes the digest key); a redrive keeps it, and
   * the consumer then writes the record instead of mailing again.
   */
  readonly acceptedSend: boolean;
  readonly body: BodySummary;
}

export interface BodySummary {
  /** "registration": a valid one; "json": JSON but not a registration; "not-json". */
  readonly kind: "registration" | "json" | "not-json";
  /** First letter of `nome` and a dot ("M."), when it is a non-empty string. */
  readonly nomeInitial: string | null;
  /** `email` masked with maskEmail, when it is a string. */
  readonly email: string | null;
  /** The body's `id`, or for a valid registration without one the id it is processed under. */
  readonly registrationId: string | null;
}

const EMAIL = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;

/** Masks every address in a free text and elides quoted fragments (they may quote a body). */
export function redact(text: string, maxLength = 300): string {
  const redacted = text
    .replace(EMAIL, (address) => maskEmail(address))
    .replace(/"[^"]*"/g, '"…"')
    .replace(/'[^']{2,}'/g, "'…'");
  return redacted.length > maxLength ? `${redacted.slice(0, maxLength)}…` : redacted;
}

export function summarize(message: Message): DeadLetterSummary {
  const { reason, error, sourceMessageId, sourceQueueUrl } = readDeadLetterAttributes(message);
  const sent = Number(message.Attributes?.SentTimestamp);
  const receives = Number(message.Attributes?.ApproximateReceiveCount);
  return {
    id: message.MessageId ?? "?",
    reason: redact(reason, 100),
    error: error === null ? null : redact(error),
    sourceMessageId,
    sourceQueueUrl,
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
    receiveCount: Number.isFinite(receives) ? receives : null,
    bodyBytes: Buffer.byteLength(message.Body ?? "", "utf8"),
  };
}

/** The body's registration fields, masked; nothing else of it. */
export function summarizeBody(body: string): BodySummary {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { kind: "not-json", nomeInitial: null, email: null, registrationId: null };
  }
  const fields =
    value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const valid = registrationSchema.safeParse(value);
  const nome = typeof fields.nome === "string" ? fields.nome.trim() : "";
  // A body without an id gets a keyed default id in the consumer; the key is not ours to use here.
  const id =
    typeof fields.id === "string" ? fields.id : typeof fields.id === "number" ? String(fields.id) : null;
  return {
    kind: valid.success ? "registration" : "json",
    nomeInitial: nome ? `${[...nome][0]?.toUpperCase()}.` : null,
    email: typeof fields.email === "string" ? maskEmail(fields.email) : null,
    registrationId: id === null ? null : redact(id, 128),
  };
}

export function detail(message: Message): DeadLetterDetail {
  return {
    ...summarize(message),
    otherAttributes: Object.entries(message.MessageAttributes ?? {})
      .filter(([name]) => !DEAD_LETTER_ATTRIBUTE_NAMES.has(name))
      .map(([name, value]: [string, MessageAttributeValue]) => ({ name, dataType: value.DataType ?? "?" }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    droppedAttributes: readDeadLetterAttributes(message).droppedAttributes,
    acceptedSend: message.MessageAttributes?.[ACCEPTED_SEND_ATTRIBUTE] !== undefined,
    body: summarizeBody(message.Body ?? ""),
  };
}

export interface PeekOptions {
  readonly client: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** Stop after this many distinct messages. */
  readonly max: number;
  /** Long-poll wait of each receive: 1 s reaches all of SQS's servers; 0 is enough locally. */
  readonly waitTimeSeconds?: number;
  /** Stop early once this returns true for a message (`show` stops at its id). */
  readonly until?: (message: Message) => boolean;
}

/**
 * Receives up to `max` distinct messages, keeps them hidden while it reads, then hands every one
 * back (visibility 0). Stops at the first receive that brings nothing new. `notRestored` counts
 * messages that stay hidden until PEEK_VISIBILITY_SECONDS pass (a failed visibility change).
 */
export async function peekDeadLetters(
  options: PeekOptions,
): Promise<{ messages: Message[]; notRestored: number }> {
  const { client, deadLetterQueueUrl: queueUrl } = options;
  const seen = new Map<string, Message>();
  const handles: string[] = [];
  let failure: unknown;
  try {
    while (seen.size < options.max) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: Math.min(BATCH_MAX_ENTRIES, options.max - seen.size),
          WaitTimeSeconds: options.waitTimeSeconds ?? 1,
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          // Asked for explicitly: real SQS returns no attributes otherwise.
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      let fresh = 0;
      let done = false;
      for (const message of Messages) {
        if (message.ReceiptHandle) handles.push(message.ReceiptHandle);
        const id = message.MessageId ?? message.ReceiptHandle ?? "";
        if (seen.has(id) || seen.size >= options.max) continue;
        seen.set(id, message);
        fresh += 1;
        if (options.until?.(message)) done = true;
      }
      if (fresh === 0 || done) break;
    }
  } catch (error) {
    failure = error;
  }
  // Handed back even when a receive failed half-way.
  const notRestored = await changeVisibility(client, queueUrl, handles, 0);
  if (failure !== undefined) throw failure;
  return { messages: [...seen.values()], notRestored };
}

export async function listDeadLetters(
  options: Omit<PeekOptions, "until">,
): Promise<{ messages: DeadLetterSummary[]; notRestored: number }> {
  const { messages, notRestored } = await peekDeadLetters(options);
  return { messages: messages.map(summarize), notRestored };
}

export async function showDeadLetter(
  options: Omit<PeekOptions, "until"> & { readonly messageId: string },
): Promise<{ message: DeadLetterDetail; notRestored: number }> {
  const { messages, notRestored } = await peekDeadLetters({
    ...options,
    until: (message) => message.MessageId === options.messageId,
  });
  const found = messages.find((message) => message.MessageId === options.messageId);
  if (!found)
    throw new DeadLetterNotFoundError(options.messageId, options.deadLetterQueueUrl, messages.length);
  return { message: detail(found), notRestored };
}

export interface PurgeOptions {
  readonly client: SQSClient;
  readonly deadLetterQueueUrl: string;
  /** --yes: no question asked. */
  readonly yes: boolean;
  /** Whether there is a terminal to ask on (stdin and stderr are TTYs). */
  readonly interactive: boolean;
  /** Asks the question; resolves with the answer. */
  readonly ask: (question: string) => Promise<string>;
  /** Messages in the queue now, for the question. */
  readonly count: number;
}

/** Purges the dead-letter queue after confirmation (or --yes). Throws when not confirmed. */
export async function purgeDeadLetters(options: PurgeOptions): Promise<void> {
  const queueUrl = options.deadLetterQueueUrl;
  if (!options.yes) {
    if (!options.interactive) throw new PurgeNotConfirmedError(queueUrl);
    const answer = await options.ask(
      `Delete all ${options.count} message(s) of ${queueUrl}? This cannot be undone. Type "yes" to confirm: `,
    );
    if (answer.trim().toLowerCase() !== "yes") throw new PurgeCancelledError(queueUrl);
  }
  try {
    await options.client.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  } catch (error) {
    if (/PurgeQueueInProgress/.test((error as Error).name ?? "")) {
      throw new PurgeInProgressError(queueUrl, { cause: error });
    }
    throw error;
  }
}
