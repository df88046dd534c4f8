/**
 * `npm run demo`: the whole job with no AWS account and nothing running — embedded SQS,
 * 1,000 registrations produced and consumed, a summary. Exit 0 when every one was processed.
 */

import { join } from "node:path";
import { Option } from "commander";
import { readEnvironment } from "../config/env.js";
import { checkWritableFolder } from "../config/folders.js";
import { DEMO_COUNT_MAX, FLEET_CONSUMERS_MAX } from "../config/limits.js";
import { CONCURRENCY_MAX } from "../consumer/runtime/options.js";
import { type DemoRuntime, demoRuntimes, runDemo } from "../local/demo.js";
import { runFleet } from "../local/fleet.js";
import type { LogLevel } from "../log/logger.js";
import {
  addStateDir,
  loggerFor,
  logLevelOption,
  newCommand,
  parseFlags,
  runCli,
  wholeNumber,
} from "./shared.js";

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = newCommand("demo")
    .description("Start an embedded SQS, produce registrations, consume them all, print a summary.")
    .option("--count <n>", "registrations to produce", wholeNumber("--count", 1, DEMO_COUNT_MAX), 1000)
    .option("--concurrency <n>", "consumer concurrency", wholeNumber("--concurrency", 1, CONCURRENCY_MAX), 50)
    .addOption(
      new Option(
        "--runtime <runtime>",
        "what consumes: the long-running consumer, or the Lambda handler behind a local event source mapping",
      )
        .choices(demoRuntimes)
        .default("consumer"),
    )
    .option(
      "--consumers <n>",
      "run a fleet: N consume processes sharing a local DynamoDB store, every registration sent twice, consumers killed and restarted (default --count 200)",
      wholeNumber("--consumers", 1, FLEET_CONSUMERS_MAX),
    )
    .addOption(addStateDir(env))
    .addOption(logLevelOption(env).default(env.LOG_LEVEL ?? "warn"))
    .option("--json", "print the summary as JSON");
  const flags = parseFlags<{
    count: number;
    concurrency: number;
    runtime: DemoRuntime;
    stateDir: string;
    logLevel: LogLevel;
    json?: boolean;
    consumers?: number;
  }>(program, argv);
  // The demo's consumers would pause on an unwritable outbox (their own fault) and wait forever.
  await checkWritableFolder(flags.stateDir, "--state-dir");
  if (flags.consumers !== undefined) {
    const fleet = await runFleet({
      count: program.getOptionValueSource("count") === "default" ? 200 : flags.count,
      consumers: flags.consumers,
      stateDir: join(flags.stateDir, "demo-fleet"),
      logger: loggerFor(flags, "demo"),
    });
    if (flags.json) {
      process.stdout.write(`${JSON.stringify(fleet)}\n`);
    } else {
      process.stdout.write(
        [
          `Fleet demo: ${fleet.consumers} consume processes sharing a local DynamoDB store (dynalite):`,
          `  registrations    ${fleet.registrations} (${fleet.messagesSent} messages: each sent twice)`,
          `  consumers killed ${fleet.kills} (SIGKILL mid-drain, restarted)`,
          `  emails sent      ${fleet.emailsSent} (counted from the outbox)`,
          `  duplicate emails ${fleet.duplicateEmails} (second writes, from the outbox journal)`,
          `  found written    ${fleet.alreadyInOutbox} (killed after writing, before recording: SMTP would send these twice)`,
          `  lost             ${fleet.lost}`,
          `  left in queues   ${fleet.leftInQueue} (main), ${fleet.leftInDeadLetterQueue} (dead-letter)`,
          `  time             ${fleet.seconds} s`,
          `  outbox           ${fleet.outbox}`,
          "",
        ].join("\n"),
      );
    }
    return fleet.lost === 0 && fleet.duplicateEmails === 0 ? 0 : 1;
  }
  const summary = await runDemo({
    count: flags.count,
    concurrency: flags.concurrency,
    runtime: flags.runtime,
    outboxDir: join(flags.stateDir, "demo-outbox"),
    logger: loggerFor(flags, "demo"),
  });
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      [
        `Demo on the embedded SQS (no AWS account), ${summary.runtime === "lambda" ? "the Lambda handler behind a local event source mapping" : "the long-running consumer"}:`,
        `  sent           ${summary.sent}${summary.sendFailed ? ` (${summary.sendFailed} failed)` : ""}`,
        `  processed      ${summary.processed}`,
        `  dead-lettered  ${summary.deadLettered}`,
        `  second sends   ${summary.secondSends} (a copy after a send that ended without an answer)`,
        `  duplicates     ${summary.duplicates} (emails written twice, from the outbox journal)`,
        `  lost           ${summary.lost}`,
        `  left in queues ${summary.leftInQueue} (main), ${summary.leftInDeadLetterQueue} (dead-letter)`,
        `  time           ${summary.seconds} s (${summary.messagesPerSecond} msg/s end to end, ${summary.requests} SQS requests)`,
        `  outbox         ${summary.outbox}`,
        "",
      ].join("\n"),
    );
  }
  const complete =
    summary.processed === flags.count &&
    summary.sendFailed === 0 &&
    summary.leftInQueue === 0 &&
    summary.duplicates === 0 &&
    summary.lost === 0;
  return complete ? 0 : 1;
}

await runCli(() => main(process.argv.slice(2)));
