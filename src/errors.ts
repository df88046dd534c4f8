/**
 * The exit codes of every command, once (docs/usage.md, "Exit codes", is checked against this
 * table by test/unit/exit-codes-doc.test.ts). Here, at the ground floor, so that the operations
 * (`status`, the replace check) and the CLIs share one table.
 */
export const ExitCode = {
  /** Done: everything sent or processed; `--help`; `status` with an empty dead-letter queue. */
  ok: 0,
  /** Something was not done: invalid input lines, SQS refused or failed, an unexpected error. */
  notDone: 1,
  /** Usage or configuration: a flag, an environment variable, a path, a port, no stack found. */
  usage: 2,
  /** `status` only: the dead-letter queue holds messages. */
  deadLettersPresent: 3,
} as const;

/**
 * Errors a user can act on. Each message names the problem and the fix; the CLIs print the
 * message alone (no stack trace) and exit non-zero.
 */
export class UserFacingError extends Error {
  override name = "UserFacingError";
  /** Process exit code for the CLIs. */
  readonly exitCode: number = ExitCode.notDone;
}

/** The queue could not be found from flags, env or stack outputs: configuration, exit code 2. */
export class QueueResolutionError extends UserFacingError {
  override name = "QueueResolutionError";
  override readonly exitCode: number = ExitCode.usage;
}

/** Bad flags or environment variables. Exit code 2, as for a usage error. */
export class ConfigurationError extends UserFacingError {
  override name = "ConfigurationError";
  override readonly exitCode = ExitCode.usage;
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
    readonly reason: "missing-table" | "access-denied" | "unreachable",
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
