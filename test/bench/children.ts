/**
 * A child the bench starts for the length of a group (the soak's consumer) ends with the bench:
 * SIGINT or SIGTERM to the bench sends it SIGTERM (its own graceful stop), then the bench dies of
 * the signal as it would have (a shell loop running benches stops on Ctrl-C only when its child
 * died of SIGINT). Without this, Node's default ends the bench at once and the child goes on
 * consuming, loading whatever runs next.
 */
import type { ChildProcess } from "node:child_process";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/** Until the returned function is called, a signal to this process ends `child` with it. */
export function endWithBench(child: ChildProcess): () => void {
  const detach = () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    child.kill("SIGTERM");
    detach();
    process.kill(process.pid, signal); // Node's default now: the process dies of it
  };
  for (const signal of SIGNALS) process.once(signal, onSignal);
  return detach;
}
