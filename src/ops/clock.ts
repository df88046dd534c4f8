/**
 * Time for the operations commands, injected so that tests control it: the rate limit and the
 * move-task polling wait through `sleep`, and CloudWatch windows end at `now`.
 */
export interface Clock {
  /** Milliseconds, monotonic enough for rate limiting. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
