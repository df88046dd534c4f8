/**
 * Errors a user can act on. Each message names the problem and the fix; the CLIs print the
 * message alone (no stack trace) and exit non-zero.
 */
export class UserFacingError extends Error {
  override name = "UserFacingError";
  /** Process exit code for the CLIs. */
  readonly exitCode: number = 1;
}

/** The queue could not be found from flags, env or stack outputs: configuration, exit code 2. */
export class QueueResolutionError extends UserFacingError {
  override name = "QueueResolutionError";
  override readonly exitCode: number = 2;
}

/** Bad flags or environment variables. Exit code 2, as for a usage error. */
export class ConfigurationError extends UserFacingError {
  override name = "ConfigurationError";
  override readonly exitCode = 2;
}

/** SQS could not be reached or refused us; carries the queue URL it was talking to. */
export class SqsAccessError extends UserFacingError {
  override name = "SqsAccessError";
  constructor(
    message: string,
    readonly queueUrl: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The sent-email store cannot be used at all (its table is missing, or the credentials may not
 * use it): no retry helps, so the consumer stops with this one line, which names the table.
 */
export class StoreUnavailableError extends UserFacingError {
  override name = "StoreUnavailableError";
  constructor(
    message: string,
    readonly tableName: string,
    readonly reason: "missing-table" | "access-denied",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
