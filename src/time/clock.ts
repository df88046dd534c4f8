/**
 * The one time source of the code (STYLE habit 6): the batcher's waits and retries, the consumer's
 * backoff, heartbeat, shutdown deadline and delete windows, the circuit breaker's probes, the mail
 * and redrive rate limits, and the operations' CloudWatch windows all go through a `Clock`, so tests
 * drive them with vitest's fake timers or a hand-made clock instead of sleeping.
 *
 * `systemClock` reads the global timer functions when called, not when this module loads, so
 * `vi.useFakeTimers()` takes it over too (which `node:timers/promises` would not).
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds (wall clock; only differences are used). */
  now(): number;
  /** Calls `callback` once after `ms`, unless cancelled first. */
  setTimeout(callback: () => void, ms: number): Timer;
  /**
   * Resolves after `ms`; rejects with the signal's reason as soon as `signal` aborts (at once if it
   * already has), so that an aborted wait cannot be mistaken for a finished one.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  },
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal?.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};

/**
 * Waits `ms` on `clock`; true when the time passed, false when `signal` aborted first. For loops
 * whose abort is an ordinary way to end (a stop cutting a backoff short), not an error.
 */
export async function sleepUnlessAborted(clock: Clock, ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await clock.sleep(ms, signal);
    return true;
  } catch (error) {
    if (signal.aborted) return false;
    throw error;
  }
}
