/**
 * A handler throws PoisonMessageError when a message can never succeed (its body is not a
 * registration): the consumer moves it to the dead-letter queue at once instead of retrying it.
 * Any other error means "try again later".
 */
export class PoisonMessageError extends Error {
  override readonly name = "PoisonMessageError";
  constructor(
    /** Short machine-readable reason, sent as the `reason` message attribute. */
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A handler failed; the message goes back to the queue for another try. */
export class HandlerError extends Error {
  override readonly name = "HandlerError";
  constructor(
    readonly messageId: string,
    readonly queueUrl: string,
    readonly receiveCount: number,
    cause: unknown,
  ) {
    super(
      `handler failed for message ${messageId} (receive ${receiveCount}): ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

/** Where a fault of the consumer's own environment was found. */
export type EnvironmentComponent = "outbox" | "store" | "mailer";

/**
 * A fault of the consumer's own environment (a full or read-only disk, the sent-email store or
 * the mail transport unavailable or throttling), not of the message: the runtime pauses and
 * hands messages back instead of spending their retries, and reports itself not ready.
 */
export class EnvironmentFaultError extends Error {
  override readonly name = "EnvironmentFaultError";
  constructor(
    readonly component: EnvironmentComponent,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The EnvironmentFaultError an error is or wraps (through `cause`, a few levels deep), if any: a
 * transport's error may carry the fault of the component under it.
 */
export function environmentFaultIn(error: unknown): EnvironmentFaultError | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof EnvironmentFaultError) return e;
  }
  return undefined;
}

/**
 * Not a failure: the message cannot be worked on yet (another consumer holds its claim). The
 * runtime hands it back with this visibility instead of the backoff of a failure.
 */
export class RetryAfterError extends Error {
  override readonly name = "RetryAfterError";
  constructor(
    /** When to see the message again, 0–43,200 (SQS's visibility limit). */
    readonly delaySeconds: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Not a failure, and not the message's doing: the message must wait `delayMs` before it can be
 * worked on (its own earlier claim, held by this consumer, has not lapsed yet). The runtime keeps
 * the message, invisible, and runs it again then; handing it back would spend one of its receives
 * each time, and enough of them would dead-letter it.
 */
export class HoldError extends Error {
  override readonly name = "HoldError";
  constructor(
    readonly delayMs: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Thrown by a mail sender that gave up before anything could have left (an unsafe outbox path, a
 * temp file that could not be written): the claim may be given back at once. `cause` is the
 * reason, and what the handler passes on (an EnvironmentFaultError still pauses the consumer).
 * Any other error from a send is ambiguous: the claim is left to lapse.
 */
export class NotSentError extends Error {
  override readonly name = "NotSentError";
  constructor(override readonly cause: Error) {
    super(`nothing was sent: ${cause.message}`, { cause });
  }
}
