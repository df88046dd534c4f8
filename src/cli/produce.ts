/**
 * `npm run produce -- …`: sends registrations from flags, generated data or NDJSON.
 * Exit codes: 0 everything sent; 1 something was not sent (invalid input or SQS failures);
 * 2 usage or configuration error.
 */
import { readFile } from "node:fs/promises";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { SingleBar } from "cli-progress";
import { Command, Option } from "commander";
import { readEnvironment } from "../config/env.js";
import { maskEmail, type Registration } from "../contract/registration.js";
import { ConfigurationError } from "../errors.js";
import { generateRegistrations, type InvalidInput, parseNdjson, prepare } from "../producer/input.js";
import { Producer, type SendReport } from "../producer/producer.js";
import { explained, explainSqsError } from "../sqs/client.js";
import { totalRequests } from "../sqs/request-counter.js";
import {
  addQueueOptions,
  connect,
  loggerFor,
  oneLineUsageErrors,
  type QueueFlags,
  runCli,
  wholeNumber,
} from "./shared.js";

interface ProduceFlags extends QueueFlags {
  nome?: string;
  email?: string;
  count?: number;
  seed: number;
  file?: string;
  strict?: boolean;
  concurrency: number;
  progress: boolean;
}

/** Shown after a progress bar only for runs at least this long. */
const PROGRESS_MIN = 500;

async function readInput(
  flags: ProduceFlags,
): Promise<{ items: { line: number; value: Registration }[]; invalid: InvalidInput[] }> {
  const modes = [
    flags.nome !== undefined || flags.email !== undefined,
    flags.count !== undefined,
    flags.file !== undefined,
  ].filter(Boolean).length;
  if (modes === 0) {
    throw new ConfigurationError(
      "Nothing to send: pass --nome NAME --email ADDRESS, --count N, or --file FILE (- reads standard input).",
    );
  }
  if (modes > 1) {
    throw new ConfigurationError("Choose one input: --nome/--email, --count or --file, not several.");
  }
  if (flags.count !== undefined) {
    return {
      items: (await generateRegistrations(flags.count, flags.seed)).map((value, i) => ({
        line: i + 1,
        value,
      })),
      invalid: [],
    };
  }
  if (flags.file !== undefined) {
    let text: string;
    try {
      text = flags.file === "-" ? await readStdin() : await readFile(flags.file, "utf8");
    } catch (error) {
      throw new ConfigurationError(
        `Cannot read --file ${flags.file}: ${(error as Error).message}. Give the path of an NDJSON file, or - for standard input.`,
      );
    }
    return parseNdjson(text);
  }
  if (flags.nome === undefined || flags.email === undefined) {
    throw new ConfigurationError("--nome and --email go together: pass both.");
  }
  return parseNdjson(JSON.stringify({ nome: flags.nome, email: flags.email }));
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = addQueueOptions(
    new Command("produce")
      .description("Send user registrations to the queue (SendMessageBatch, 10 per request).")
      .option("--nome <name>", "one registration: the person's name")
      .option("--email <address>", "one registration: the person's email address")
      .option(
        "--count <n>",
        "send N generated registrations (deterministic fake data)",
        wholeNumber("--count"),
      )
      .option("--seed <n>", "seed of the generated data", wholeNumber("--seed", 0), 1)
      .option("--file <path>", "send NDJSON registrations from a file; - reads standard input")
      .option("--strict", "send nothing if any input line is invalid")
      .option("--concurrency <n>", "requests in flight", wholeNumber("--concurrency"), 8)
      .addOption(new Option("--no-progress", "no progress bar, even on a terminal")),
    env,
  ).configureOutput(oneLineUsageErrors)
    .exitOverride();
  program.parse(argv, { from: "user" });
  const flags = program.opts<ProduceFlags>();
  const logger = loggerFor(flags, "producer");
  const started = performance.now();

  const input = await readInput(flags);
  const { location, client, counts } = await connect(flags);
  try {
    const { Attributes = {} } = await explained(
      () =>
        client.send(
          new GetQueueAttributesCommand({
            QueueUrl: location.queueUrl,
            AttributeNames: ["MaximumMessageSize", "FifoQueue"],
          }),
        ),
      location.queueUrl,
      "send messages",
      location,
    );
    const prepared = prepare(input.items, input.invalid, Number(Attributes.MaximumMessageSize ?? 262_144));
    for (const problem of prepared.invalid) {
      process.stderr.write(`invalid input, line ${problem.line}: ${problem.reason}\n`);
    }
    if (prepared.invalid.length > 0 && (flags.strict || prepared.registrations.length === 0)) {
      const why = flags.strict ? "--strict is set" : "no valid registration";
      process.stderr.write(
        `error: ${prepared.invalid.length} invalid input line(s) and ${why}: nothing was sent. Fix the lines above.\n`,
      );
      printSummary(
        flags,
        { sent: 0, failed: [], requests: totalRequests(counts) },
        prepared.invalid.length,
        started,
        location.queueUrl,
      );
      return 1;
    }

    const bar =
      flags.progress && process.stderr.isTTY && prepared.registrations.length >= PROGRESS_MIN
        ? new SingleBar({
            stream: process.stderr,
            format: "sending [{bar}] {value}/{total} | failed {failed} | {eta}s left",
          })
        : undefined;
    bar?.start(prepared.registrations.length, 0, { failed: 0 });
    const producer = new Producer({
      client,
      queueUrl: location.queueUrl,
      concurrency: flags.concurrency,
      fifo: Attributes.FifoQueue === "true",
      logger,
    });
    const report = await producer.send(prepared.registrations, ({ sent, failed }) =>
      bar?.update(sent + failed, { failed }),
    );
    bar?.stop();

    for (const failure of report.failed) {
      const line = prepared.lines[failure.index];
      process.stderr.write(`not sent, line ${line} (${failure.id}): ${failure.code}: ${failure.reason}\n`);
    }
    if (report.aborted) {
      const explainedError = explainSqsError(report.aborted, location.queueUrl, "send messages", location);
      process.stderr.write(
        `error: ${explainedError?.message ?? report.aborted.message} ${report.sent} of ${prepared.registrations.length} were sent before it stopped.\n`,
      );
    }
    if (prepared.registrations.length === 1 && report.sent === 1) {
      const only = prepared.registrations[0];
      if (only) logger.info({ to: maskEmail(only.email), registrationId: only.id }, "registration sent");
    }
    printSummary(
      flags,
      { ...report, requests: totalRequests(counts) },
      prepared.invalid.length,
      started,
      location.queueUrl,
    );
    return report.failed.length > 0 || prepared.invalid.length > 0 ? 1 : 0;
  } finally {
    client.destroy();
  }
}

function printSummary(
  flags: ProduceFlags,
  report: SendReport,
  invalid: number,
  started: number,
  queueUrl: string,
): void {
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    queueUrl,
    sent: report.sent,
    failed: report.failed.length,
    invalid,
    seconds: Number(seconds.toFixed(3)),
    messagesPerSecond: Math.round(report.sent / Math.max(seconds, 1e-3)),
    requests: report.requests,
    failures: report.failed,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `sent ${summary.sent}, failed ${summary.failed}, invalid ${summary.invalid} in ${summary.seconds} s (${summary.messagesPerSecond} msg/s, ${summary.requests} SQS requests) to ${queueUrl}\n`,
    );
  }
}

// Errors found by commander itself (unknown flag, bad choice) exit with its own message.
await runCli(() => main(process.argv.slice(2)));
