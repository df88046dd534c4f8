/**
 * Collects single operations into SQS batch requests (at most 10 entries each): flushed when
 * full or after a short wait. Each `add` resolves when SQS confirmed that entry, and rejects
 * when it failed for good; entries that failed on SQS's side are retried with backoff.
 */

import { BATCH_MAX_ENTRIES } from "./limits.js";

export interface BatchEntryFailure {
  readonly id: string;
  readonly code: string;
  readonly message: string;
  /** The request was wrong (a stale receipt handle): retrying cannot help. */
  readonly senderFault: boolean;
}

/** Sends one batch; returns the entries that failed (by their ids). */
export type BatchSender<T> = (entries: readonly { id: string; value: T }[]) => Promise<BatchEntryFailure[]>;

export class BatchEntryError extends Error {
  override readonly name = "BatchEntryError";
  constructor(
    readonly failure: BatchEntryFailure,
    readonly attempts: number,
  ) {
    super(`${failure.code}: ${failure.message} (after ${attempts} attempt${attempts === 1 ? "" : "s"})`);
  }
}

export interface BatcherOptions {
  /** How long a partial batch waits for company before it is sent. */
  readonly maxWaitMs?: number;
  readonly maxAttempts?: number;
  readonly retryDelayMs?: number;
}

interface Entry<T> {
  readonly value: T;
  attempts: number;
  resolve(): void;
  reject(error: Error): void;
}

export class Batcher<T> {
  private queue: Entry<T>[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  /** Entries waiting out their retry delay. */
  private readonly retrying = new Set<Promise<void>>();
  private readonly maxWaitMs: number;
  private readonly maxAttempts: number;
  private readonly retryDelayMs: number;
  private nextId = 0;

  constructor(
    private readonly sender: BatchSender<T>,
    options: BatcherOptions = {},
  ) {
    this.maxWaitMs = options.maxWaitMs ?? 20;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.retryDelayMs = options.retryDelayMs ?? 200;
  }

  add(value: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.enqueue({ value, attempts: 0, resolve, reject });
    });
  }

  /** Sends everything queued now and waits for every request under way. */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight.size > 0 || this.retrying.size > 0) {
      this.sendQueued();
      await Promise.allSettled([...this.inFlight, ...this.retrying]);
    }
  }

  private enqueue(entry: Entry<T>): void {
    this.queue.push(entry);
    if (this.queue.length >= BATCH_MAX_ENTRIES) {
      this.sendQueued();
    } else if (!this.timer) {
      this.timer = setTimeout(() => this.sendQueued(), this.maxWaitMs);
    }
  }

  private sendQueued(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH_MAX_ENTRIES);
      const request = this.send(batch).finally(() => this.inFlight.delete(request));
      this.inFlight.add(request);
    }
  }

  private async send(batch: Entry<T>[]): Promise<void> {
    const byId = new Map(batch.map((entry) => [String(this.nextId++), entry]));
    for (const entry of batch) entry.attempts += 1;
    let failures: BatchEntryFailure[];
    try {
      failures = await this.sender([...byId].map(([id, entry]) => ({ id, value: entry.value })));
    } catch (error) {
      // The whole request failed (the SDK already retried it): every entry failed this attempt.
      const message = error instanceof Error ? error.message : String(error);
      const code = error instanceof Error ? error.name : "Error";
      failures = [...byId.keys()].map((id) => ({ id, code, message, senderFault: false }));
    }
    const failed = new Set<string>();
    for (const failure of failures) {
      const entry = byId.get(failure.id);
      if (!entry) continue;
      failed.add(failure.id);
      if (failure.senderFault || entry.attempts >= this.maxAttempts) {
        entry.reject(new BatchEntryError(failure, entry.attempts));
      } else {
        const delay = this.retryDelayMs * 2 ** (entry.attempts - 1);
        const retry: Promise<void> = new Promise<void>((wake) => setTimeout(wake, delay)).then(() => {
          this.retrying.delete(retry);
          this.enqueue(entry);
        });
        this.retrying.add(retry);
      }
    }
    for (const [id, entry] of byId) if (!failed.has(id)) entry.resolve();
  }
}
