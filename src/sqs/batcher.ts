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

interface Entry<T> {
  readonly value: T;
  /** When this entry must leave, at the latest (clock ms). */
  readonly due: number;
  resolve(): void;
  reject(error: Error): void;
}

export class Batcher<T> {
  private queue: Entry<T>[] = [];
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
      const due = this.clock.now() + Math.max(0, maxWaitMs);
      this.queue.push({ value, due, resolve, reject });
      // A wait of 0 still leaves on a timer, so entries added in the same tick share a request.
      if (this.queue.length >= BATCH_MAX_ENTRIES) this.sendQueued();
      else this.schedule(due);
    });
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
    while (this.queue.length > 0) {
      let batch: Entry<T>[];
      if (this.queue.length <= BATCH_MAX_ENTRIES) {
        batch = this.queue;
        this.queue = [];
      } else {
        batch = this.queue.splice(0, BATCH_MAX_ENTRIES);
      }
      const request = this.send(batch).finally(() => this.inFlight.delete(request));
      this.inFlight.add(request);
    }
  }

  private async send(batch: Entry<T>[]): Promise<void> {
    const outcome = await sendWithRetries(
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
    if (outcome.failed.length === 0) {
      for (const entry of batch) entry.resolve();
      return;
    }
    const failed = new Set<Entry<T>>();
    for (const { entry, failure, attempts } of outcome.failed) {
      failed.add(entry);
      entry.reject(new BatchEntryError(failure, attempts));
    }
    for (const entry of batch) if (!failed.has(entry)) entry.resolve();
  }
}
