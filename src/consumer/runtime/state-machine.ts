/**
 * The consumer runtime, a small state machine: new → running ⇄ paused → stopping → stopped.
 * Each message goes receive → buffer → dispatch (a handler slot) → settle (delete, retry delay,
 * dead-letter or hand-back).
 *
 * - Pollers fill a small buffer (`prefetch`) that handlers take from, so a handler never waits
 *   for a receive round trip. A receive asks for a full batch and starts only when one fits.
 *   How many pollers run adapts to how full the batches come back (pollers.ts).
 * - Deletes and visibility changes are batched (requests.ts); a delete waits for company up to
 *   a second at a trickle, never past a tenth of its message's remaining visibility, and not at
 *   all on a FIFO queue. The heartbeat (heartbeat.ts) extends what is held.
 * - A failed message gets a visibility timeout that grows with its receive count; after the
 *   queue's maxReceiveCount SQS moves it to the dead-letter queue. A poison message
 *   (PoisonMessageError) goes there at once (dead-letter.ts).
 * - FIFO queues: in order within a message group, in parallel across groups; a failure holds
 *   back the rest of its group.
 * - A fault of the consumer's own environment (EnvironmentFaultError) opens a circuit breaker
 *   (../circuit-breaker.ts) that pauses receiving, hands back what is held, and probes with one
 *   held message until the fault clears. A handler may also report a fault it works through
 *   (context.environmentFault): the same pause, and its success closes the breaker.
 * - A HoldError keeps its message (invisible, no receive spent) and runs it again after its delay.
 * - stop() ends within its deadline whatever handlers do: handlers still running then are
 *   abandoned (their signal aborted, their outcome ignored) and their messages reappear after the
 *   visibility timeout.
 *
 * Every wait goes through the injected clock (clock.ts), so unit tests run it on fake timers.
 */
import { EventEmitter } from "node:events";
import { type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "../../log/logger.js";
import { clientSpan, processSpan, tracerProviderRegistered } from "../../observability/tracing.js";
import type { Batcher } from "../../sqs/batcher.js";
import { isFatal } from "../../sqs/errors.js";
import { RECEIVE_MAX_MESSAGES } from "../../sqs/limits.js";
import { describeQueueAttributes, findDeadLetterQueue } from "../../sqs/queue-pair.js";
import { backoffMs } from "../../sqs/retry.js";
import { sleepUnlessAborted, type Timer } from "../../time/clock.js";
import { CircuitBreaker } from "../circuit-breaker.js";
import {
  type EnvironmentComponent,
  type EnvironmentFaultError,
  environmentFaultIn,
  HandlerError,
  HoldError,
  PoisonMessageError,
} from "../errors.js";
import { forwardToDeadLetter } from "./dead-letter.js";
import { Heartbeat, visibilityLeftSeconds } from "./heartbeat.js";
import { DELETE_WAIT_VISIBILITY_FRACTION, fifoWindowError, type RuntimeOptions, settle } from "./options.js";
import { GROW_AFTER_WINDOW, PollerCount } from "./pollers.js";
import { deleteBatcher, type VisibilityChange, visibilityBatcher } from "./requests.js";
import { HAND_BACK_SECONDS, retryDelaySeconds } from "./retry-delay.js";
import type { ConsumerEvents, ConsumerOptions, ConsumerStats, MessageHandler, Tracked } from "./types.js";

/** How long stop() lets receives under way come back before cutting them off. */
const RECEIVE_GRACE_MS = 1_000;

/** How long a delete waits for company while the consumer is busy (more than one poller). */
const DELETE_BUSY_WAIT_MS = 20;

/** How long stop() waits for the last deletes and hand-backs after the deadline. */
const FLUSH_GRACE_MS = 500;

/** A queue without a dead-letter queue is refused at start, with why and how to provision one. */
const RUNTIME_DEAD_LETTER_HINT = {
  why: "so a failing message would loop forever",
  fix: "Provision it with its dead-letter queue (npm run local, pulumi up or terraform apply).",
};

/** Backoff between failed receives (the SDK has retried each already): 0.5 s doubling to 20 s. */
const RECEIVE_BACKOFF = { baseDelayMs: 500, maxDelayMs: 20_000 };

/** Every receive asks for all attributes (SQS returns none otherwise); one list shared by all. */
const ALL_ATTRIBUTES = ["All"];

type State = "new" | "running" | "stopping" | "stopped";

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
    held: 0,
  };

  private readonly client: SQSClient;
  private readonly queueUrl: string;
  private readonly handler: MessageHandler;
  private readonly options: RuntimeOptions;
  private readonly logger: Logger;
  private readonly deletes: Batcher<string>;
  private readonly visibility: Batcher<VisibilityChange>;
  private readonly breaker: CircuitBreaker;
  private readonly pollerCount: PollerCount;
  private heartbeat: Heartbeat | undefined;
  /** While paused: the message the breaker probes with, kept invisible by the heartbeat. */
  private held: Tracked | undefined;
  /** Messages whose handler asked to wait (HoldError), by receipt handle: run again when it ends. */
  private readonly waiting = new Map<string, { tracked: Tracked; timer: Timer }>();
  private deadLetterQueueUrl: string | undefined;
  private visibilityTimeoutSeconds: number | undefined;
  private readonly queueAttributes: Readonly<Record<string, string>> | undefined;
  private fifo = false;
  private state: State = "new";
  /** Received and not yet settled: buffered and running messages. */
  private readonly tracked = new Map<string, Tracked>();
  /** Received, waiting for a free handler, in the order SQS returned them. */
  private buffer: Tracked[] = [];
  /** Messages with work under way: their handler, then their delete or visibility change. */
  private working = 0;
  /** stop() waiting for `working` to reach 0. */
  private workDone: (() => void) | undefined;
  /** Spans only when an SDK registered a tracer provider before the consumer was built. */
  private readonly traced = tracerProviderRegistered();
  /** Handlers running now: what `concurrency` limits. */
  private activeHandlers = 0;
  /** Poller turns under way: a receive, then its batching window (if any). */
  private readonly polls = new Set<Promise<void>>();
  /** FIFO: message groups with a message running (one at a time, in order). */
  private readonly busyGroups = new Set<string>();
  /** Room promised to receives under way. */
  private reserved = 0;
  private activeReceives = 0;
  private receiveErrors = 0;
  private receiveCount = 0;
  /**
   * stopWhenEmpty: a receive found nothing while nothing was in flight. No new receive starts;
   * the consumer stops once the ones under way come back empty too.
   */
  private draining = false;
  private readonly receiveAbort = new AbortController();
  private readonly handlerAbort = new AbortController();
  private readonly finishedPromise: Promise<ConsumerStats>;
  private settleFinished!: { resolve(stats: ConsumerStats): void; reject(error: unknown): void };
  private stopPromise: Promise<ConsumerStats> | undefined;

  constructor(options: ConsumerOptions) {
    super();
    this.options = settle(options);
    this.client = options.client;
    this.queueUrl = options.queueUrl;
    this.handler = options.handler;
    this.deadLetterQueueUrl = options.deadLetterQueueUrl;
    this.visibilityTimeoutSeconds = options.visibilityTimeoutSeconds;
    this.queueAttributes = options.queueAttributes;
    this.logger = this.options.logger;
    const { clock } = this.options;
    this.deletes = deleteBatcher(
      this.client,
      this.queueUrl,
      clock,
      this.options.deleteBatchWaitMs,
      this.traced,
    );
    this.visibility = visibilityBatcher(this.client, this.queueUrl, clock, this.traced);
    this.pollerCount = new PollerCount(
      this.options.maxPollers,
      this.options.batchingWindowMs > 0 ? GROW_AFTER_WINDOW : 1,
    );
    this.breaker = new CircuitBreaker({ clock, ...options.breaker });
    this.breaker.on("open", (reason, error) => this.onPause(reason, error));
    this.breaker.on("probe", () => this.probe());
    this.breaker.on("close", (pausedMs) => this.onResume(pausedMs));
    this.finishedPromise = new Promise((resolve, reject) => {
      this.settleFinished = { resolve, reject };
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
    return this.options.waitTimeSeconds;
  }

  /** Pollers the adaptive count wants now (1 … maxPollersFor(concurrency)). */
  get pollers(): number {
    return this.pollerCount.target;
  }

  /** ReceiveMessage requests made so far. */
  get receives(): number {
    return this.receiveCount;
  }

  /** Checks the queue (throws when it is unusable), then starts polling. */
  async start(): Promise<void> {
    if (this.state !== "new") throw new Error("a consumer can be started once");
    const attributes = this.queueAttributes ?? (await describeQueueAttributes(this.client, this.queueUrl));
    this.visibilityTimeoutSeconds ??= Number(attributes.VisibilityTimeout ?? 30);
    this.fifo = attributes.FifoQueue === "true";
    if (this.fifo && this.options.batchingWindowMs > 0) throw fifoWindowError();
    this.deadLetterQueueUrl ??= await findDeadLetterQueue(
      this.client,
      this.queueUrl,
      RUNTIME_DEAD_LETTER_HINT,
      attributes.RedrivePolicy ?? null,
    );
    this.state = "running";
    this.heartbeat = new Heartbeat(
      this.options.clock,
      this.visibilityTimeoutSeconds,
      () => this.tracked.values(),
      this.visibility,
      this.logger,
    );
    this.heartbeat.start();
    this.logger.info(
      {
        queueUrl: this.queueUrl,
        concurrency: this.options.concurrency,
        maxPollers: this.options.maxPollers,
      },
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

  private fail(error: unknown): Promise<ConsumerStats> {
    this.stopPromise ??= this.shutdown(error);
    return this.stopPromise;
  }

  private async shutdown(error?: unknown): Promise<ConsumerStats> {
    if (this.state === "new") this.state = "stopped";
    if (this.state === "stopped") {
      this.settleFinished.resolve(this.stats);
      return this.stats;
    }
    this.state = "stopping";
    const { clock } = this.options;
    const deadline = clock.now() + this.options.shutdownTimeoutMs;
    const allWorkDone =
      this.working === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.workDone = resolve;
          });
    this.breaker.cancel();
    // Hand back first, while the heartbeat still keeps the handles valid: messages not started
    // (and the breaker's held probe) go back to the queue before anything else can delay them.
    const unstarted = this.buffer;
    this.buffer = [];
    if (this.held) unstarted.push(this.held);
    this.held = undefined;
    for (const { tracked, timer } of this.waiting.values()) {
      timer.cancel();
      unstarted.push(tracked);
    }
    this.waiting.clear();
    const handedBack = Promise.allSettled(unstarted.map((t) => this.release(t)));
    // A receive that has messages answers within milliseconds; one still waiting after a moment
    // is a long poll on an empty queue and can be cut off without stranding anything. Cutting off
    // the first kind would leave its messages invisible until their visibility timeout.
    await this.settleOrTimeout([...this.polls], Math.min(RECEIVE_GRACE_MS, this.options.shutdownTimeoutMs));
    this.receiveAbort.abort();
    await Promise.allSettled([...this.polls]);
    // Deletes waiting for company leave now (and later ones at once: see deleteWaitMs).
    void this.deletes.flush();
    await handedBack;
    const outcome = await this.settleOrTimeout([allWorkDone], Math.max(0, deadline - clock.now()));
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
    this.heartbeat?.stop();
    await this.settleOrTimeout([this.deletes.flush(), this.visibility.flush()], FLUSH_GRACE_MS);
    this.state = "stopped";
    this.logger.info({ ...this.stats }, "consumer stopped");
    if (error) this.settleFinished.reject(error);
    else this.settleFinished.resolve(this.stats);
    return this.stats;
  }

  private async settleOrTimeout(work: readonly Promise<unknown>[], ms: number): Promise<"done" | "timeout"> {
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<"timeout">((resolve) => {
      timer = this.options.clock.setTimeout(() => resolve("timeout"), ms);
    });
    const outcome = await Promise.race([Promise.allSettled(work).then(() => "done" as const), timeout]);
    timer?.cancel();
    return outcome;
  }

  // ── receive ─────────────────────────────────────────────────────────────────────────────────

  /** Starts poller turns while the adaptive count allows one more and a full batch fits. */
  private fill(): void {
    while (
      this.state === "running" &&
      !this.breaker.paused &&
      !this.draining &&
      this.polls.size < this.pollerCount.target
    ) {
      const { concurrency, prefetch, maxMessages } = this.options;
      const free = concurrency + prefetch - this.tracked.size - this.reserved;
      const left = maxMessages - this.stats.received - this.reserved;
      const batch = Math.min(RECEIVE_MAX_MESSAGES, left);
      if (batch <= 0 || free < batch) return;
      const poll = this.poll(batch);
      this.polls.add(poll);
      void poll.finally(() => {
        this.polls.delete(poll);
        this.fill();
      });
    }
  }

  /**
   * One poller turn: a receive, then, after a partial batch, the rest of the batching window
   * (counted from the receive's start, so a message that just missed it waits at most the window).
   */
  private async poll(batch: number): Promise<void> {
    const { clock, batchingWindowMs } = this.options;
    const started = clock.now();
    const got = await this.receive(batch);
    if (got !== undefined && got < batch && batchingWindowMs > 0 && this.state === "running") {
      const rest = batchingWindowMs - (clock.now() - started);
      if (rest > 0) await sleepUnlessAborted(clock, rest, this.receiveAbort.signal);
    }
  }

  /** Receives up to `batch` messages into the buffer; returns how many (undefined on an error). */
  private async receive(batch: number): Promise<number | undefined> {
    this.activeReceives += 1;
    this.reserved += batch;
    this.receiveCount += 1;
    let messages: Message[] = [];
    try {
      const command = new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: batch,
        WaitTimeSeconds: this.options.waitTimeSeconds,
        MessageAttributeNames: ALL_ATTRIBUTES,
        MessageSystemAttributeNames: ALL_ATTRIBUTES as ["All"],
      });
      const send = () => this.client.send(command, { abortSignal: this.receiveAbort.signal });
      const output = await (this.traced ? clientSpan(this.queueUrl, "receive", batch, send) : send());
      messages = output.Messages ?? [];
      this.receiveErrors = 0;
      if (this.listenerCount("received") > 0) this.emit("received", messages);
    } catch (error) {
      if (this.receiveAbort.signal.aborted) return undefined;
      await this.onReceiveError(error);
      return undefined;
    } finally {
      this.activeReceives -= 1;
      this.reserved -= batch;
    }
    if (this.state !== "running" || this.breaker.paused) {
      // Received while stopping or paused: hand them straight back.
      const receivedAt = this.options.clock.now();
      await Promise.allSettled(messages.map((m) => this.release(this.track(m, receivedAt, false))));
      return messages.length;
    }
    this.pollerCount.received(messages.length, batch);
    this.stats.received += messages.length;
    if (messages.length === 0) this.stats.emptyReceives += 1;
    if (this.options.stopWhenEmpty) this.draining = messages.length === 0 && this.tracked.size === 0;
    const receivedAt = this.options.clock.now();
    for (const message of messages) this.buffer.push(this.track(message, receivedAt, true));
    this.pump();
    if (messages.length === 0) this.checkDone();
    return messages.length;
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
    const delayMs = Math.max(250, backoffMs(this.receiveErrors, RECEIVE_BACKOFF));
    this.logger.warn({ err: error, retryInMs: Math.round(delayMs) }, "receive failed; retrying");
    await sleepUnlessAborted(this.options.clock, delayMs, this.receiveAbort.signal);
  }

  /** `receivedAt`: one clock read per receive, not per message. */
  private track(message: Message, receivedAt: number, counted: boolean): Tracked {
    const receiptHandle = message.ReceiptHandle ?? "";
    // Every field set from the start: one object shape for every message, whatever happens to it.
    const tracked: Tracked = {
      message,
      receiptHandle,
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 1),
      receivedAt,
      deadline: receivedAt + (this.visibilityTimeoutSeconds ?? 30) * 1000,
      extending: false,
      freed: false,
      probe: false,
      faulted: false,
    };
    if (counted) this.tracked.set(receiptHandle, tracked);
    return tracked;
  }

  // ── dispatch ────────────────────────────────────────────────────────────────────────────────

  /** Starts buffered messages while handlers are free (FIFO: one at a time per group). */
  private pump(): void {
    if (this.state !== "running" || this.breaker.paused) return;
    for (let i = 0; i < this.buffer.length && this.activeHandlers < this.options.concurrency; ) {
      const tracked = this.buffer[i] as Tracked;
      const group = this.groupOf(tracked);
      if (group !== undefined && this.busyGroups.has(group)) {
        i++;
        continue;
      }
      // shift() at the head (always, off FIFO): splice would allocate an array per message.
      if (i === 0) this.buffer.shift();
      else this.buffer.splice(i, 1);
      this.run(tracked);
    }
  }

  private groupOf(tracked: Tracked): string | undefined {
    return this.fifo ? tracked.message.Attributes?.MessageGroupId : undefined;
  }

  /** Runs the handler and settles the message; the slot is freed when the handler is done. */
  private run(tracked: Tracked): void {
    this.activeHandlers += 1;
    this.working += 1;
    const group = this.groupOf(tracked);
    if (group !== undefined) this.busyGroups.add(group);
    void this.process(tracked);
  }

  /** A message's work is over (settled, or given up on): its slot and the consumer move on. */
  private workEnded(tracked: Tracked): void {
    this.working -= 1;
    if (this.working === 0 && this.workDone !== undefined) {
      this.workDone();
      this.workDone = undefined;
    }
    this.freeSlot(tracked);
    this.checkDone();
    this.pump();
    this.fill();
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
   * Runs the handler and settles the message. Never rejects: every way a message's work ends is
   * settled (and logged) inside. One async frame per message on the success path.
   */
  private async process(tracked: Tracked): Promise<void> {
    const { message } = tracked;
    // Timed only for a listener: the clock read costs more than the rest of an idle emit.
    const timed = this.listenerCount("handled") > 0;
    const started = timed ? performance.now() : 0;
    try {
      let failure: unknown;
      let failed = false;
      try {
        const context = {
          signal: this.handlerAbort.signal,
          receiveCount: tracked.receiveCount,
          environmentFault: (fault: EnvironmentFaultError) => this.onFaultReported(tracked, fault),
          probe: tracked.probe === true,
        };
        await (this.traced
          ? processSpan(this.queueUrl, message, () => this.handler(message, context))
          : this.handler(message, context));
      } catch (error) {
        failed = true;
        failure = error;
      }
      if (timed) this.emit("handled", message, (performance.now() - started) / 1000, !failed);
      if (this.handlerAbort.signal.aborted) return; // abandoned at the shutdown deadline
      if (failed) {
        await this.settleFailure(tracked, failure);
        return;
      }
      // A run that worked through a fault it reported has seen the environment come back.
      if (tracked.probe || tracked.faulted) this.breaker.success();
      // The slot is free as soon as the handler is done: the delete is batched in the background,
      // and the message counts as processed only once SQS confirmed it.
      this.freeSlot(tracked);
      if (await this.delete(tracked)) {
        this.stats.processed += 1;
        if (this.listenerCount("processed") > 0) this.emit("processed", message);
      }
    } catch {
      // Settling logs its own failures; the message reappears after its visibility timeout.
    } finally {
      this.workEnded(tracked);
    }
  }

  /** The handler threw: hold, pause, dead-letter or retry later, by what it threw. */
  private settleFailure(tracked: Tracked, error: unknown): void | Promise<void> {
    if (error instanceof HoldError) return this.hold(tracked, error);
    const fault = environmentFaultIn(error);
    if (fault) return this.onEnvironmentFault(tracked, fault);
    if (tracked.probe) this.breaker.success(); // the environment answered; the message failed
    if (error instanceof PoisonMessageError) return this.deadLetter(tracked, error);
    this.holdBackGroup(tracked);
    this.freeSlot(tracked);
    return this.retryLater(tracked, error);
  }

  // ── settle ──────────────────────────────────────────────────────────────────────────────────

  /**
   * How long this message's delete may wait for company. At a trickle (one poller) a batch fills
   * in about a second, a tenth of the request count; the cap keeps the wait well inside the visibility, so
   * SQS never redelivers a message whose delete is merely waiting. FIFO: at once, since SQS
   * holds the group's next message until this one is gone. Stopping: at once too.
   */
  private deleteWaitMs(tracked: Tracked): number {
    if (this.fifo || this.state !== "running") return 0;
    // Busy (batches fill, so more than one poller): company comes within milliseconds, and a long
    // wait would only hold back the last few deletes of a backlog.
    const wanted = this.pollerCount.target > 1 ? DELETE_BUSY_WAIT_MS : this.options.deleteBatchWaitMs;
    const remaining = tracked.deadline - this.options.clock.now();
    return Math.max(0, Math.min(wanted, remaining * DELETE_WAIT_VISIBILITY_FRACTION));
  }

  /** Deletes the message (batched); false when the delete failed for good. */
  private async delete(tracked: Tracked): Promise<boolean> {
    let error: unknown;
    try {
      // The batch's promise, shared by its ten deletes: no promise or callbacks per message.
      const outcome = await this.deletes.addShared(tracked.receiptHandle, this.deleteWaitMs(tracked));
      error = outcome.errorFor(tracked.receiptHandle);
    } catch (requestError) {
      error = requestError;
    }
    if (error !== undefined) {
      this.stats.deleteFailed += 1;
      this.logger.warn(
        { err: error, messageId: tracked.message.MessageId },
        "delete failed; SQS will deliver the message again",
      );
      this.emit("delete-failed", error, tracked.message);
      return false;
    }
    return true;
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
    const { message, receiveCount } = tracked;
    const error = new HandlerError(message.MessageId ?? "?", this.queueUrl, receiveCount, cause);
    // SQS refuses a visibility that ends more than 12 h after the receive (a long handler, or a
    // mail service's Retry-After, could ask for one): the delay stops at that limit instead.
    const left = visibilityLeftSeconds(tracked, this.options.clock.now());
    const delay = Math.max(0, Math.min(left, retryDelaySeconds(cause, receiveCount, this.options)));
    this.stats.failed += 1;
    this.logger.warn(
      { err: cause, messageId: message.MessageId, receiveCount, retryInSeconds: delay },
      "handler failed; message goes back to the queue",
    );
    this.emit("failed", error, message);
    try {
      await this.visibility.add({ receiptHandle: tracked.receiptHandle, timeoutSeconds: delay });
    } catch (changeError) {
      // The message still comes back when its current visibility timeout ends.
      this.logger.warn({ err: changeError }, "could not set the retry delay");
    }
  }

  private async deadLetter(tracked: Tracked, error: PoisonMessageError): Promise<void> {
    const { message } = tracked;
    try {
      await forwardToDeadLetter(
        {
          client: this.client,
          queueUrl: this.queueUrl,
          deadLetterQueueUrl: this.deadLetterQueueUrl,
          fifo: this.fifo,
        },
        message,
        error,
      );
    } catch (sendError) {
      // Not forwarded: treat as a failure, the queue's redrive policy still catches it.
      this.holdBackGroup(tracked);
      this.freeSlot(tracked);
      return this.retryLater(tracked, sendError);
    }
    this.freeSlot(tracked);
    // Already in the dead-letter queue; a failed delete means a redelivery forwards it again.
    await this.delete(tracked);
    this.stats.deadLettered += 1;
    this.logger.warn(
      { messageId: message.MessageId, reason: error.reason, error: error.message },
      "moved an invalid message to the dead-letter queue",
    );
    this.emit("dead-lettered", error, message);
  }

  /** Hands a message back to the queue (visible again in a second). */
  private async release(tracked: Tracked): Promise<void> {
    this.tracked.delete(tracked.receiptHandle);
    this.stats.released += 1;
    try {
      await this.visibility.add({ receiptHandle: tracked.receiptHandle, timeoutSeconds: HAND_BACK_SECONDS });
    } catch (error) {
      this.logger.warn(
        { err: error },
        "could not hand a message back; it reappears after its visibility timeout",
      );
    }
  }

  private checkDone(): void {
    if (this.state !== "running" || this.tracked.size > 0 || this.activeReceives > 0) return;
    const reachedMax = this.stats.received >= this.options.maxMessages;
    if (reachedMax || this.draining) void this.stop();
  }

  // ── paused (environment faults) ─────────────────────────────────────────────────────────────

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

  /** A running handler reported a fault it works through: pause as for a thrown one. */
  private onFaultReported(tracked: Tracked, error: EnvironmentFaultError): void {
    if (this.handlerAbort.signal.aborted || tracked.freed) return;
    tracked.faulted = true;
    this.stats.environmentFaults += 1;
    if (this.state === "running") this.breaker.fault(error);
  }

  /**
   * The handler asked to wait (HoldError): the message stays tracked, so the heartbeat keeps it
   * invisible and it spends no receive, and runs again when the wait ends. A probe that had to
   * wait proved nothing: it stays the probe's message and the breaker tries again later.
   */
  private hold(tracked: Tracked, error: HoldError): void {
    this.stats.held = (this.stats.held ?? 0) + 1;
    this.freeSlot(tracked);
    if (this.state !== "running") {
      void this.release(tracked);
      return;
    }
    this.tracked.set(tracked.receiptHandle, tracked);
    this.logger.info(
      { messageId: tracked.message.MessageId, waitMs: Math.round(error.delayMs), reason: error.message },
      "message held: kept invisible and run again when its wait ends",
    );
    if (tracked.probe) {
      this.breaker.retry();
      if (this.held === undefined) {
        this.held = tracked;
        return;
      }
    }
    this.waitThenRun(tracked, Math.max(0, error.delayMs));
  }

  private waitThenRun(tracked: Tracked, ms: number): void {
    const timer = this.options.clock.setTimeout(() => {
      this.waiting.delete(tracked.receiptHandle);
      if (this.state !== "running") return; // shutdown hands it back
      if (this.breaker.paused) {
        // Paused meanwhile: it becomes the probe's message, or waits for the breaker.
        if (this.held === undefined) this.held = tracked;
        else this.waitThenRun(tracked, 1_000);
        return;
      }
      this.tracked.delete(tracked.receiptHandle);
      const again: Tracked = { ...tracked, freed: false, probe: false, faulted: false, extending: false };
      this.tracked.set(again.receiptHandle, again);
      this.buffer.unshift(again);
      this.pump();
    }, ms);
    this.waiting.set(tracked.receiptHandle, { tracked, timer });
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
      // A handler working through the fault (or a message waiting out a hold) will tell: wait.
      const working = [...this.tracked.values()].some((t) => t.faulted && !t.freed);
      if (working || this.waiting.size > 0) {
        this.breaker.retry();
        return;
      }
      // Nothing held (the held message was settled elsewhere): resume; the next message that
      // meets the fault pauses again.
      this.breaker.success();
      return;
    }
    this.tracked.delete(held.receiptHandle);
    const again: Tracked = { ...held, freed: false, probe: true, faulted: false, extending: false };
    this.tracked.set(again.receiptHandle, again);
    this.run(again);
  }

  private onResume(pausedMs: number): void {
    this.logger.info({ pausedSeconds: pausedMs / 1000 }, "environment fault cleared: resuming");
    this.emit("resumed", pausedMs / 1000);
    // A handler that met the fault while the probe ran became the held message; the probe's success
    // closed the breaker without it, so it runs first now (else the heartbeat keeps it forever).
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) {
      this.tracked.delete(held.receiptHandle);
      const again: Tracked = { ...held, freed: false, probe: false, faulted: false, extending: false };
      this.tracked.set(again.receiptHandle, again);
      this.buffer.unshift(again);
    }
    this.pump();
    this.fill();
  }
}
