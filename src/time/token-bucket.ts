/**
 * A token bucket: `take(n)` waits until n tokens are there, refilling at `ratePerSecond` up to
 * `capacity` (the largest burst). Written here rather than taken from npm because the rate limit
 * must run on an injected clock (tests and the redrive's own pacing): `limiter` 4.1 reads
 * `performance.now()` and `setTimeout` at module scope and `bottleneck` uses `Date.now()`, so
 * both could only be tested with global fake timers.
 */
import type { Clock } from "./clock.js";

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly ratePerSecond: number,
    readonly capacity: number,
    private readonly clock: Clock,
  ) {
    if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) {
      throw new RangeError(`ratePerSecond must be a positive number, got ${ratePerSecond}`);
    }
    if (!(capacity >= 1)) throw new RangeError(`capacity must be at least 1, got ${capacity}`);
    // Starts full: the first batch goes at once, the pace shows from the second on.
    this.tokens = capacity;
    this.last = clock.now();
  }

  /**
   * Waits until `n` tokens (1 ≤ n ≤ capacity) are available and takes them; an aborted `signal`
   * ends the wait (rejecting with its reason) and takes nothing.
   */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (n < 1 || n > this.capacity) throw new RangeError(`take(${n}): must be 1–${this.capacity}`);
    for (;;) {
      signal?.throwIfAborted();
      this.refill();
      if (this.tokens >= n) {
        this.tokens -= n;
        return;
      }
      await this.clock.sleep(Math.ceil(((n - this.tokens) / this.ratePerSecond) * 1000), signal);
    }
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed / 1000) * this.ratePerSecond);
  }
}
