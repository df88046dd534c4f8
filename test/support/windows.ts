/** The most events inside any window of `windowMs` (half-open: [t, t + windowMs)). */
export function busiestWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && (sorted[end] as number) < (sorted[start] as number) + windowMs) end++;
    most = Math.max(most, end - start);
  }
  return most;
}

/**
 * The smallest burst with which `times` conform to a token bucket refilled at `ratePerSecond`:
 * the most, over every span [t_i, t_j] of events, of (events in it) − rate × (its length). A
 * bucket of rate r and capacity b lets through at most r × T + b events in any span of T
 * seconds, so events it paced give at most b; events it did not pace give about their count.
 */
export function smallestBurst(times: readonly number[], ratePerSecond: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) {
      const seconds = ((sorted[j] as number) - (sorted[i] as number)) / 1000;
      most = Math.max(most, j - i + 1 - ratePerSecond * seconds);
    }
  }
  return most;
}
