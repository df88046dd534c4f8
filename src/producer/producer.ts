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

/** SQS limits a SendMessageBatch request to 10 entries and 256 KiB of payload (AWS quotas). */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 262_144;

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
  readonly logger?: Logger;
}

export interface FailedEntry {
  /** Position in the array given to `send`. */
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
  /** Set when a request failed in a way retries cannot fix; nothing more was sent after it. */
  readonly aborted?: Error;
}

export type ProgressListener = (progress: { sent: number; failed: number }) => void;

interface Pending {
  readonly index: number;
  readonly registration: OutgoingRegistration;
  readonly body: string;
  attempts: number;
}

/** The bytes a message body takes on the wire (SQS counts UTF-8 bytes). */
export function bodyOf(registration: OutgoingRegistration): string {
  return JSON.stringify(registration);
}

/** Groups pending entries into requests that respect both batch limits. */
export function toBatches(entries: readonly Pending[]): Pending[][] {
  const batches: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size = Buffer.byteLength(entry.body);
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + size > MAX_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Errors a whole request can fail with that another try may fix. */
function isRetryable(error: unknown): boolean {
  const e = error as { $retryable?: unknown; $metadata?: { httpStatusCode?: number }; name?: string };
  const status = e.$metadata?.httpStatusCode ?? 0;
  return (
    e.$retryable !== undefined ||
    status >= 500 ||
    status === 429 ||
    /Throttl|RequestThrottled|ServiceUnavailable|InternalError/.test(e.name ?? "")
  );
}

export class Producer {
  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly fifo: boolean;
  private readonly logger: Logger;

  constructor(options: ProducerOptions) {
    const concurrency = options.concurrency ?? 8;
    const maxAttempts = options.maxAttempts ?? 5;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a whole number ≥ 1, got ${concurrency}`);
    }
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
      throw new RangeError(`maxAttempts must be a whole number ≥ 1, got ${maxAttempts}`);
    }
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.concurrency = concurrency;
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.fifo = options.fifo ?? options.queueUrl.endsWith(".fifo");
    this.logger = options.logger ?? silentLogger;
  }

  async send(
    registrations: readonly OutgoingRegistration[],
    onProgress?: ProgressListener,
  ): Promise<SendReport> {
    const pending: Pending[] = registrations.map((registration, index) => ({
      index,
      registration,
      body: bodyOf(registration),
      attempts: 0,
    }));
    const batches = toBatches(pending);
    const failed: FailedEntry[] = [];
    let sent = 0;
    let requests = 0;
    let aborted: Error | undefined;
    let next = 0;

    const report = () => onProgress?.({ sent, failed: failed.length });
    const fail = (entry: Pending, code: string, reason: string) => {
      failed.push({ index: entry.index, id: entry.registration.id, code, reason });
    };

    const sendBatch = async (batch: Pending[]): Promise<void> => {
      let remaining = batch;
      while (remaining.length > 0 && !aborted) {
        for (const entry of remaining) entry.attempts += 1;
        const attempt = remaining[0]?.attempts ?? 1;
        let retry: Pending[] = [];
        try {
          requests += 1;
          const output = await this.client.send(
            new SendMessageBatchCommand({
              QueueUrl: this.queueUrl,
              Entries: remaining.map((entry) => this.toEntry(entry)),
            }),
          );
          const byId = new Map(remaining.map((entry) => [String(entry.index), entry]));
          sent += output.Successful?.length ?? 0;
          for (const failure of output.Failed ?? []) {
            const entry = byId.get(failure.Id ?? "");
            if (!entry) continue;
            if (failure.SenderFault || entry.attempts >= this.maxAttempts) {
              fail(entry, failure.Code ?? "Unknown", describeFailure(failure, entry.attempts));
            } else {
              retry.push(entry);
            }
          }
        } catch (error) {
          if (!isRetryable(error) || attempt >= this.maxAttempts) {
            if (!isRetryable(error)) aborted = error as Error;
            for (const entry of remaining) {
              fail(entry, (error as Error).name, (error as Error).message);
            }
            retry = [];
          } else {
            retry = remaining;
          }
        }
        report();
        if (retry.length > 0) {
          this.logger.warn(
            { entries: retry.length, attempt },
            "SQS did not accept some entries; retrying with backoff",
          );
          await sleep(this.backoff(attempt));
        }
        remaining = retry;
      }
      if (aborted) {
        for (const entry of remaining) fail(entry, "Aborted", "not sent: an earlier request failed");
      }
    };

    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++];
        if (!batch) break;
        if (aborted) {
          for (const entry of batch) fail(entry, "Aborted", "not sent: an earlier request failed");
          continue;
        }
        await sendBatch(batch);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, batches.length) }, worker));
    failed.sort((a, b) => a.index - b.index);
    return { sent, failed, requests, ...(aborted ? { aborted } : {}) };
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.random() * ceiling;
  }

  private toEntry(entry: Pending): SendMessageBatchRequestEntry {
    const message: SendMessageBatchRequestEntry = { Id: String(entry.index), MessageBody: entry.body };
    if (this.fifo) {
      // One group per registration: registrations are independent, so they may run in parallel.
      message.MessageGroupId = entry.registration.id;
      message.MessageDeduplicationId = createHash("sha256").update(entry.registration.id).digest("hex");
    }
    return message;
  }
}

function describeFailure(failure: BatchResultErrorEntry, attempts: number): string {
  const message = failure.Message ?? failure.Code ?? "unknown error";
  return failure.SenderFault ? message : `${message} (after ${attempts} attempts)`;
}
