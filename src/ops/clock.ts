/**
 * Time for the operations commands, injected so that tests control it: the rate limit and the
 * move-task polling wait through `sleep`, and CloudWatch windows end at `now`.
 */
import { setTimeout as sleep } from "node:timers/promises";

export interface Clock {
  /** Milliseconds, monotonic enough for rate limiting. */
  now(): number;
  /** Rejects with the signal's reason when it aborts first. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
};
