/**
 * A child the bench starts for the length of a group (the soak's consumer) ends with the bench:
 * SIGINT or SIGTERM to the bench sends it SIGTERM (its own graceful stop), waits for it to exit
 * (at most `waitMs`), removes what the group made for it (its state folder), then the bench dies of
 * the signal as it would have (a shell loop running benches stops on Ctrl-C only when its child
 * died of SIGINT). Without this, Node's default ends the bench at once and the child goes on
 * consuming, loading whatever runs next. A second signal while it waits ends the bench at once.
 */
import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";

const SIGNALS = ["SIGINT", "SIGTERM"] as const;

export interface EndWithBenchOptions {
  /** Run once the child has exited (or `waitMs` passed), before the bench dies. */
  readonly cleanUp?: () => Promise<unknown>;
  /** Longest wait for the child's exit. Default 30 s (the consumer's shutdown deadline and more). */
  readonly waitMs?: number;
}

/** Until the returned function is called, a signal to this process ends `child` with it. */
export function endWithBench(child: ChildProcess, options: EndWithBenchOptions = {}): () => void {
  const detach = () => {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  };
  const onSignal = (signal: (typeof SIGNALS)[number]) => {
    detach(); // a second signal: Node's default, the bench ends at once
    const exited =
      child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, "exit");
    child.kill("SIGTERM");
    void Promise.race([exited, sleep(options.waitMs ?? 30_000)])
      .then(() => options.cleanUp?.())
      .catch(() => undefined)
      .finally(() => process.kill(process.pid, signal));
  };
  for (const signal of SIGNALS) process.once(signal, onSignal);
  return detach;
}
