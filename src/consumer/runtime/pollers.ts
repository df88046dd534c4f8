/**
 * How many pollers run: one while receives come back small or empty, more as batches fill, back
 * down with hysteresis. An idle consumer is then one 20 s long poll at a time (3 receives a
 * minute), a trickle is one receive per arrival, and a backlog gets every poller its
 * concurrency can feed.
 *
 * - A full batch (10) doubles the count, up to the most the concurrency can feed: a backlog gets
 *   every poller within a few round trips. With a batching window, `GROW_AFTER_WINDOW` full
 *   batches in a row are needed: after a window a trickle has piled up a batch or two, which
 *   says nothing about a backlog.
 * - `SHRINK_AFTER` receives in a row that return less than half a batch take one poller away:
 *   one small receive at the tail of a burst does not tear the pollers down.
 */
import { RECEIVE_MAX_MESSAGES } from "../../sqs/limits.js";

export const GROW_AFTER_WINDOW = 3;
export const SHRINK_AFTER = 3;

export class PollerCount {
  private current = 1;
  private smallInARow = 0;
  private fullInARow = 0;

  /** `growAfter`: full batches in a row that double the count (1, or GROW_AFTER_WINDOW). */
  constructor(
    private readonly max: number,
    private readonly growAfter = 1,
  ) {}

  /** Pollers that should be running now. */
  get target(): number {
    return this.current;
  }

  /** A receive asked for `asked` and got `got` messages. */
  received(got: number, asked = RECEIVE_MAX_MESSAGES): void {
    if (got >= asked) {
      this.smallInARow = 0;
      this.fullInARow += 1;
      if (this.fullInARow >= this.growAfter) {
        this.fullInARow = 0;
        this.current = Math.min(this.max, this.current * 2);
      }
      return;
    }
    this.fullInARow = 0;
    if (got * 2 >= asked) {
      this.smallInARow = 0;
      return;
    }
    this.smallInARow += 1;
    if (this.smallInARow >= SHRINK_AFTER) {
      this.smallInARow = 0;
      this.current = Math.max(1, this.current - 1);
    }
  }
}
