/**
 * What every CLI shares: the queue options, their resolution, and one way to fail (a message
 * that names the problem and the fix, a non-zero exit code, no stack trace for user errors).
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { type Environment, type QueueSource, queueSources } from "../config/env.js";
import { defaultStateDir, projectRoot } from "../config/paths.js";
import { createLogger, type Logger, type LogLevel, logLevels } from "../log/logger.js";
import { createSqsClient, type SqsClientOptions } from "../sqs/client.js";
import { countRequests } from "../sqs/request-counter.js";
import { type QueueLocation, resolveQueue } from "../stack/resolve.js";
import { commanderExitCode, toUserFacing } from "./user-errors.js";

export interface QueueFlags {
  queueUrl?: string;
  source: QueueSource;
  stack?: string;
  terraformDir?: string;
  stateDir: string;
  logLevel: LogLevel;
  json?: boolean;
}

/** Adds --queue-url, --source, --stack, --terraform-dir, --state-dir, --log-level and --json, from env. */
export function addQueueOptions(command: Command, env: Environment): Command {
  return command
    .addOption(
      new Option("--queue-url <url>", "queue URL; wins over stack outputs [env SQS_QUEUE_URL]").default(
        env.SQS_QUEUE_URL,
      ),
    )
    .addOption(
      new Option("--source <source>", "where to read stack outputs [env QUEUE_SOURCE]")
        .choices(queueSources)
        .default(env.QUEUE_SOURCE ?? "local"),
    )
    .addOption(
      new Option("--stack <name>", "Pulumi stack, with --source pulumi [env PULUMI_STACK]").default(
        env.PULUMI_STACK,
      ),
    )
    .addOption(terraformDirOption(env))
    .addOption(addStateDir(env))
    .addOption(logLevelOption(env))
    .option("--json", "print one machine-readable summary on stdout");
}

export function terraformDirOption(env: Environment): Option {
  return new Option(
    "--terraform-dir <dir>",
    "Terraform working directory, with --source terraform [env TERRAFORM_DIR]",
  ).default(env.TERRAFORM_DIR, "infra-terraform/");
}

export function addStateDir(env: Environment): Option {
  return new Option("--state-dir <dir>", "local state folder [env SQS_STATE_DIR]").default(
    env.SQS_STATE_DIR ?? defaultStateDir,
    ".local-stack/",
  );
}

export function logLevelOption(env: Environment): Option {
  return new Option("--log-level <level>", "log level [env LOG_LEVEL]")
    .choices(logLevels)
    .default(env.LOG_LEVEL ?? "info");
}

export function resolveFromFlags(flags: QueueFlags): Promise<QueueLocation> {
  return resolveQueue({
    queueUrl: flags.queueUrl,
    source: flags.source,
    stack: flags.stack,
    terraformDir: flags.terraformDir,
    stateDir: flags.stateDir,
    projectRoot,
  });
}

/** Finds the queue and builds a client for it that counts its requests. */
export async function connect(flags: QueueFlags, clientOptions: SqsClientOptions = {}) {
  const location = await resolveFromFlags(flags);
  const client = createSqsClient(location, clientOptions);
  return { location, client, counts: countRequests(client) };
}

/** Seconds since `started` (a performance.now()) and the rate of `messages`, as summaries print them. */
export function throughput(started: number, messages: number) {
  const seconds = (performance.now() - started) / 1000;
  return {
    seconds: Number(seconds.toFixed(3)),
    messagesPerSecond: Math.round(messages / Math.max(seconds, 1e-3)),
  };
}

/** A run's summary on stdout: one JSON line with --json, else the human line. */
export function printSummary<T>(
  flags: { json?: boolean | undefined },
  summary: T,
  line: (summary: T) => string,
): void {
  process.stdout.write(flags.json ? `${JSON.stringify(summary)}\n` : `${line(summary)}\n`);
}

export function loggerFor(flags: { logLevel: LogLevel }, name: string): Logger {
  return createLogger({ level: flags.logLevel, name });
}

/**
 * Commander's usage errors (unknown option, bad value) as one line that says where to look;
 * with `exitOverride()` they reach runCli, which exits 2 (README, "Exit codes").
 */
export const oneLineUsageErrors = {
  outputError: (text: string, write: (text: string) => void) =>
    write(`${text.trimEnd()} (run with --help for usage)\n`),
};

/** Parses a whole number from min (to max) for commander, with a message that names the flag. */
export function wholeNumber(flag: string, min = 1, max = Number.POSITIVE_INFINITY) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === Number.POSITIVE_INFINITY
          ? `${flag} must be a whole number ≥ ${min}.`
          : `${flag} must be a whole number from ${min} to ${max}.`,
      );
    }
    return n;
  };
}

/** Parses a number > 0 (fractions allowed) for commander, with a message that names the flag. */
export function positiveNumber(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new InvalidArgumentError(`${flag} must be a number > 0 (e.g. 3.5).`);
    }
    return n;
  };
}

/**
 * Runs a CLI's main function and turns its outcome into an exit code (README, "Exit codes"):
 * a user error is one line, recognised by class and code wherever it was thrown; only a bug
 * prints a stack trace.
 */
export async function runCli(main: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main();
  } catch (error) {
    const usage = commanderExitCode(error);
    const user = usage === undefined ? toUserFacing(error) : undefined;
    if (usage !== undefined) {
      process.exitCode = usage; // commander printed its own one-line message
    } else if (user) {
      process.stderr.write(`error: ${user.message}\n`);
      process.exitCode = user.exitCode;
    } else {
      process.stderr.write(
        `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exitCode = 1;
    }
  }
}
