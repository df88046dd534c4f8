/**
 * Collects single operations into SQS batch requests (at most 10 entries each): flushed when
 * full, or when the entry that has waited longest reaches its wait. Each `add` resolves when SQS
 * confirmed that entry, and rejects when it failed for good; retries go through the one engine
 * (retry.ts) that the producer uses too.
 *
 * The wait is per entry, so a caller can let one entry wait long for company (a delete at a
 * trickle) and another go almost at once (a hand-back): the batch leaves at the earliest wait.
 */
import { type Clock, systemClock, type Timer } from "../time/clock.js";
import { BATCH_MAX_ENTRIES } from "./limits.js";
import { DEFAULT_RETRY_POLICY, type EntryFailure, type RetryPolicy, sendWithRetries } from "./retry.js";

export interface BatchEntryFailure extends EntryFailure {
  readonly id: string;
}

/**
 * Sends one batch; returns the entries that failed, by their ids. An entry's id is its position in
 * `entries` (`batchEntryId(i)`): unique per request, as SQS requires, and the sender builds the
 * SDK's entries straight from these, with no list in between.
 */
export type BatchSender<T> = (entries: readonly { readonly value: T }[]) => Promise<BatchEntryFailure[]>;

const ENTRY_IDS = Array.from({ length: BATCH_MAX_ENTRIES }, (_, i) => String(i));

/** The id of the entry at `position` in a batch request. */
export function batchEntryId(position: number): string {
  return ENTRY_IDS[position] ?? String(position);
}

const NO_FAILURES: ReadonlyMap<unknown, EntryFailure> = new Map<unknown, EntryFailure>();

export class BatchEntryError extends Error {
  override readonly name = "BatchEntryError";
  constructor(
    readonly failure: EntryFailure,
    readonly attempts: number,
  ) {
    super(`${failure.code}: ${failure.message} (after ${attempts} attempt${attempts === 1 ? "" : "s"})`);
  }
}

export interface BatcherOptions {
  /** How long a partial batch waits for company before it is sent, unless `add` says otherwise. */
  readonly maxWaitMs?: number;
  readonly retry?: RetryPolicy;
  readonly clock?: Clock;
}

/** What one batch request did, shared by every value that left in it (see `addShared`). */
export interface BatchOutcome<T> {
  /** Why `value` failed for good; undefined when SQS confirmed it. */
  errorFor(value: T): BatchEntryError | undefined;
}

const ALL_CONFIRMED: BatchOutcome<unknown> = { errorFor: () => undefined };

interface Entry<T> {
  readonly value: T;
  /** When this entry must leave, at the latest (clock ms). */
  readonly due: number;
  /** Set by `add`; an `addShared` entry hears through its batch's outcome instead. */
  readonly resolve?: () => void;
  readonly reject?: (error: Error) => void;
}

interface SharedOutcome<T> {
  readonly promise: Promise<BatchOutcome<T>>;
  resolve(outcome: BatchOutcome<T>): void;
  reject(error: unknown): void;
}

export class Batcher<T> {
  /** Never more than BATCH_MAX_ENTRIES: a full queue leaves at once, as one request. */
  private queue: Entry<T>[] = [];
  /** The outcome the `addShared` entries now queued will hear from. */
  private shared: SharedOutcome<T> | undefined;
  private timer: Timer | undefined;
  private timerDue = Number.POSITIVE_INFINITY;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly maxWaitMs: number;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;

  constructor(
    private readonly sender: BatchSender<T>,
    options: BatcherOptions = {},
  ) {
    this.maxWaitMs = options.maxWaitMs ?? 20;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.clock = options.clock ?? systemClock;
  }

  /** Requests under way now (what the socket pool must leave room for). */
  get requestsInFlight(): number {
    return this.inFlight.size;
  }

  /** Entries waiting for company. */
  get queued(): number {
    return this.queue.length;
  }

  /** Queues `value`; it leaves within `maxWaitMs` (default: the batcher's), sooner when a batch fills. */
  add(value: T, maxWaitMs = this.maxWaitMs): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue(value, maxWaitMs, resolve, reject);
    });
  }

  /**
   * Like `add`, for a hot path: the promise is the batch's, shared by every value that leaves in
   * the same request (no promise or callbacks per value). It never rejects for a value's failure:
   * ask the outcome `errorFor(value)`. Values must be unique within a batch (receipt handles are).
   */
  addShared(value: T, maxWaitMs = this.maxWaitMs): Promise<BatchOutcome<T>> {
    if (this.shared === undefined) {
      let resolve!: (outcome: BatchOutcome<T>) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<BatchOutcome<T>>((yes, no) => {
        resolve = yes;
        reject = no;
      });
      this.shared = { promise, resolve, reject };
    }
    // Taken before enqueue: a full batch leaves (and clears `shared`) at once.
    const { promise } = this.shared;
    this.enqueue(value, maxWaitMs);
    return promise;
  }

  private enqueue(value: T, maxWaitMs: number, resolve?: () => void, reject?: (error: Error) => void): void {
    const due = this.clock.now() + Math.max(0, maxWaitMs);
    this.queue.push({ value, due, resolve, reject });
    // A wait of 0 still leaves on a timer, so entries added in the same tick share a request.
    if (this.queue.length >= BATCH_MAX_ENTRIES) this.sendQueued();
    else this.schedule(due);
  }

  /** Sends everything queued now and waits for every request under way. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0) {
      this.sendQueued();
      await Promise.allSettled([...this.inFlight]);
    }
  }

  /** `due`: the entry just added; the timer already covers every earlier one. */
  private schedule(due: number): void {
    if (this.timer && due >= this.timerDue) return;
    this.timer?.cancel();
    this.timerDue = due;
    this.timer = this.clock.setTimeout(() => this.sendQueued(), Math.max(0, due - this.clock.now()));
  }

  private sendQueued(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.timerDue = Number.POSITIVE_INFINITY;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    const shared = this.shared;
    this.queue = [];
    this.shared = undefined;
    const request = this.send(batch, shared).finally(() => this.inFlight.delete(request));
    this.inFlight.add(request);
  }

  private async send(batch: Entry<T>[], shared: SharedOutcome<T> | undefined): Promise<void> {
    const outcome = await this.requestWithRetries(batch).catch((error: unknown) => {
      shared?.reject(error);
      throw error;
    });
    if (outcome.failed.length === 0) {
      for (const entry of batch) entry.resolve?.();
      shared?.resolve(ALL_CONFIRMED as BatchOutcome<T>);
      return;
    }
    const errors = new Map<T, BatchEntryError>();
    const failed = new Set<Entry<T>>();
    for (const { entry, failure, attempts } of outcome.failed) {
      const error = new BatchEntryError(failure, attempts);
      failed.add(entry);
      errors.set(entry.value, error);
      entry.reject?.(error);
    }
    for (const entry of batch) if (!failed.has(entry)) entry.resolve?.();
    shared?.resolve({ errorFor: (value) => errors.get(value) });
  }

  private requestWithRetries(batch: readonly Entry<T>[]) {
    return sendWithRetries(
      batch,
      async (entries) => {
        const failures = await this.sender(entries);
        if (failures.length === 0) return NO_FAILURES as ReadonlyMap<Entry<T>, EntryFailure>;
        const byEntry = new Map<Entry<T>, EntryFailure>();
        for (const failure of failures) {
          const entry = entries[Number(failure.id)];
          if (entry) byEntry.set(entry, failure);
        }
        return byEntry;
      },
      { policy: this.retry, clock: this.clock },
    );
  }
}
