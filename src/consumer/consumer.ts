/**
 * The consumer runtime: long-polls SQS, runs a handler for each message with bounded
 * concurrency, and deletes a message only after its handler succeeded.
 *
 * - Polling is separate from processing: pollers fill a small buffer of received messages
 *   (`prefetch`) and handlers take from it, so a handler never waits for a receive round trip.
 *   A receive asks for a full batch (10) and is made only when a full batch fits; a slow message
 *   holds one slot, never the others.
 * - Deletes and visibility changes go through batchers (10 entries a request).
 * - One heartbeat extends the visibility of messages close to expiry, so a slow handler keeps
 *   its message invisible instead of letting a second consumer start it again.
 * - A failed message gets a visibility timeout that grows with its receive count; after the
 *   queue's maxReceiveCount SQS itself moves it to the dead-letter queue (the count survives,
 *   unlike a re-publish). A poison message (PoisonMessageError) goes there at once.
 * - FIFO queues: in order within a message group, in parallel across groups; a failure holds
 *   back the rest of its group.
 * - A fault of the consumer's own environment (EnvironmentFaultError) is not the message's: it
 *   opens a circuit breaker (circuit-breaker.ts) that pauses receiving, hands back what is held,
 *   and probes with one held message until the fault clears.
 * - stop() ends within its deadline whatever handlers do: handlers still running then are
 *   abandoned (their signal aborted, their outcome ignored) and their messages reappear after the
 *   visibility timeout.
 */
import { EventEmitter } from "node:events";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { SqsAccessError } from "../errors.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { clientSpan, processSpan } from "../observability/tracing.js";
import { type BatchEntryFailure, Batcher } from "../sqs/batcher.js";
import { isFatal } from "../sqs/errors.js";
import {
  BATCH_MAX_ENTRIES,
  LONG_POLL_MAX_SECONDS,
  MESSAGE_ATTRIBUTES_MAX,
  VISIBILITY_MAX_SECONDS,
} from "../sqs/limits.js";
import { CircuitBreaker, type CircuitBreakerOptions } from "./circuit-breaker.js";
import {
  type EnvironmentComponent,
  EnvironmentFaultError,
  HandlerError,
  PoisonMessageError,
  RetryAfterError,
} from "./errors.js";

export interface HandlerContext {
  /** Aborted when the consumer stops and its shutdown deadline has passed. */
  readonly signal: AbortSignal;
  /** How many times SQS has delivered this message, this time included. */
  readonly receiveCount: number;
}

export type MessageHandler = (message: Message, context: HandlerContext) => Promise<void>;

export interface ConsumerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly handler: MessageHandler;
  /** Where poison messages go. Default: the queue's RedrivePolicy target. */
  readonly deadLetterQueueUrl?: string | undefined;
  /** Handlers running at once. Default 20. */
  readonly concurrency?: number;
  /**
   * Received messages that may wait for a free handler, on top of `concurrency`. Default: a fifth
   * of the concurrency, at least one batch (10). The heartbeat keeps them invisible too.
   */
  readonly prefetch?: number;
  /** Long-poll wait of each receive, 0–20 s. Default 20 (the cheapest). */
  readonly waitTimeSeconds?: number;
  /** Visibility timeout the heartbeat renews. Default: the queue's VisibilityTimeout. */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * The queue's attributes (VisibilityTimeout, RedrivePolicy, FifoQueue) when the caller has read
   * them already (describeQueue in registrations.ts): start() then does not ask SQS again.
   */
  readonly queueAttributes?: Readonly<Record<string, string>>;
  /** Backoff after a failure: base × 2^(receiveCount − 1) seconds, capped. Default 2. */
  readonly retryBaseDelaySeconds?: number;
  /** Cap of that backoff. Default 900 (15 minutes). */
  readonly maxRetryDelaySeconds?: number;
  /** How long a partial delete batch waits for company. Default 20 ms. */
  readonly deleteBatchWaitMs?: number;
  /**
   * How long `stop()` may take, from its call: handlers still running then are abandoned (their
   * signal is aborted) and stop() resolves within a further ~0.5 s. Default 25 s (ECS and
   * Kubernetes give 30 before SIGKILL).
   */
  readonly shutdownTimeoutMs?: number;
  /** Probe timings (and clock) of the breaker that pauses on environment faults. */
  readonly breaker?: CircuitBreakerOptions;
  /** Stop once a receive finds nothing and nothing is in flight. */
  readonly stopWhenEmpty?: boolean;
  /** Stop after this many messages have been received and settled. */
  readonly maxMessages?: number;
  readonly logger?: Logger;
}

export interface ConsumerStats {
  received: number;
  /** Handler succeeded and the delete was confirmed. */
  processed: number;
  /** Handler failed; the message went back to the queue with a backoff. */
  failed: number;
  /** Poison messages moved to the dead-letter queue by the consumer. */
  deadLettered: number;
  /** Handed back (visibility 1 s): unstarted at stop or at a pause, or received after either. */
  released: number;
  /** Handler succeeded but the delete failed for good: SQS will deliver it again. */
  deleteFailed: number;
  /** Receives that returned no message. */
  emptyReceives: number;
  /** Handler runs that met a fault of the environment (not counted as failed). */
  environmentFaults: number;
  /** Handlers still running at the shutdown deadline, left for SQS to redeliver. */
  abandoned: number;
}

export interface ConsumerEvents {
  /** A receive succeeded (empty or not): the loop is alive and SQS answers. */
  received: [messages: Message[]];
  /** A handler returned (ok) or threw, after `seconds`. */
  handled: [message: Message, seconds: number, ok: boolean];
  processed: [message: Message];
  failed: [error: HandlerError, message: Message];
  "dead-lettered": [error: PoisonMessageError, message: Message];
  "receive-error": [error: unknown];
  "delete-failed": [error: unknown, message: Message];
  /** An environment fault paused the consumer: it takes no messages until a probe succeeds. */
  paused: [reason: EnvironmentComponent, error: EnvironmentFaultError];
  /** A probe succeeded after a pause of `seconds`: the consumer takes messages again. */
  resumed: [seconds: number];
}

interface Tracked {
  readonly message: Message;
  readonly receiptHandle: string;
  readonly receiveCount: number;
  /** When SQS will make the message visible again unless the heartbeat extends it (ms). */
  deadline: number;
  extending: boolean;
  /** Its handler slot has been given back (guards against freeing it twice). */
  freed?: boolean;
  /** This run is the breaker's probe. */
  probe?: boolean;
}

interface VisibilityChange {
  readonly receiptHandle: string;
  readonly timeoutSeconds: number;
}

/** How long stop() lets receives under way come back before cutting them off. */
const RECEIVE_GRACE_MS = 1_000;

/** How long stop() waits for the last deletes and hand-backs after the deadline. */
const FLUSH_GRACE_MS = 500;

/**
 * Visibility given to a message handed back. 1 s rather than 0: a stock fauxqs 2.4.1 with a data
 * folder answers a change to 0 with HTTP 500 "NOT NULL constraint failed:
 * sqs_messages.approximate_receive_count" after it has already taken the message out of flight,
 * so the message stays stranded until the emulator restarts. Our embedded emulator fixes that
 * at its source (src/local/fauxqs.ts), but the consumer also talks to fauxqs servers it did not
 * start (its own CLI or Docker image); on SQS 0 and 1 s are the same for a hand-back.
 */
const HAND_BACK_SECONDS = 1;

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

export class ConsumerOptionsError extends RangeError {
  override readonly name = "ConsumerOptionsError";
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new ConsumerOptionsError(`${name} must be between ${min} and ${max}, got ${value}`);
  }
}

export class Consumer extends EventEmitter<ConsumerEvents> {
  readonly stats: ConsumerStats = {
    received: 0,
    processed: 0,
    failed: 0,
    deadLettered: 0,
    released: 0,
    deleteFailed: 0,
    emptyReceives: 0,
    environmentFaults: 0,
    abandoned: 0,
  };

  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly handler: MessageHandler;
  private readonly concurrency: number;
  private readonly prefetch: number;
  private readonly maxPollers: number;
  private readonly waitTimeSeconds: number;
  private readonly retryBaseDelaySeconds: number;
  private readonly maxRetryDelaySeconds: number;
  private readonly shutdownTimeoutMs: number;
  private readonly stopWhenEmpty: boolean;
  private readonly maxMessages: number;
  private readonly logger: Logger;
  private readonly deletes: Batcher<string>;
  private readonly visibility: Batcher<VisibilityChange>;
  private readonly breaker: CircuitBreaker;
  /** While paused: the message the breaker probes with, kept invisible by the heartbeat. */
  private held: Tracked | undefined;

  private deadLetterQueueUrl: string | undefined;
  private visibilityTimeoutSeconds: number | undefined;
  private readonly queueAttributes: Readonly<Record<string, string>> | undefined;
  private fifo = false;
  private state: "new" | "running" | "stopping" | "stopped" = "new";
  /** Received and not yet settled: buffered and running messages. */
  private readonly tracked = new Map<string, Tracked>();
  /** Received, waiting for a free handler, in the order SQS returned them. */
  private buffer: Tracked[] = [];
  /** Work under way per message: its handler, then its delete or visibility change. */
  private readonly work = new Set<Promise<void>>();
  /** Handlers running now: what `concurrency` limits. */
  private activeHandlers = 0;
  private readonly receives = new Set<Promise<void>>();
  /** FIFO: message groups with a message running (one at a time, in order). */
  private readonly busyGroups = new Set<string>();
  private reserved = 0;
  private activeReceives = 0;
  private receiveErrors = 0;
  /**
   * stopWhenEmpty: a receive found nothing while nothing was in flight. No new receive starts;
   * the consumer stops once the ones under way come back empty too.
   */
  private draining = false;
  private readonly receiveAbort = new AbortController();
  private readonly handlerAbort = new AbortController();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly finishedPromise: Promise<ConsumerStats>;
  private settle!: { resolve(stats: ConsumerStats): void; reject(error: unknown): void };
  private stopPromise: Promise<ConsumerStats> | undefined;

  constructor(options: ConsumerOptions) {
    super();
    checkRange("concurrency", options.concurrency, 1, 10_000);
    checkRange("prefetch", options.prefetch, 0, 10_000);
    checkRange("waitTimeSeconds", options.waitTimeSeconds, 0, LONG_POLL_MAX_SECONDS);
    checkRange("visibilityTimeoutSeconds", options.visibilityTimeoutSeconds, 1, VISIBILITY_MAX_SECONDS);
    checkRange("retryBaseDelaySeconds", options.retryBaseDelaySeconds, 0, VISIBILITY_MAX_SECONDS);
    checkRange("maxRetryDelaySeconds", options.maxRetryDelaySeconds, 0, VISIBILITY_MAX_SECONDS);
    checkRange("maxMessages", options.maxMessages, 1, Number.MAX_SAFE_INTEGER);
    checkRange("shutdownTimeoutMs", options.shutdownTimeoutMs, 0, 3_600_000);
    if (options.concurrency !== undefined && !Number.isInteger(options.concurrency)) {
      throw new ConsumerOptionsError(`concurrency must be a whole number, got ${options.concurrency}`);
    }
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.handler = options.handler;
    this.deadLetterQueueUrl = options.deadLetterQueueUrl;
    this.concurrency = options.concurrency ?? 20;
    this.prefetch = options.prefetch ?? Math.max(BATCH_MAX_ENTRIES, Math.ceil(this.concurrency / 5));
    // Enough pollers to keep every slot fed with full batches, at least one; each costs at most
    // 3 requests a minute when the queue is empty (20 s long polls).
    this.maxPollers = Math.max(1, Math.floor(this.concurrency / BATCH_MAX_ENTRIES));
    this.waitTimeSeconds = options.waitTimeSeconds ?? LONG_POLL_MAX_SECONDS;
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds;
    this.queueAttributes = options.queueAttributes;
    this.retryBaseDelaySeconds = options.retryBaseDelaySeconds ?? 2;
    this.maxRetryDelaySeconds = options.maxRetryDelaySeconds ?? 900;
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 25_000;
    this.stopWhenEmpty = options.stopWhenEmpty ?? false;
    this.maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
    this.logger = options.logger ?? silentLogger;
    this.deletes = new Batcher((entries) => this.deleteBatch(entries), {
      maxWaitMs: options.deleteBatchWaitMs ?? 20,
    });
    this.visibility = new Batcher((entries) => this.changeVisibilityBatch(entries), {
      maxWaitMs: 10,
    });
    this.breaker = new CircuitBreaker(options.breaker);
    this.breaker.on("open", (reason, error) => this.onPause(reason, error));
    this.breaker.on("probe", () => this.probe());
    this.breaker.on("close", (pausedMs) => this.onResume(pausedMs));
    this.finishedPromise = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // `finished` may never be awaited when the caller only uses stop(): avoid unhandled rejections.
    this.finishedPromise.catch(() => undefined);
  }

  /** Resolves with the stats when the consumer has stopped; rejects on a fatal SQS error. */
  get finished(): Promise<ConsumerStats> {
    return this.finishedPromise;
  }

  /** Messages received and not yet settled (running or buffered). */
  get inFlight(): number {
    return this.tracked.size;
  }

  /** Whether the consumer is receiving (started and not stopping). */
  get running(): boolean {
    return this.state === "running";
  }

  /** Whether an environment fault has paused the consumer (it takes no messages). */
  get paused(): boolean {
    return this.breaker.paused;
  }

  /** The component whose fault paused the consumer, while paused. */
  get pauseReason(): EnvironmentComponent | undefined {
    return this.breaker.reason;
  }

  /** How long the consumer has been paused, in ms (0 when it is not). */
  pausedForMs(): number {
    return this.breaker.pausedForMs();
  }

  /** The long-poll wait of each receive, in seconds. */
  get pollSeconds(): number {
    return this.waitTimeSeconds;
  }

  /** Checks the queue (throws when it is unusable), then starts polling. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error("a consumer can be started once");
    const Attributes = this.queueAttributes ?? (await describeQueueAttributes(this.client, this.queueUrl));
    this.visibilityTimeoutSeconds ??= Number(Attributes.VisibilityTimeout ?? 30);
    this.fifo = Attributes.FifoQueue === "true";
    this.deadLetterQueueUrl ??= await this.findDeadLetterQueue(Attributes.RedrivePolicy);
    this.state = "running";
    const intervalMs = Math.max(250, (this.visibilityTimeoutSeconds * 1000) / 4);
    this.heartbeat = setInterval(() => this.extendVisibility(), intervalMs);
    this.logger.info(
      { queueUrl: this.queueUrl, concurrency: this.concurrency, pollers: this.maxPollers },
      "consumer started",
    );
    this.fill();
  }

  /**
   * Stops receiving, hands back messages not started, waits for running handlers (up to the
   * shutdown deadline), flushes deletes. Safe to call more than once.
   */
  stop(): Promise<ConsumerStats> {
    this.stopPromise ??= this.shutdown();
    return this.stopPromise;
  }

  private async shutdown(error?: unknown): Promise<ConsumerStats> {
    if (this.state === "new") this.state = "stopped";
    if (this.state === "stopped") {
      this.settle.resolve(this.stats);
      return this.stats;
    }
    this.state = "stopping";
    const deadline = performance.now() + this.shutdownTimeoutMs;
    this.breaker.cancel();
    // Hand back first, while the heartbeat still keeps the handles valid: messages not started
    // (and the breaker's held probe) go back to the queue before anything else can delay them.
    const unstarted = this.buffer;
    this.buffer = [];
    if (this.held) unstarted.push(this.held);
    this.held = undefined;
    const handedBack = Promise.allSettled(unstarted.map((t) => this.release(t)));
    // A receive that has messages answers within milliseconds; one still waiting after a moment
    // is a long poll on an empty queue and can be cut off without stranding anything. Cutting off
    // the first kind would leave its messages invisible until their visibility timeout.
    await this.settleOrTimeout([...this.receives], Math.min(RECEIVE_GRACE_MS, this.shutdownTimeoutMs));
    this.receiveAbort.abort();
    await Promise.allSettled([...this.receives]);
    await handedBack;
    const outcome = await this.settleOrTimeout([...this.work], Math.max(0, deadline - performance.now()));
    if (outcome === "timeout") {
      // The deadline is an exit, not a log line: from here on the consumer ignores what these
      // handlers do (no delete, no retry delay); their messages reappear after their visibility
      // timeout, and a send cut off leaves its claim to lapse (see registration-handler.ts).
      this.stats.abandoned = this.activeHandlers;
      this.logger.warn(
        { running: this.activeHandlers },
        "shutdown deadline passed: leaving running messages to reappear after their visibility timeout",
      );
      this.handlerAbort.abort();
    }
    clearInterval(this.heartbeat);
    await this.settleOrTimeout([this.deletes.flush(), this.visibility.flush()], FLUSH_GRACE_MS);
    this.state = "stopped";
    this.logger.info({ ...this.stats }, "consumer stopped");
    if (error) this.settle.reject(error);
    else this.settle.resolve(this.stats);
    return this.stats;
  }

  private async settleOrTimeout(work: readonly Promise<unknown>[], ms: number): Promise<"done" | "timeout"> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = setTimeout(() => resolve("timeout"), ms);
    });
    const outcome = await Promise.race([Promise.allSettled(work).then(() => "done" as const), timeout]);
    clearTimeout(timer);
    return outcome;
  }

  private async findDeadLetterQueue(redrivePolicy: string | undefined): Promise<string> {
    const arn = redrivePolicy ? (JSON.parse(redrivePolicy).deadLetterTargetArn as string) : undefined;
    if (!arn) {
      throw new SqsAccessError(
        `The queue ${this.queueUrl} has no dead-letter queue (no RedrivePolicy), so a failing message would loop forever. Provision it with its dead-letter queue (npm run local, pulumi up or terraform apply).`,
        this.queueUrl,
      );
    }
    // arn:aws:sqs:<region>:<account>:<name>
    const [, , , , account, name] = arn.split(":");
    const { QueueUrl } = await this.client.send(
      new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }),
    );
    if (!QueueUrl) throw new Error(`SQS returned no URL for the dead-letter queue ${arn}`);
    return QueueUrl;
  }

  /** Starts receives while a full batch fits in the free room (handlers plus buffer). */
  private fill(): void {
    while (
      this.state === "running" &&
      !this.breaker.paused &&
      !this.draining &&
      this.activeReceives < this.maxPollers
    ) {
      const free = this.concurrency + this.prefetch - this.tracked.size - this.reserved;
      const left = this.maxMessages - this.stats.received - this.reserved;
      const wanted = Math.min(BATCH_MAX_ENTRIES, left);
      if (wanted <= 0 || free < wanted) return;
      const batch = wanted;
      const receive = this.receive(batch);
      this.receives.add(receive);
      void receive.finally(() => this.receives.delete(receive));
    }
  }

  private async receive(batch: number): Promise<void> {
    this.activeReceives += 1;
    this.reserved += batch;
    let messages: Message[] = [];
    try {
      const output = await clientSpan(this.queueUrl, "receive", batch, () =>
        this.client.send(
          new ReceiveMessageCommand({
            QueueUrl: this.queueUrl,
            MaxNumberOfMessages: batch,
            WaitTimeSeconds: this.waitTimeSeconds,
            // Asked for explicitly: SQS returns no attributes otherwise.
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["All"],
          }),
          { abortSignal: this.receiveAbort.signal },
        ),
      );
      messages = output.Messages ?? [];
      this.receiveErrors = 0;
      this.emit("received", messages);
    } catch (error) {
      if (this.receiveAbort.signal.aborted) return;
      await this.onReceiveError(error);
    } finally {
      this.activeReceives -= 1;
      this.reserved -= batch;
    }
    if (this.state !== "running" || this.breaker.paused) {
      // Received while stopping or paused: hand them straight back.
      await Promise.allSettled(messages.map((m) => this.release(this.track(m, false))));
      return;
    }
    this.stats.received += messages.length;
    if (messages.length === 0) this.stats.emptyReceives += 1;
    if (this.stopWhenEmpty) this.draining = messages.length === 0 && this.tracked.size === 0;
    for (const message of messages) this.buffer.push(this.track(message, true));
    this.pump();
    if (messages.length === 0) this.checkDone();
    this.fill();
  }

  private async onReceiveError(error: unknown): Promise<void> {
    this.emit("receive-error", error);
    // Errors that retrying cannot fix: the consumer stops and reports them.
    if (isFatal(error)) {
      this.logger.error({ err: error }, "cannot receive from the queue; stopping");
      void this.fail(error);
      return;
    }
    this.receiveErrors += 1;
    const delayMs = Math.min(20_000, 250 * 2 ** Math.min(this.receiveErrors, 10));
    this.logger.warn({ err: error, retryInMs: delayMs }, "receive failed; retrying");
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delayMs);
      this.receiveAbort.signal.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private fail(error: unknown): Promise<ConsumerStats> {
    this.stopPromise ??= this.shutdown(error);
    return this.stopPromise;
  }

  private track(message: Message, counted: boolean): Tracked {
    const receiptHandle = message.ReceiptHandle ?? "";
    const tracked: Tracked = {
      message,
      receiptHandle,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      deadline: Date.now() + (this.visibilityTimeoutSeconds ?? 30) * 1000,
      extending: false,
    };
    if (counted) this.tracked.set(receiptHandle, tracked);
    return tracked;
  }

  /** Starts buffered messages while handlers are free (FIFO: one at a time per group). */
  private pump(): void {
    if (this.state !== "running" || this.breaker.paused) return;
    for (let i = 0; i < this.buffer.length && this.activeHandlers < this.concurrency; ) {
      const tracked = this.buffer[i] as Tracked;
      const group = this.groupOf(tracked);
      if (group !== undefined && this.busyGroups.has(group)) {
        i++;
        continue;
      }
      this.buffer.splice(i, 1);
      this.run(tracked);
    }
  }

  private groupOf(tracked: Tracked): string | undefined {
    return this.fifo ? tracked.message.Attributes?.MessageGroupId : undefined;
  }

  /** Runs the handler and settles the message; the slot is freed when the handler is done. */
  private run(tracked: Tracked): void {
    this.activeHandlers += 1;
    const group = this.groupOf(tracked);
    if (group !== undefined) this.busyGroups.add(group);
    const work = this.process(tracked);
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.work.add(settled);
    void settled.finally(() => {
      this.work.delete(settled);
      this.freeSlot(tracked);
      this.checkDone();
      this.pump();
      this.fill();
    });
  }

  private async process(tracked: Tracked): Promise<boolean> {
    const { message } = tracked;
    const started = performance.now();
    try {
      await processSpan(this.queueUrl, message, () =>
        this.handler(message, {
          signal: this.handlerAbort.signal,
          receiveCount: tracked.receiveCount,
        }),
      );
      this.emit("handled", message, (performance.now() - started) / 1000, true);
    } catch (error) {
      this.emit("handled", message, (performance.now() - started) / 1000, false);
      if (this.handlerAbort.signal.aborted) return false; // abandoned at the shutdown deadline
      const fault = environmentFaultIn(error);
      if (fault) {
        this.onEnvironmentFault(tracked, fault);
        return false;
      }
      if (tracked.probe) this.breaker.success(); // the environment answered; the message failed
      if (error instanceof PoisonMessageError) return this.deadLetter(tracked, error);
      this.holdBackGroup(tracked);
      this.freeSlot(tracked);
      await this.retryLater(tracked, error);
      return false;
    }
    if (this.handlerAbort.signal.aborted) return false; // abandoned at the shutdown deadline
    if (tracked.probe) this.breaker.success();
    // The slot is free as soon as the handler is done: the delete is batched in the background,
    // and the message counts as processed only once SQS confirmed it.
    this.freeSlot(tracked);
    try {
      await this.deletes.add(tracked.receiptHandle);
    } catch (error) {
      this.stats.deleteFailed += 1;
      this.logger.warn(
        { err: error, messageId: message.MessageId },
        "delete failed; SQS will deliver the message again",
      );
      this.emit("delete-failed", error, message);
      return false;
    }
    this.stats.processed += 1;
    this.emit("processed", message);
    return true;
  }

  /** The handler is done: its slot takes the next buffered message, its group's next one too. */
  private freeSlot(tracked: Tracked): void {
    if (tracked.freed) return;
    tracked.freed = true;
    this.tracked.delete(tracked.receiptHandle);
    this.activeHandlers -= 1;
    const group = this.groupOf(tracked);
    if (group !== undefined) this.busyGroups.delete(group);
    this.pump();
    this.fill();
  }

  /**
   * FIFO: a failed message must be processed before the rest of its group, so the group's
   * buffered messages go back to the queue; SQS delivers none of the group while the failed one
   * is invisible, and then delivers it first.
   */
  private holdBackGroup(tracked: Tracked): void {
    const group = this.groupOf(tracked);
    if (group === undefined) return;
    const held = this.buffer.filter((t) => this.groupOf(t) === group);
    if (held.length === 0) return;
    this.buffer = this.buffer.filter((t) => this.groupOf(t) !== group);
    for (const t of held) void this.release(t);
  }

  private async retryLater(tracked: Tracked, cause: unknown): Promise<void> {
    const error = new HandlerError(
      tracked.message.MessageId ?? "?",
      this.queueUrl,
      tracked.receiveCount,
      cause,
    );
    // A RetryAfterError knows when the message can be worked on (another consumer's lease ends).
    const delay =
      cause instanceof RetryAfterError
        ? Math.min(VISIBILITY_MAX_SECONDS, Math.max(0, Math.ceil(cause.delaySeconds)))
        : Math.min(
            this.maxRetryDelaySeconds,
            Math.round(this.retryBaseDelaySeconds * 2 ** (tracked.receiveCount - 1)),
          );
    this.stats.failed += 1;
    this.logger.warn(
      {
        err: cause,
        messageId: tracked.message.MessageId,
        receiveCount: tracked.receiveCount,
        retryInSeconds: delay,
      },
      "handler failed; message goes back to the queue",
    );
    this.emit("failed", error, tracked.message);
    try {
      await this.visibility.add({ receiptHandle: tracked.receiptHandle, timeoutSeconds: delay });
    } catch (changeError) {
      // The message still comes back when its current visibility timeout ends.
      this.logger.warn({ err: changeError }, "could not set the retry delay");
    }
  }

  private async deadLetter(tracked: Tracked, error: PoisonMessageError): Promise<boolean> {
    const { message } = tracked;
    try {
      await this.client.send(
        new SendMessageCommand({
          QueueUrl: this.deadLetterQueueUrl,
          MessageBody: message.Body ?? "",
          MessageAttributes: deadLetterAttributes(message, error, this.queueUrl),
          ...(this.fifo
            ? {
                MessageGroupId: message.Attributes?.MessageGroupId ?? "poison",
                MessageDeduplicationId: message.MessageId,
              }
            : {}),
        }),
      );
    } catch (sendError) {
      // Not forwarded: treat as a failure, the queue's redrive policy still catches it.
      this.holdBackGroup(tracked);
      this.freeSlot(tracked);
      await this.retryLater(tracked, sendError);
      return false;
    }
    this.freeSlot(tracked);
    try {
      await this.deletes.add(tracked.receiptHandle);
    } catch (deleteError) {
      // Already in the dead-letter queue; a redelivery will forward it again (at least once).
      this.stats.deleteFailed += 1;
      this.emit("delete-failed", deleteError, message);
    }
    this.stats.deadLettered += 1;
    this.logger.warn(
      { messageId: message.MessageId, reason: error.reason, error: error.message },
      "moved an invalid message to the dead-letter queue",
    );
    this.emit("dead-lettered", error, message);
    return true;
  }

  /**
   * An environment fault: the message is not to blame, so it spends no retry. The breaker opens
   * (or a probe failed); the first such message is held for probing, the others go back.
   */
  private onEnvironmentFault(tracked: Tracked, error: EnvironmentFaultError): void {
    this.stats.environmentFaults += 1;
    this.holdBackGroup(tracked);
    this.freeSlot(tracked);
    if (this.state !== "running") {
      void this.release(tracked); // stopping: no probe timer may outlive the consumer
      return;
    }
    this.breaker.fault(error);
    if (this.held === undefined) {
      // Back into the tracked set: the heartbeat keeps it invisible while it waits for the probe.
      tracked.probe = false;
      this.tracked.set(tracked.receiptHandle, tracked);
      this.held = tracked;
    } else {
      void this.release(tracked);
    }
  }

  private onPause(reason: EnvironmentComponent, error: EnvironmentFaultError): void {
    this.logger.warn(
      { err: error, reason, buffered: this.buffer.length },
      "environment fault: pausing; handing back buffered messages and probing until it clears",
    );
    const buffered = this.buffer;
    this.buffer = [];
    for (const t of buffered) void this.release(t);
    this.emit("paused", reason, error);
  }

  /** The breaker asks for a probe: run the held message again, alone. */
  private probe(): void {
    if (this.state !== "running") return;
    const held = this.held;
    this.held = undefined;
    if (held === undefined) {
      // Nothing held (the held message was settled elsewhere): resume; the next message that
      // meets the fault pauses again.
      this.breaker.success();
      return;
    }
    this.tracked.delete(held.receiptHandle);
    const again: Tracked = { ...held, freed: false, probe: true, extending: false };
    this.tracked.set(again.receiptHandle, again);
    this.run(again);
  }

  private onResume(pausedMs: number): void {
    this.logger.info({ pausedSeconds: pausedMs / 1000 }, "environment fault cleared: resuming");
    this.emit("resumed", pausedMs / 1000);
    this.pump();
    this.fill();
  }

  private async release(tracked: Tracked): Promise<void> {
    this.tracked.delete(tracked.receiptHandle);
    this.stats.released += 1;
    try {
      await this.visibility.add({
        receiptHandle: tracked.receiptHandle,
        timeoutSeconds: HAND_BACK_SECONDS,
      });
    } catch (error) {
      this.logger.warn(
        { err: error },
        "could not hand a message back; it reappears after its visibility timeout",
      );
    }
  }

  /** The heartbeat: one batched extension for every message whose visibility is running out. */
  private extendVisibility(): void {
    const timeout = this.visibilityTimeoutSeconds ?? 30;
    const now = Date.now();
    for (const tracked of this.tracked.values()) {
      if (tracked.extending || tracked.deadline - now > (timeout * 1000) / 2) continue;
      tracked.extending = true;
      this.visibility
        .add({ receiptHandle: tracked.receiptHandle, timeoutSeconds: timeout })
        .then(
          () => {
            tracked.deadline = Date.now() + timeout * 1000;
          },
          (error) =>
            this.logger.warn(
              { err: error, messageId: tracked.message.MessageId },
              "could not extend visibility",
            ),
        )
        .finally(() => {
          tracked.extending = false;
        });
    }
  }

  private checkDone(): void {
    if (this.state !== "running" || this.tracked.size > 0 || this.activeReceives > 0) return;
    const reachedMax = this.stats.received >= this.maxMessages;
    if (reachedMax || this.draining) void this.stop();
  }

  private async deleteBatch(entries: readonly { id: string; value: string }[]): Promise<BatchEntryFailure[]> {
    const output = await clientSpan(this.queueUrl, "delete", entries.length, () =>
      this.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map(({ id, value }) => ({ Id: id, ReceiptHandle: value })),
        }),
      ),
    );
    return toFailures(output.Failed);
  }

  private async changeVisibilityBatch(
    entries: readonly { id: string; value: VisibilityChange }[],
  ): Promise<BatchEntryFailure[]> {
    const output = await clientSpan(this.queueUrl, "change_visibility", entries.length, () =>
      this.client.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: entries.map(({ id, value }) => ({
            Id: id,
            ReceiptHandle: value.receiptHandle,
            VisibilityTimeout: value.timeoutSeconds,
          })),
        }),
      ),
    );
    return toFailures(output.Failed);
  }
}

/** The EnvironmentFaultError an error is or wraps (through `cause`), if any. */
function environmentFaultIn(error: unknown): EnvironmentFaultError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof EnvironmentFaultError) return e;
  }
  return undefined;
}

function toFailures(
  failed: { Id?: string; Code?: string; Message?: string; SenderFault?: boolean }[] | undefined,
): BatchEntryFailure[] {
  return (failed ?? []).map((f) => ({
    id: f.Id ?? "",
    code: f.Code ?? "Unknown",
    message: f.Message ?? "",
    senderFault: f.SenderFault ?? false,
  }));
}

/** SQS allows 10 attributes a message: ours first, then the original ones that still fit. */
function deadLetterAttributes(
  message: Message,
  error: PoisonMessageError,
  queueUrl: string,
): Record<string, MessageAttributeValue> {
  const ours: Record<string, MessageAttributeValue> = {
    "dead-letter-reason": { DataType: "String", StringValue: error.reason },
    "dead-letter-error": { DataType: "String", StringValue: error.message.slice(0, 1024) },
    "source-message-id": { DataType: "String", StringValue: message.MessageId ?? "unknown" },
    "source-queue-url": { DataType: "String", StringValue: queueUrl },
  };
  const original = Object.entries(message.MessageAttributes ?? {}).filter(([name]) => !(name in ours));
  return {
    ...Object.fromEntries(original.slice(0, MESSAGE_ATTRIBUTES_MAX - Object.keys(ours).length)),
    ...ours,
  };
}
