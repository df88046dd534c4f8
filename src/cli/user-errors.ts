/**
 * The CLIs' boundary: turns what a user can fix into one line and a documented exit code
 * (README, "Exit codes"). Errors are recognised by class and code, not by where they were thrown,
 * so the mapping keeps working when the store or the runtime moves.
 */
import { CommanderError } from "commander";
import { errorChain as chain, PATH_PROBLEMS } from "../config/folders.js";
import { ConfigurationError, ExitCode, UserFacingError } from "../errors.js";

/** A user-facing error for `error`, or undefined when it is a bug (printed with its stack). */
export function toUserFacing(error: unknown): UserFacingError | undefined {
  if (error instanceof UserFacingError) return error;
  for (const e of chain(error)) {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code === "EADDRINUSE" || code === "EADDRNOTAVAIL") {
      const where = e.port !== undefined ? `${String(e.address ?? "")}:${String(e.port)}` : "the port";
      const why = code === "EADDRINUSE" ? "is in use" : "is not an address of this machine";
      return new ConfigurationError(
        `Cannot listen on ${where}: it ${why}. Stop what listens there, or choose another port or address (--health-port/--health-host, --port).`,
        { cause: error },
      );
    }
    if (code && code in PATH_PROBLEMS && typeof e.path === "string") {
      return new ConfigurationError(
        `Cannot use ${e.path}: ${PATH_PROBLEMS[code]} (${code}${typeof e.syscall === "string" ? ` on ${e.syscall}` : ""}). Choose a writable folder with --state-dir / SQS_STATE_DIR (or fix --outbox, --sent-store, --file).`,
        { cause: error },
      );
    }
    if (code === "ERR_SQLITE_ERROR") {
      const what = typeof e.errstr === "string" ? e.errstr : String(e.message ?? "");
      return new ConfigurationError(
        `The sent-email store cannot be opened (SQLite: ${what}). Point --sent-store at a file in a writable folder, or --state-dir at a writable folder.`,
        { cause: error },
      );
    }
  }
  return undefined;
}

/**
 * Exit code for a commander error, or undefined when it is not one. Commander has already
 * printed its message (unknown option, invalid argument) and the usage hint; --help and
 * --version are successes.
 */
export function commanderExitCode(error: unknown): number | undefined {
  if (!(error instanceof CommanderError)) return undefined;
  if (error.code === "commander.helpDisplayed" || error.code === "commander.version") return ExitCode.ok;
  // `program.help()` exits 0; help shown because a command was missing exits 1 in commander.
  if (error.code === "commander.help") return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  return ExitCode.usage;
}
