/**
 * A local stand-in for Lambda's SQS event source mapping, so the function's handler runs on the
 * embedded SQS (the demo's `--runtime lambda`, the conformance suite). It does what AWS documents
 * for the mapping, and nothing the function could lean on that AWS does not:
 *
 * - pollers long-poll the queue and gather a batch of up to `batchSize` records, waiting up to the
 *   batching window for a full one (MaximumBatchingWindowInSeconds);
 * - up to `maximumConcurrency` invocations run at once, each in a container that is kept for the
 *   next batch (warm) and replaced after a timeout;
 * - a response's batchItemFailures are left in the queue untouched (their visibility is the
 *   function's business), every other record is deleted; a response naming a record that was not
 *   in the batch, a thrown error or a timeout fails the whole batch (nothing deleted, so it comes
 *   back after its visibility timeout).
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { ConfigurationError } from "../errors.js";
import { toRecord } from "../lambda/records.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { batchEntryId } from "../sqs/batcher.js";
import { BATCH_MAX_ENTRIES, LONG_POLL_MAX_SECONDS, RECEIVE_MAX_MESSAGES } from "../sqs/limits.js";
import { queueName } from "../sqs/queue-pair.js";

/** What the mapping invokes: one warm container of the function. */
export interface FunctionContainer {
  handle(event: SQSEvent, remainingMs: () => number): Promise<SQSBatchResponse>;
}

export interface EventSourceMappingOptions {
  /** The mapping's own client: receives and deletes. */
  readonly client: SQSClient;
  readonly queueUrl: string;
  /** A new container (a cold start): called for each concurrent invocation's first batch and after a timeout. */
  readonly openContainer: () => Promise<FunctionContainer>;
  /** Records per invocation. Default 10 (AWS: 1–10 for FIFO, up to 10,000 with a window). */
  readonly batchSize?: number;
  /** How long a poller gathers a partial batch. Default 0; must be 0 for a FIFO queue (AWS). */
  readonly batchingWindowMs?: number;
  /** Invocations at once (AWS: 2–1,000). Default 2. */
  readonly maximumConcurrency?: number;
  /** The function's timeout. Default 30 s. */
  readonly functionTimeoutMs?: number;
  /** Long-poll wait of an empty queue's receive. Default 20 s. */
  readonly waitTimeSeconds?: number;
  /** Stop once every poller found the queue empty with nothing in flight (the demo). */
  readonly stopWhenEmpty?: boolean;
  readonly logger?: Logger;
}

export interface EventSourceMappingStats {
  invocations: number;
  received: number;
  /** Deleted by the mapping: the records the function did not name. */
  deleted: number;
  /** Records named in batchItemFailures. */
  reportedFailures: number;
  /** Invocations that threw, timed out or answered with an unknown record: the whole batch left. */
  functionErrors: number;
  /** Containers opened: the first per concurrent invocation, and one after each timeout. */
  coldStarts: number;
}

class FunctionTimeout extends Error {
  override readonly name = "FunctionTimeout";
}

export class EventSourceMapping {
  readonly stats: EventSourceMappingStats = {
    invocations: 0,
    received: 0,
    deleted: 0,
    reportedFailures: 0,
    functionErrors: 0,
    coldStarts: 0,
  };
  private readonly abort = new AbortController();
  private running = false;
  private killed = false;
  private lanes: Promise<void>[] = [];
  private readonly idle = new Set<number>();
  private queueArn = "";
  private region = "";

  constructor(private readonly options: EventSourceMappingOptions) {}

  /**
   * Reads the queue's ARN (the event's eventSourceARN) and starts the pollers. Refuses a FIFO
   * queue with a batching window, as AWS refuses that mapping (ConfigurationError).
   */
  async start(): Promise<void> {
    const { Attributes = {} } = await this.options.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.options.queueUrl,
        AttributeNames: ["QueueArn", "FifoQueue"],
      }),
    );
    const windowMs = this.options.batchingWindowMs ?? 0;
    if (Attributes.FifoQueue === "true" && windowMs > 0) {
      throw new ConfigurationError(
        `the event source mapping of FIFO queue ${queueName(this.options.queueUrl)} has a batching window of ${windowMs} ms, which AWS refuses for FIFO event sources (MaximumBatchingWindowInSeconds): set the batching window to 0`,
      );
    }
    this.queueArn = Attributes.QueueArn ?? "";
    this.region = this.queueArn.split(":")[3] ?? "";
    this.running = true;
    const lanes = this.options.maximumConcurrency ?? 2;
    this.lanes = Array.from({ length: lanes }, (_, lane) => this.lane(lane));
  }

  /** Resolves when every poller has stopped (stop(), kill() or stopWhenEmpty). */
  get finished(): Promise<void> {
    return Promise.all(this.lanes).then(() => undefined);
  }

  /** No new batch; invocations under way finish and settle. */
  async stop(): Promise<void> {
    this.running = false;
    this.abort.abort();
    await this.finished;
  }

  /**
   * As if the pollers and the function died at once: invocations under way are abandoned, nothing
   * more is deleted; their records come back after their visibility timeout.
   */
  kill(): void {
    this.running = false;
    this.killed = true;
    this.abort.abort();
  }

  private async lane(lane: number): Promise<void> {
    let container: FunctionContainer | undefined;
    while (this.running) {
      const batch = await this.gather().catch((error: unknown) => {
        if (!this.abort.signal.aborted) this.logger.warn({ err: error }, "receive failed; polling again");
        return [] as Message[];
      });
      if (!this.running && (this.killed || batch.length === 0)) return;
      if (batch.length === 0) {
        this.idle.add(lane);
        if (this.options.stopWhenEmpty && this.idle.size === this.lanes.length) this.running = false;
        continue;
      }
      this.idle.delete(lane);
      if (!container) {
        this.stats.coldStarts += 1;
        container = await this.options.openContainer();
      }
      const outcome = await this.invoke(container, batch);
      if (this.killed) return;
      if (outcome === "timeout") container = undefined;
    }
  }

  private get logger(): Logger {
    return this.options.logger ?? silentLogger;
  }

  /** One batch: receives until it is full, the window has passed, or (no window) the first receive. */
  private async gather(): Promise<Message[]> {
    const batchSize = this.options.batchSize ?? BATCH_MAX_ENTRIES;
    const windowMs = this.options.batchingWindowMs ?? 0;
    const started = Date.now();
    const batch: Message[] = [];
    while (batch.length < batchSize && this.running) {
      const left = windowMs - (Date.now() - started);
      // The first receive waits for a message; later ones only as long as the window has left.
      const wait =
        batch.length === 0
          ? (this.options.waitTimeSeconds ?? LONG_POLL_MAX_SECONDS)
          : Math.max(0, Math.min(LONG_POLL_MAX_SECONDS, Math.floor(left / 1000)));
      let messages: Message[];
      try {
        ({ Messages: messages = [] } = await this.options.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.options.queueUrl,
            MaxNumberOfMessages: Math.min(RECEIVE_MAX_MESSAGES, batchSize - batch.length),
            WaitTimeSeconds: wait,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["All"],
          }),
          { abortSignal: this.abort.signal },
        ));
      } catch (error) {
        // What was gathered already is invoked: dropping it would strand it until its visibility ends.
        if (batch.length > 0) return batch;
        throw error;
      }
      batch.push(...messages);
      if (batch.length === 0) return batch;
      if (Date.now() - started >= windowMs) break;
      // A partial batch inside the window: a short pause before asking again (SQS's long poll
      // answers at once with what it has, so without one this would spin).
      if (messages.length === 0 || batch.length < batchSize) {
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(0, left))));
      }
    }
    return batch;
  }

  private async invoke(container: FunctionContainer, batch: Message[]): Promise<"ok" | "error" | "timeout"> {
    this.stats.invocations += 1;
    this.stats.received += batch.length;
    const timeoutMs = this.options.functionTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    const event: SQSEvent = { Records: batch.map((m) => toRecord(m, this.queueArn, this.region)) };
    let timer: NodeJS.Timeout | undefined;
    let response: SQSBatchResponse;
    try {
      response = await Promise.race([
        container.handle(event, () => Math.max(0, deadline - Date.now())),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new FunctionTimeout(`timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } catch (error) {
      this.stats.functionErrors += 1;
      this.logger.warn({ err: error, records: batch.length }, "invocation failed: the whole batch is left");
      return error instanceof FunctionTimeout ? "timeout" : "error";
    } finally {
      clearTimeout(timer);
    }
    if (this.killed) return "ok";
    const ids = new Set(batch.map((m) => m.MessageId));
    const named = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
    if ([...named].some((id) => !ids.has(id))) {
      // AWS: an identifier that is empty or not in the batch fails the whole batch.
      this.stats.functionErrors += 1;
      return "error";
    }
    this.stats.reportedFailures += named.size;
    await this.delete(batch.filter((m) => !named.has(m.MessageId ?? "")));
    return "ok";
  }

  private async delete(messages: Message[]): Promise<void> {
    for (let i = 0; i < messages.length; i += BATCH_MAX_ENTRIES) {
      const chunk = messages.slice(i, i + BATCH_MAX_ENTRIES);
      try {
        const { Failed = [] } = await this.options.client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: chunk.map((m, j) => ({ Id: batchEntryId(j), ReceiptHandle: m.ReceiptHandle ?? "" })),
          }),
        );
        this.stats.deleted += chunk.length - Failed.length;
      } catch (error) {
        this.logger.warn({ err: error }, "delete failed; SQS will deliver those records again");
      }
    }
  }
}
