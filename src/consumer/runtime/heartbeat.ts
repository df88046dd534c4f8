/**
 * The heartbeat: every quarter of the visibility timeout, one batched extension for every held
 * message whose visibility is half spent, so a slow handler keeps its message invisible instead
 * of letting a second consumer start it again. Buffered messages are held too.
 */
import type { Logger } from "../../log/logger.js";
import type { Batcher } from "../../sqs/batcher.js";
import { VISIBILITY_MAX_SECONDS } from "../../sqs/limits.js";
import type { Clock, Timer } from "../../time/clock.js";
import type { VisibilityChange } from "./requests.js";
import type { Tracked } from "./types.js";

/**
 * SQS counts its 12 h from its own receive, earlier than `receivedAt` by the response's trip, and
 * reads a visibility change after the batch's wait, the request's trip and any retries of it: a
 * visibility that ends exactly at 12 h by our clock ends past it by SQS's, and is refused.
 */
const VISIBILITY_LIMIT_SPARE_SECONDS = 60;

/**
 * Seconds a visibility set now may last for this message: SQS refuses one that ends more than
 * 12 h after the receive (less a minute to spare). A retry delay and an extension stop there.
 */
export function visibilityLeftSeconds(tracked: Pick<Tracked, "receivedAt">, now: number): number {
  return (
    VISIBILITY_MAX_SECONDS - VISIBILITY_LIMIT_SPARE_SECONDS - Math.ceil((now - tracked.receivedAt) / 1000)
  );
}

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
      // Past SQS's 12 h from the receive no extension is taken: the message is visible again
      // when its last one ends, and is received anew.
      const seconds = Math.min(this.timeoutSeconds, visibilityLeftSeconds(tracked, now));
      if (seconds <= 0) continue;
      tracked.extending = true;
      this.visibility
        .add({ receiptHandle: tracked.receiptHandle, timeoutSeconds: seconds })
        .then(
          () => {
            tracked.deadline = this.clock.now() + seconds * 1000;
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
