/**
 * Sends registrations with SendMessageBatch: 10 entries a request (the SQS maximum), several
 * requests in flight. Entries SQS fails for a reason on its side are retried with backoff; what
 * still fails is reported by index and reason. Nothing is dropped silently.
 */
import { createHash } from "node:crypto";
import {
  type BatchResultErrorEntry,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { OutgoingRegistration } from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { attributeBytes, createContextAttributes, sendSpan } from "../observability/tracing.js";
import { BATCH_MAX_BYTES, BATCH_MAX_ENTRIES, MESSAGE_SIZE_MAX_BYTES } from "../sqs/limits.js";
import { DEFAULT_RETRY_POLICY, type EntryFailure, type RetryPolicy, sendWithRetries } from "../sqs/retry.js";
import { type Clock, systemClock } from "../time/clock.js";

export interface ProducerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** Requests in flight at once. */
  readonly concurrency?: number;
  /** Attempts per entry, counting the first; the SDK retries whole requests on its own. */
  readonly maxAttempts?: number;
  /** First backoff delay; doubled on each retry, with full jitter. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** A FIFO queue needs a group and a deduplication id on every message. */
  readonly fifo?: boolean;
  /**
   * The queue's MaximumMessageSize: SQS counts message attributes in it, so a body that fits but
   * leaves no room for the trace context is sent without it. Default: SQS's largest, 1 MiB.
   */
  readonly maxMessageBytes?: number;
  readonly logger?: Logger;
  /** Backoff waits go through this (tests pass a fake). */
  readonly clock?: Clock;
}

export interface FailedEntry {
  /** Position in the input given to `send` (from 0), or the `index` the item carried. */
  readonly index: number;
  readonly id: string;
  readonly code: string;
  readonly reason: string;
}

export interface SendReport {
  readonly sent: number;
  readonly failed: readonly FailedEntry[];
  /** SendMessageBatch requests made, retries included. */
  readonly requests: number;
  /**
   * Set when a request failed in a way retries cannot fix; nothing more was read from the input
   * or sent after it (the entries in flight then are in `failed`).
   */
  readonly aborted?: Error;
}

export type ProgressListener = (progress: { sent: number; failed: number }) => void;

/** A registration with the number to report it by (an input line). */
export interface NumberedRegistration {
  readonly registration: OutgoingRegistration;
  readonly index: number;
}

/** What `send` reads: registrations (numbered by position) or numbered ones, sync or async. */
export type RegistrationSource =
  | Iterable<OutgoingRegistration | NumberedRegistration>
  | AsyncIterable<OutgoingRegistration | NumberedRegistration>;

interface Pending {
  readonly index: number;
  readonly registration: OutgoingRegistration;
  readonly body: string;
  readonly bytes: number;
  attempts: number;
  /** The message's create context and the attributes that carry it (none without an SDK). */
  readonly trace: ReturnType<typeof createContextAttributes>;
}

/** Characters outside the Basic Multilingual Plane (astral, as surrogate pairs) and U+FFFE/U+FFFF. */
const UNSAFE_FOR_SQS = /[\u{10000}-\u{10FFFF}\uFFFE\uFFFF]/gu;

/**
 * The message body: JSON, with every character above U+FFFF (emoji) and the noncharacters
 * U+FFFE/U+FFFF written as `\u` escapes (surrogate pairs for the astral ones), as Python's
 * `json.dumps` writes them. fauxqs rejects astral characters, SQS rejects U+FFFE/U+FFFF, and
 * every JSON parser reads the escapes back as the same string. Other non-ASCII text stays UTF-8:
 * escaping it too (Python's default) would triple the bytes of an accented name against the
 * 256 KiB limit for no gain. Control characters and lone surrogates JSON.stringify escapes itself.
 */
export function bodyOf(registration: OutgoingRegistration): string {
  return JSON.stringify(registration).replace(UNSAFE_FOR_SQS, (character) => {
    let escaped = "";
    for (let i = 0; i < character.length; i++) {
      escaped += `\\u${character.charCodeAt(i).toString(16).padStart(4, "0")}`;
    }
    return escaped;
  });
}

/** A registration always has `email`; a numbered one wraps it. */
function isNumbered(item: OutgoingRegistration | NumberedRegistration): item is NumberedRegistration {
  return !("email" in item) && "registration" in item;
}

function iteratorOf(
  source: RegistrationSource,
):
  | Iterator<OutgoingRegistration | NumberedRegistration>
  | AsyncIterator<OutgoingRegistration | NumberedRegistration> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

export class Producer {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly concurrency: number;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly fifo: boolean;
  private readonly maxMessageBytes: number;
  private readonly logger: Logger;
  private bufferedNow = 0;
  private bufferedPeak = 0;

  constructor(options: ProducerOptions) {
    const concurrency = options.concurrency ?? 8;
    const maxAttempts = options.maxAttempts ?? DEFAULT_RETRY_POLICY.maxAttempts;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number ≥ 1, got ${concurrency}`);
    }
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a whole number ≥ 1, got ${maxAttempts}`);
    }
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.concurrency = concurrency;
    // The one retry engine (src/sqs/retry.ts): the consumer's batchers retry the same way.
    this.retry = {
      maxAttempts,
      baseDelayMs: options.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    };
    this.clock = options.clock ?? systemClock;
    this.fifo = options.fifo ?? options.queueUrl.endsWith(".fifo");
    this.maxMessageBytes = options.maxMessageBytes ?? MESSAGE_SIZE_MAX_BYTES;
    this.logger = options.logger ?? silentLogger;
  }

  /** Registrations read from the input and not yet sent or failed; at most concurrency × 10 + 1. */
  get buffered(): number {
    return this.bufferedNow;
  }

  /** The most registrations ever held at once: memory is bounded by this, not by the input. */
  get peakBuffered(): number {
    return this.bufferedPeak;
  }

  /**
   * Sends everything `source` yields. The input is pulled a batch at a time, only when a
   * request slot is free (backpressure): a generator of a billion or an endless stdin is read
   * as fast as SQS takes it, never ahead of it.
   */
  async send(source: RegistrationSource, onProgress?: ProgressListener): Promise<SendReport> {
    const iterator = iteratorOf(source);
    const failed: FailedEntry[] = [];
    let sent = 0;
    let requests = 0;
    let aborted: Error | undefined;
    let sourceError: unknown;
    let exhausted = false;
    let position = 0;
    /** An entry that did not fit the previous batch's byte limit. */
    let carry: Pending | undefined;
    /** Batches are assembled one at a time: the iterator and `carry` are shared. */
    let assembling: Promise<unknown> = Promise.resolve();

    const report = () => onProgress?.({ sent, failed: failed.length });
    const settle = (count: number) => {
      this.bufferedNow -= count;
    };
    const fail = (entry: Pending, code: string, reason: string) => {
      failed.push({ index: entry.index, id: entry.registration.id, code, reason });
    };

    const take = async (): Promise<Pending | undefined> => {
      if (carry) {
        const entry = carry;
        carry = undefined;
        return entry;
      }
      if (exhausted || aborted) return undefined;
      let next: IteratorResult<OutgoingRegistration | NumberedRegistration>;
      try {
        next = await iterator.next();
      } catch (error) {
        sourceError = error;
        exhausted = true;
        return undefined;
      }
      if (next.done) {
        exhausted = true;
        return undefined;
      }
      const item = next.value;
      const registration = isNumbered(item) ? item.registration : item;
      const index = isNumbered(item) ? item.index : position;
      position += 1;
      const body = bodyOf(registration);
      this.bufferedNow += 1;
      this.bufferedPeak = Math.max(this.bufferedPeak, this.bufferedNow);
      // The create context is made once per message (a retry sends the same one); SQS counts its
      // attributes in the message's and the batch's size.
      let trace = createContextAttributes(this.queueUrl, 0, this.logger);
      const bodyBytes = Buffer.byteLength(body);
      if (bodyBytes + attributeBytes(trace.attributes) > this.maxMessageBytes) {
        // The body fits (checked when the input was read); the trace context is what does not.
        this.logger.debug(
          { bytes: bodyBytes, maxMessageBytes: this.maxMessageBytes },
          "message has no room for the trace context (SQS counts attributes in its size); not injected",
        );
        trace = { attributes: {}, ...(trace.link ? { link: trace.link } : {}) };
      }
      const bytes = bodyBytes + attributeBytes(trace.attributes);
      return { index, registration, body, bytes, attempts: 0, trace };
    };

    /** Up to 10 entries and 256 KiB (both SQS batch limits); empty when the input is done. */
    const assemble = async (): Promise<Pending[]> => {
      const batch: Pending[] = [];
      let bytes = 0;
      while (batch.length < BATCH_MAX_ENTRIES) {
        const entry = await take();
        if (!entry) break;
        if (batch.length > 0 && bytes + entry.bytes > BATCH_MAX_BYTES) {
          carry = entry;
          break;
        }
        batch.push(entry);
        bytes += entry.bytes;
      }
      return batch;
    };
    const nextBatch = (): Promise<Pending[]> => {
      const batch = assembling.then(assemble);
      assembling = batch.catch(() => undefined);
      return batch;
    };

    const sendBatch = async (batch: Pending[]): Promise<void> => {
      const outcome = await sendWithRetries(
        batch,
        async (entries) => {
          const links = entries.flatMap((entry) => (entry.trace.link ? [entry.trace.link] : []));
          const output = await sendSpan(this.queueUrl, links, entries.length, () =>
            this.client.send(
              new SendMessageBatchCommand({
                QueueUrl: this.queueUrl,
                Entries: entries.map((entry, i) => this.toEntry(entry, i)),
              }),
            ),
          );
          const failures = new Map<Pending, EntryFailure>();
          for (const failure of output.Failed ?? []) {
            const entry = entries[Number(failure.Id)];
            if (entry) failures.set(entry, toEntryFailure(failure));
          }
          return failures;
        },
        {
          policy: this.retry,
          clock: this.clock,
          onAttempt: (succeeded) => {
            sent += succeeded;
            settle(succeeded);
            report();
          },
          onRetry: (entries, attempt) =>
            this.logger.warn({ entries, attempt }, "SQS did not accept some entries; retrying with backoff"),
          giveUp: () => aborted !== undefined,
        },
      );
      requests += outcome.requests;
      if (outcome.fatal !== undefined && !aborted) aborted = outcome.fatal as Error;
      for (const { entry, failure, attempts, wholeRequest } of outcome.failed) {
        fail(entry, failure.code, wholeRequest ? failure.message : describeFailure(failure, attempts));
      }
      settle(outcome.failed.length);
      if (outcome.failed.length > 0) report();
    };

    const worker = async () => {
      for (;;) {
        const batch = await nextBatch();
        if (batch.length === 0) return;
        if (aborted) {
          for (const entry of batch) fail(entry, "Aborted", "not sent: an earlier request failed");
          settle(batch.length);
          continue;
        }
        await sendBatch(batch);
      }
    };
    try {
      await Promise.all(Array.from({ length: this.concurrency }, worker));
    } finally {
      if (carry) {
        fail(carry, "Aborted", "not sent: an earlier request failed");
        settle(1);
        carry = undefined;
      }
      // Stop the input (closes a file, ends a generator) when we stopped before its end.
      if (!exhausted) await iterator.return?.();
    }
    if (sourceError !== undefined) throw sourceError;
    failed.sort((a, b) => a.index - b.index);
    return { sent, failed, requests, ...(aborted ? { aborted } : {}) };
  }

  /** Batch entry ids are positions in the request: at most 80 characters, unique per request. */
  private toEntry(entry: Pending, position: number): SendMessageBatchRequestEntry {
    const message: SendMessageBatchRequestEntry = { Id: String(position), MessageBody: entry.body };
    if (Object.keys(entry.trace.attributes).length > 0) message.MessageAttributes = entry.trace.attributes;
    if (this.fifo) {
      // One group per registration: registrations are independent, so they may run in parallel.
      message.MessageGroupId = entry.registration.id;
      message.MessageDeduplicationId = createHash("sha256").update(entry.registration.id).digest("hex");
    }
    return message;
  }
}

function toEntryFailure(failure: BatchResultErrorEntry): EntryFailure {
  return {
    code: failure.Code ?? "Unknown",
    message: failure.Message ?? failure.Code ?? "unknown error",
    senderFault: failure.SenderFault ?? false,
  };
}

function describeFailure(failure: EntryFailure, attempts: number): string {
  return failure.senderFault ? failure.message : `${failure.message} (after ${attempts} attempts)`;
}
