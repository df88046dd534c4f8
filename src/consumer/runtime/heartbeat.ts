/**
 * The heartbeat: every quarter of the visibility timeout, one batched extension for every held
 * message whose visibility is half spent, so a slow handler keeps its message invisible instead
 * of letting a second consumer start it again. Buffered messages are held too.
 */
import type { Logger } from "../../log/logger.js";
import type { Batcher } from "../../sqs/batcher.js";
import type { Clock, Timer } from "../../time/clock.js";
import type { VisibilityChange } from "./requests.js";
import type { Tracked } from "./types.js";

export class Heartbeat {
  private timer: Timer | undefined;
  private readonly intervalMs: number;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutSeconds: number,
    private readonly held: () => Iterable<Tracked>,
    private readonly visibility: Batcher<VisibilityChange>,
    private readonly logger: Logger,
  ) {
    this.intervalMs = Math.max(250, (timeoutSeconds * 1000) / 4);
  }

  start(): void {
    this.timer = this.clock.setTimeout(() => {
      this.beat();
      if (this.timer) this.start();
    }, this.intervalMs);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Extends every held message whose visibility is half spent (one batched request per 10). */
  beat(): void {
    const now = this.clock.now();
    const timeoutMs = this.timeoutSeconds * 1000;
    for (const tracked of this.held()) {
      if (tracked.extending || tracked.deadline - now > timeoutMs / 2) continue;
      tracked.extending = true;
      this.visibility
        .add({ receiptHandle: tracked.receiptHandle, timeoutSeconds: this.timeoutSeconds })
        .then(
          () => {
            tracked.deadline = this.clock.now() + timeoutMs;
          },
          (error) =>
            this.logger.warn(
              { err: error, messageId: tracked.message.MessageId },
              "could not extend visibility",
            ),
        )
        .finally(() => {
          tracked.extending = false;
        });
    }
  }
}
