/**
 * The consume command in this process: the same flags, configuration, application and error
 * mapping as `src/cli/consume.ts`, without a tsx child (about a second of start-up each). Its
 * result has runCli's shape, so a test asserts the same stdout, stderr lines and exit code.
 * Signals and the process's own exit stay with the real binary (exit-codes, npm-signals, shutdown).
 */
import { Writable } from "node:stream";
import { CONSUMER_SETTINGS, parseConsumeFlags } from "../../src/cli/consume-flags.js";
import { failureOf, oneLineUsageErrors, printSummary } from "../../src/cli/shared.js";
import { readEnvironment } from "../../src/config/env.js";
import { projectRoot } from "../../src/config/paths.js";
import { startConsumerApp, summaryLine } from "../../src/consumer/app.js";
import { createLogger } from "../../src/log/logger.js";
import { loadConsumerConfig } from "../../src/stack/consumer-config.js";
import { type CliResult, cleanEnv } from "./cli.js";

export interface ConsumeAppOptions {
  /** The variables the CLI would see (default: cleanEnv(), LOG_LEVEL=warn). */
  readonly env?: NodeJS.ProcessEnv;
}

/** Runs `consume <args>` in process and returns what the CLI would have printed and exited with. */
export async function runConsumeApp(
  args: readonly string[],
  options: ConsumeAppOptions = {},
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const toStderr = new Writable({
    write(chunk, _encoding, done) {
      stderr += String(chunk);
      done();
    },
  });
  const writeOut = (text: string) => {
    stdout += text;
  };
  const writeErr = (text: string) => {
    stderr += text;
  };
  try {
    const env = readEnvironment(options.env ?? cleanEnv());
    const { flags, json } = parseConsumeFlags(args, env, {
      writeOut,
      writeErr,
      outputError: oneLineUsageErrors.outputError,
    });
    const config = await loadConsumerConfig(flags, env, CONSUMER_SETTINGS, projectRoot);
    const logger = createLogger({
      level: config.observability.logLevel,
      name: "consumer",
      destination: { write: writeErr },
    });
    const app = await startConsumerApp(config, {
      logger,
      warn: (message) => writeErr(`warning: ${message}\n`),
      emfStream: toStderr,
    });
    const summary = await app.finished;
    printSummary({ json }, summary, summaryLine, writeOut);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = failureOf(error);
    if (failure.message !== undefined) stderr += failure.message;
    return { code: failure.code, stdout, stderr };
  }
}
