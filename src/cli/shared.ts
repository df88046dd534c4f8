/**
 * What every CLI shares: the queue options, their resolution, and one way to fail (a message
 * that names the problem and the fix, a non-zero exit code, no stack trace for user errors).
 */
import { isIP } from "node:net";
import { Command, InvalidArgumentError, Option } from "commander";
import { loadDigestKey } from "../config/digest-key.js";
import { type Environment, type QueueSource, queueSources } from "../config/env.js";
import { checkWritableFolder } from "../config/folders.js";
import { COUNT_MAX, PORT_MAX, PORT_MIN } from "../config/limits.js";
import { defaultStateDir, projectRoot } from "../config/paths.js";
import type { DigestKey } from "../contract/digest.js";
import { ConfigurationError, ExitCode } from "../errors.js";
import { createLogger, type Logger, type LogLevel, logLevels } from "../log/logger.js";
import { createSqsClient, type SqsClientOptions } from "../sqs/client.js";
import { countRequests } from "../sqs/request-counter.js";
import { type QueueLocation, resolveQueue, resolveStack } from "../stack/resolve.js";
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

function stackOptionsFrom(flags: QueueFlags) {
  return {
    queueUrl: flags.queueUrl,
    source: flags.source,
    stack: flags.stack,
    terraformDir: flags.terraformDir,
    stateDir: flags.stateDir,
    projectRoot,
  };
}

export function resolveFromFlags(flags: QueueFlags): Promise<QueueLocation> {
  return resolveQueue(stackOptionsFrom(flags));
}

/**
 * Finds the queue and builds a client for it that counts its requests; `outputs` are the stack
 * outputs that named the queue (none when it was given by URL).
 */
export async function connect(flags: QueueFlags, clientOptions: SqsClientOptions = {}) {
  const { location, outputs } = await resolveStack(stackOptionsFrom(flags));
  const client = createSqsClient(location, clientOptions);
  return { location, outputs, client, counts: countRequests(client) };
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
  write: (text: string) => void = (text) => process.stdout.write(text),
): void {
  write(flags.json ? `${JSON.stringify(summary)}\n` : `${line(summary)}\n`);
}

export function loggerFor(flags: { logLevel: LogLevel }, name: string): Logger {
  return createLogger({ level: flags.logLevel, name });
}

/**
 * Commander's usage errors (unknown option, bad value) as one line that says where to look;
 * with `exitOverride()` they reach runCli, which exits 2 (docs/usage.md, "Exit codes").
 */
export const oneLineUsageErrors = {
  outputError: (text: string, write: (text: string) => void) =>
    // "unknown command 'lst'\n(Did you mean list?)" is one line too.
    write(`${text.trim().replace(/\s*\n\s*/g, " ")} (run with --help for usage)\n`),
};

/**
 * Every CLI's program: usage errors as one line and exit code 2. Subcommands made with
 * `.command()` inherit both settings (commander copies them).
 */
export function newCommand(name: string): Command {
  return new Command(name).configureOutput(oneLineUsageErrors).exitOverride();
}

/** Parses a whole number from min to max for commander, with a message that names the flag. */
export function wholeNumber(flag: string, min = 1, max = COUNT_MAX) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        max === COUNT_MAX
          ? `${flag} must be a whole number ≥ ${min}.`
          : `${flag} must be a whole number from ${min} to ${max}.`,
      );
    }
    return n;
  };
}

/** A TCP port, 0 (a free one) to 65535. */
export function portNumber(flag: string) {
  return wholeNumber(flag, PORT_MIN, PORT_MAX);
}

/**
 * An address to listen on: an IP address or `localhost`. A host name would be looked up when the
 * server starts, after the queue is reached, and fail there as if the network were at fault.
 */
export function listenAddress(flag: string) {
  return (value: string): string => {
    if (isIP(value) === 0 && value !== "localhost") {
      throw new InvalidArgumentError(
        `${flag} must be an IP address of this machine (127.0.0.1, 0.0.0.0 for every interface, ::1) or localhost.`,
      );
    }
    return value;
  };
}

/** Parses a number from min to max (fractions allowed) for commander, naming the flag. */
export function numberInRange(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be a number from ${min} to ${max} (e.g. 3.5).`);
    }
    return n;
  };
}

/**
 * Commander does not run an option's parser on its default, and a default that comes from an
 * environment variable (`[env NAME]` in the option's description) is as unchecked as a flag would
 * be. Runs each such default through the flag's own parser, so the flag and its variable have one
 * range; a value outside it is a configuration error naming the variable.
 */
export function checkDefaults(program: Command): void {
  for (const option of program.options) {
    const key = option.attributeName();
    const value = program.getOptionValue(key);
    const fromDefault = program.getOptionValueSource(key) === "default";
    if (!option.parseArg || !fromDefault || value === undefined || Array.isArray(value)) {
      continue;
    }
    try {
      option.parseArg(String(value), undefined);
    } catch (error) {
      if (!(error instanceof InvalidArgumentError)) throw error;
      const variable = /\[env (\w+)/.exec(option.description)?.[1];
      throw new ConfigurationError(
        variable
          ? `${variable}=${JSON.stringify(String(value))} is invalid: ${error.message} Fix or unset it.`
          : `The default of ${option.long ?? key} is invalid: ${error.message}`,
      );
    }
  }
}

/** Parses argv with `program`, then checks the defaults that came from the environment. */
export function parseFlags<T extends object>(program: Command, argv: readonly string[]): T {
  program.parse(argv, { from: "user" });
  checkDefaults(program);
  return program.opts<T>();
}

/** A warning for the person at the terminal: one line on stderr. */
export function warn(message: string): void {
  process.stderr.write(`warning: ${message}\n`);
}

/** The flags that say where the queue and the local state are: a hint must repeat them. */
const LOCATION_FLAGS: readonly string[] = ["queueUrl", "source", "stack", "terraformDir", "stateDir"];

/** `value` as one shell word. */
export function shellWord(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`;
}

/**
 * The location flags the user typed (`--state-dir /tmp/s`), for a printed hint: a suggested next
 * command must find the same queue and the same state folder (digest key, outbox) as this one.
 */
export function givenFlags(program: Command): string[] {
  const words: string[] = [];
  for (const option of program.options) {
    const key = option.attributeName();
    if (!LOCATION_FLAGS.includes(key) || program.getOptionValueSource(key) !== "cli" || !option.long)
      continue;
    words.push(option.long, shellWord(String(program.getOptionValue(key))));
  }
  return words;
}

/** `npm run <script> -- <args>`, as a hint prints it. */
export function npmRun(script: string, ...args: string[]): string {
  return args.length === 0 ? `npm run ${script}` : `npm run ${script} -- ${args.join(" ")}`;
}

/**
 * The registration digest key for a CLI: REGISTRATION_DIGEST_KEY, else the state folder's file,
 * whose folder is checked first (one line naming --state-dir); an open key file is warned about.
 */
export async function digestKeyFor(env: Environment, stateDir: string): Promise<DigestKey> {
  if (env.REGISTRATION_DIGEST_KEY === undefined) await checkWritableFolder(stateDir, "--state-dir");
  return loadDigestKey({ secret: env.REGISTRATION_DIGEST_KEY, stateDir, warn });
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
    const failure = failureOf(error);
    if (failure.message !== undefined) process.stderr.write(failure.message);
    process.exitCode = failure.code;
  }
}

/**
 * How a failed run ends: its exit code and the text for stderr (none for a usage error: commander
 * printed its own one-line message). A user's error is one line; a bug keeps its stack.
 */
export function failureOf(error: unknown): { readonly code: number; readonly message?: string } {
  const usage = commanderExitCode(error);
  if (usage !== undefined) return { code: usage };
  const user = toUserFacing(error);
  if (user) return { code: user.exitCode, message: `error: ${user.message}\n` };
  return {
    code: ExitCode.notDone,
    message: `error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  };
}
