/**
 * `npm run produce -- …`: sends registrations from flags, generated data or NDJSON.
 * Exit codes: 0 everything sent; 1 something was not sent (invalid input or SQS failures);
 * 2 usage or configuration error.
 */
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { SingleBar } from "cli-progress";
import { Option } from "commander";
import { readEnvironment } from "../config/env.js";
import { PRODUCER_CONCURRENCY_MAX } from "../config/limits.js";
import type { DigestKey } from "../contract/digest.js";
import { maskEmail, type OutgoingRegistration } from "../contract/registration.js";
import { ConfigurationError } from "../errors.js";
import { withTracing } from "../observability/tracing.js";
import {
  generatedItems,
  type InputItem,
  type InvalidInput,
  ndjsonItems,
  parseLine,
  preparedStream,
} from "../producer/input.js";
import { Producer, type SendReport } from "../producer/producer.js";
import { fileInput, spooledInput } from "../producer/sources.js";
import { explained, explainSqsError, RUN_ANSWER_TIMEOUT_MS } from "../sqs/client.js";
import { totalRequests } from "../sqs/request-counter.js";
import {
  addQueueOptions,
  connect,
  digestKeyFor,
  loggerFor,
  newCommand,
  parseFlags,
  printSummary,
  type QueueFlags,
  runCli,
  throughput,
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

/** The input, as items that can be read again from the start (for --strict's first pass). */
interface Input {
  items(): AsyncIterable<InputItem | undefined>;
  /** Known only for --count and --nome/--email. */
  readonly total?: number;
  readonly single: boolean;
  close(): Promise<void>;
}

async function* tap<T>(source: AsyncIterable<T>, see: (item: T) => void): AsyncGenerator<T> {
  for await (const item of source) {
    see(item);
    yield item;
  }
}

async function* one(item: InputItem | undefined): AsyncGenerator<InputItem | undefined> {
  yield item;
}

async function openInput(flags: ProduceFlags): Promise<Input> {
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
  const none = async () => {};
  if (flags.count !== undefined) {
    const { count, seed } = flags;
    return { items: () => generatedItems(count, seed), total: count, single: false, close: none };
  }
  if (flags.file !== undefined) {
    // Without --strict, stdin is sent as it arrives; with it, it is spooled to a temporary file
    // so that every line is validated before the first is sent.
    if (flags.file === "-" && !flags.strict) {
      return { items: () => ndjsonItems(process.stdin), single: false, close: none };
    }
    const input = flags.file === "-" ? await spooledInput(process.stdin) : await fileInput(flags.file);
    return { items: () => ndjsonItems(input.open()), single: false, close: () => input.close() };
  }
  if (flags.nome === undefined || flags.email === undefined) {
    throw new ConfigurationError("--nome and --email go together: pass both.");
  }
  const item = parseLine({ line: 1, text: JSON.stringify({ nome: flags.nome, email: flags.email }) });
  return { items: () => one(item), total: 1, single: true, close: none };
}

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = addQueueOptions(
    newCommand("produce")
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
      .option(
        "--concurrency <n>",
        "requests in flight",
        wholeNumber("--concurrency", 1, PRODUCER_CONCURRENCY_MAX),
        8,
      )
      .addOption(new Option("--no-progress", "no progress bar, even on a terminal")),
    env,
  );
  const flags = parseFlags<ProduceFlags>(program, argv);
  const started = performance.now();

  const input = await openInput(flags);
  try {
    // Before any request: an unusable state folder (the generated key lives there) is one line now.
    const digestKey = await digestKeyFor(env, flags.stateDir);
    return await produce(flags, input, started, digestKey);
  } finally {
    await input.close();
  }
}

async function produce(
  flags: ProduceFlags,
  input: Input,
  started: number,
  digestKey: DigestKey,
): Promise<number> {
  const logger = loggerFor(flags, "producer");
  const { location, client, counts } = await connect(flags, {
    answerTimeoutMs: RUN_ANSWER_TIMEOUT_MS,
    maxAttempts: 3,
  });
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
    const maxMessageBytes = Number(Attributes.MaximumMessageSize ?? 262_144);
    let invalid = 0;
    const report = (problem: InvalidInput) => {
      invalid += 1;
      process.stderr.write(`invalid input, line ${problem.line}: ${problem.reason}\n`);
    };
    const nothingSent = (why: string) => {
      process.stderr.write(
        `error: ${invalid} invalid input line(s) and ${why}: nothing was sent. Fix the lines above.\n`,
      );
      printSendSummary(
        flags,
        { sent: 0, failed: [], requests: totalRequests(counts) },
        invalid,
        started,
        location.queueUrl,
      );
      return 1;
    };

    let total = input.total;
    if (flags.strict) {
      // First pass: validate everything, send nothing. Memory holds one line at a time.
      let valid = 0;
      for await (const _ of preparedStream(input.items(), maxMessageBytes, digestKey, report)) valid += 1;
      if (invalid > 0) return nothingSent("--strict is set");
      total = valid;
    }

    const bar =
      flags.progress && process.stderr.isTTY && (total ?? 0) >= PROGRESS_MIN
        ? new SingleBar({
            stream: process.stderr,
            format: "sending [{bar}] {value}/{total} | failed {failed} | {eta}s left",
          })
        : undefined;
    bar?.start(total ?? 0, 0, { failed: 0 });
    const producer = new Producer({
      client,
      queueUrl: location.queueUrl,
      concurrency: flags.concurrency,
      fifo: Attributes.FifoQueue === "true",
      maxMessageBytes,
      logger,
    });
    let only: OutgoingRegistration | undefined;
    const source = preparedStream(input.items(), maxMessageBytes, digestKey, report);
    const sendReport = await producer.send(
      input.single ? tap(source, (item) => (only = item.registration)) : source,
      ({ sent, failed }) => bar?.update(sent + failed, { failed }),
    );
    bar?.stop();

    if (invalid > 0 && sendReport.sent === 0 && sendReport.failed.length === 0) {
      return nothingSent("no valid registration");
    }
    for (const failure of sendReport.failed) {
      process.stderr.write(
        `not sent, line ${failure.index} (${failure.id}): ${failure.code}: ${failure.reason}\n`,
      );
    }
    if (sendReport.aborted) {
      const explainedError = explainSqsError(
        sendReport.aborted,
        location.queueUrl,
        "send messages",
        location,
      );
      process.stderr.write(
        `error: ${explainedError?.message ?? sendReport.aborted.message} ${sendReport.sent} were sent before it stopped; the rest of the input was not read.\n`,
      );
    }
    if (only && sendReport.sent === 1) {
      logger.info({ to: maskEmail(only.email), registrationId: only.id }, "registration sent");
    }
    printSendSummary(
      flags,
      { ...sendReport, requests: totalRequests(counts) },
      invalid,
      started,
      location.queueUrl,
    );
    return sendReport.failed.length > 0 || invalid > 0 || sendReport.aborted ? 1 : 0;
  } finally {
    client.destroy();
  }
}

function printSendSummary(
  flags: ProduceFlags,
  report: SendReport,
  invalid: number,
  started: number,
  queueUrl: string,
): void {
  const summary = {
    queueUrl,
    sent: report.sent,
    failed: report.failed.length,
    invalid,
    ...throughput(started, report.sent),
    requests: report.requests,
    failures: report.failed,
  };
  printSummary(
    flags,
    summary,
    (s) =>
      `sent ${s.sent}, failed ${s.failed}, invalid ${s.invalid} in ${s.seconds} s (${s.messagesPerSecond} msg/s, ${s.requests} SQS requests) to ${queueUrl}`,
  );
}

// Errors found by commander itself (unknown flag, bad choice) exit with its own message.
await runCli(() => withTracing("sqs-messaging-producer", () => main(process.argv.slice(2))));
