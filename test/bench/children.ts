/**
 * A child the bench starts for the length of a group (the soak's consumer) ends with the bench:
 * SIGINT or SIGTERM to the bench sends it SIGTERM (its own graceful stop), then the bench exits
 * as the signal would have made it (128 + the signal's number). Without this, Node's default
 * ends the bench at once and the child goes on consuming, loading whatever runs next.
 */
import type { ChildProcess } from "node:child_process";
import { constants } from "node:os";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Until the returned function is called, a signal to this process ends `child` with it. */
export function endWithBench(child: ChildProcess): () => void {
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    child.kill("SIGTERM");
    process.exit(128 + constants.signals[signal]);
  };
  for (const signal of SIGNALS) process.once(signal, onSignal);
  return () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
}
