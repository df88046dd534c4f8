/**
 * The time source of the runtime (STYLE habit 6): the batcher's waits and retries, the consumer's
 * backoff, heartbeat, shutdown deadline and delete windows all go through one of these, so unit
 * tests drive them with vitest's fake timers or a hand-made clock instead of sleeping.
 *
 * `systemClock` reads the global timer functions when called, not when this module loads, so
 * `vi.useFakeTimers()` takes it over too.
 */

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds (wall clock; only differences are used). */
  now(): number;
  /** Calls `callback` once after `ms`, unless cancelled first. */
  setTimeout(callback: () => void, ms: number): Timer;
  /** Resolves true after `ms`, or false as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(callback, ms) {
    const timer = setTimeout(callback, ms);
    return { cancel: () => clearTimeout(timer) };
  },
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      }, ms);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  },
};
