/**
 * `npm run dlq -- list | show <id> | redrive | purge`: the dead-letter queue, read and redriven.
 * Exit codes: 0 done; 1 a message was not found, not moved or SQS failed; 2 usage or
 * configuration error (including `purge` without a terminal and without --yes).
 */
import { createInterface } from "node:readline/promises";
import { type Command, InvalidArgumentError, Option } from "commander";
import { type Environment, readEnvironment } from "../config/env.js";
import { ConfigurationError } from "../errors.js";
import {
  type DeadLetterDetail,
  type DeadLetterSummary,
  listDeadLetters,
  PEEK_VISIBILITY_SECONDS,
  purgeDeadLetters,
  showDeadLetter,
} from "../ops/dlq.js";
import { OPERATOR_DEAD_LETTER_HINT } from "../ops/queues.js";
import { MAX_RATE, MOVE_VISIBILITY_SECONDS, type RedriveReport, redrive } from "../ops/redrive.js";
import { explained, OPS_ANSWER_TIMEOUT_MS } from "../sqs/client.js";
import { IN_FLIGHT_MAX_MESSAGES, LONG_POLL_MAX_SECONDS } from "../sqs/limits.js";
import { queueCounts, total } from "../sqs/queue-counts.js";
import { type QueuePairUrls, queuePair } from "../sqs/queue-pair.js";
import { totalRequests } from "../sqs/request-counter.js";
import {
  addQueueOptions,
  checkDefaults,
  connect,
  newCommand,
  type QueueFlags,
  runCli,
  wholeNumber,
} from "./shared.js";

interface ReadFlags extends QueueFlags {
  max: number;
  waitTime: number;
}

interface RedriveFlags extends QueueFlags {
  max?: number;
  waitTime: number;
  rate: number;
  reason?: string;
  dryRun?: boolean;
}

interface PurgeFlags extends QueueFlags {
  yes?: boolean;
}

const SAMPLE_NOTE =
  "a sample: SQS receives return some of the messages, not an enumeration; `npm run status` counts them";

function waitTimeOption(): Option {
  return new Option(
    "--wait-time <seconds>",
    `long-poll wait of each receive, 0–${LONG_POLL_MAX_SECONDS} (1 reaches all of SQS's servers)`,
  )
    .argParser(wholeNumber("--wait-time", 0, LONG_POLL_MAX_SECONDS))
    .default(1);
}

/** Connects, finds both queues, runs `work`, and closes the client. */
async function withQueues<T>(
  flags: QueueFlags,
  action: string,
  work: (context: Awaited<ReturnType<typeof connect>> & { queues: QueuePairUrls }) => Promise<T>,
): Promise<T> {
  // Every request bounded by its own long poll plus a few seconds (a silent endpoint ends this).
  const connection = await connect(flags, { answerTimeoutMs: OPS_ANSWER_TIMEOUT_MS });
  const { location, client } = connection;
  try {
    return await explained(
      async () =>
        work({ ...connection, queues: await queuePair(client, location, OPERATOR_DEAD_LETTER_HINT) }),
      location.queueUrl,
      action,
      location,
    );
  } finally {
    client.destroy();
  }
}

function warnNotRestored(count: number, seconds: number): void {
  if (count > 0) {
    process.stderr.write(
      `warning: ${count} message(s) could not be handed back; they reappear within ${seconds} s\n`,
    );
  }
}

function describe(message: DeadLetterSummary): string {
  const lines = [
    `${message.id}  reason: ${message.reason}  sent: ${message.sentAt ?? "?"}  receives: ${message.receiveCount ?? "?"}`,
  ];
  if (message.error !== null) lines.push(`  error: ${message.error}`);
  if (message.sourceMessageId !== null || message.sourceQueueUrl !== null) {
    lines.push(`  source: message ${message.sourceMessageId ?? "?"} of ${message.sourceQueueUrl ?? "?"}`);
  }
  return lines.join("\n");
}

function describeDetail(message: DeadLetterDetail): string {
  const body = message.body;
  const fields = [
    `${message.bodyBytes} bytes, ${body.kind}`,
    body.nomeInitial !== null ? `nome: ${body.nomeInitial}` : undefined,
    body.email !== null ? `email: ${body.email}` : undefined,
    body.registrationId !== null ? `registration id: ${body.registrationId}` : undefined,
  ].filter(Boolean);
  const others = message.otherAttributes.map((a) => `${a.name} (${a.dataType})`).join(", ");
  return [
    describe(message),
    `  other attributes: ${others || "none"}`,
    ...(message.droppedAttributes.length > 0
      ? [`  attributes dropped when dead-lettered (no room): ${message.droppedAttributes.join(", ")}`]
      : []),
    ...(message.acceptedSend
      ? [
          "  accepted send: its email left, its record was not written; a redrive keeps that, and mails nothing",
        ]
      : []),
    `  body (summary, never printed): ${fields.join("; ")}`,
  ].join("\n");
}

async function list(flags: ReadFlags): Promise<number> {
  const result = await withQueues(flags, "receive messages", ({ client, queues }) =>
    listDeadLetters({
      client,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      max: flags.max,
      waitTimeSeconds: flags.waitTime,
    }).then((listed) => ({ ...listed, queues })),
  );
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(result.messages)}\n`);
  } else {
    const n = result.messages.length;
    process.stdout.write(
      `${n} message${n === 1 ? "" : "s"} from ${result.queues.deadLetterQueueUrl} (${SAMPLE_NOTE})\n`,
    );
    for (const message of result.messages) process.stdout.write(`${describe(message)}\n`);
  }
  warnNotRestored(result.notRestored, PEEK_VISIBILITY_SECONDS);
  return 0;
}

async function show(messageId: string, flags: ReadFlags): Promise<number> {
  const result = await withQueues(flags, "receive messages", ({ client, queues }) =>
    showDeadLetter({
      client,
      deadLetterQueueUrl: queues.deadLetterQueueUrl,
      max: flags.max,
      waitTimeSeconds: flags.waitTime,
      messageId,
    }),
  );
  process.stdout.write(
    flags.json ? `${JSON.stringify(result.message)}\n` : `${describeDetail(result.message)}\n`,
  );
  warnNotRestored(result.notRestored, PEEK_VISIBILITY_SECONDS);
  return 0;
}

function redriveSummary(report: RedriveReport, seconds: number, rate: number): string {
  const lines = [
    `redrive via ${report.path} (${report.pathReason}): ` +
      (report.dryRun
        ? `would move ${report.wouldMove}, skipped ${report.skipped} (dry run: nothing moved)`
        : `moved ${report.moved}, failed ${report.failed}, skipped ${report.skipped}`) +
      ` in ${seconds.toFixed(2)} s at ≤ ${rate} msg/s`,
  ];
  if (report.taskHandle) lines.push(`move task ${report.taskHandle}: ${report.taskStatus ?? "?"}`);
  for (const f of report.failures) {
    const after =
      f.stage === "delete"
        ? " (sent to the main queue but still in the dead-letter queue: re-run redrive; the consumer skips the duplicate)"
        : "";
    lines.push(`failed ${f.id} at ${f.stage}: ${f.code}: ${f.message}${after}`);
  }
  return `${lines.join("\n")}\n`;
}

async function runRedrive(flags: RedriveFlags): Promise<number> {
  const started = performance.now();
  const { report, queues, requests } = await withQueues(
    flags,
    "redrive messages",
    async ({ client, queues, counts }) => ({
      report: await redrive({
        client,
        queues,
        ratePerSecond: flags.rate,
        max: flags.max,
        reason: flags.reason,
        dryRun: flags.dryRun ?? false,
        waitTimeSeconds: flags.waitTime,
      }),
      queues,
      requests: counts,
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ ...report, ...queues, seconds: Number(seconds.toFixed(3)), requests: totalRequests(requests) })}\n`,
    );
  } else {
    process.stdout.write(redriveSummary(report, seconds, flags.rate));
  }
  warnNotRestored(report.notRestored, MOVE_VISIBILITY_SECONDS);
  return report.failed > 0 ? 1 : 0;
}

async function purge(flags: PurgeFlags): Promise<number> {
  const { queues, count } = await withQueues(
    flags,
    "purge the dead-letter queue",
    async ({ client, queues }) => {
      const count = total(await queueCounts(client, queues.deadLetterQueueUrl));
      await purgeDeadLetters({
        client,
        deadLetterQueueUrl: queues.deadLetterQueueUrl,
        yes: flags.yes ?? false,
        interactive: process.stdin.isTTY === true && process.stderr.isTTY === true,
        count,
        ask: async (question) => {
          const terminal = createInterface({ input: process.stdin, output: process.stderr });
          try {
            return await terminal.question(question);
          } finally {
            terminal.close();
          }
        },
      });
      return { queues, count };
    },
  );
  if (flags.json) {
    process.stdout.write(
      `${JSON.stringify({ purged: true, deadLetterQueueUrl: queues.deadLetterQueueUrl, messages: count })}\n`,
    );
  } else {
    process.stdout.write(
      `purged ${queues.deadLetterQueueUrl}: about ${count} message(s) deleted (SQS may take up to 60 s to finish)\n`,
    );
  }
  return 0;
}

function parseRate(value: string): number {
  const rate = Number(value);
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE) {
    throw new InvalidArgumentError(
      `--rate must be a whole number from 1 to ${MAX_RATE} (messages a second).`,
    );
  }
  return rate;
}

function buildProgram(env: Environment, done: (code: Promise<number>) => void): Command {
  const program = newCommand("dlq").description(
    "Inspect, redrive and purge the dead-letter queue. Message bodies are never printed.",
  );
  // Subcommands inherit the one-line usage errors and exit code 2 (commander copies the settings).
  const sub = (name: string, description: string) =>
    addQueueOptions(program.command(name).description(description), env).hook("preAction", (command) =>
      checkDefaults(command),
    );

  sub("list", `Messages with their dead-letter reason and error, addresses masked (${SAMPLE_NOTE}).`)
    .option("--max <n>", "list at most N messages", wholeNumber("--max", 1, IN_FLIGHT_MAX_MESSAGES), 100)
    .addOption(waitTimeOption())
    .action((flags: ReadFlags) => done(list(flags)));

  sub("show", "One message's attributes and a masked summary of its body (never the body itself).")
    .argument("<messageId>", "the message's id in the dead-letter queue (from `dlq list`)")
    .option(
      "--max <n>",
      "look through at most N messages",
      wholeNumber("--max", 1, IN_FLIGHT_MAX_MESSAGES),
      1000,
    )
    .addOption(waitTimeOption())
    .action((messageId: string, flags: ReadFlags) => done(show(messageId, flags)));

  sub("redrive", "Move messages back to the main queue (at least once: send, then delete).")
    .option("--rate <n>", `messages a second, 1–${MAX_RATE}`, parseRate, 50)
    .option("--max <n>", "move at most N messages (client-side path)", wholeNumber("--max"))
    .option("--reason <reason>", "only messages with this dead-letter reason (client-side path)")
    .option("--dry-run", "count what would move; move nothing")
    .addOption(waitTimeOption())
    .action((flags: RedriveFlags) => done(runRedrive(flags)));

  sub("purge", "Delete every message of the dead-letter queue (asks first; --yes skips the question).")
    .option("--yes", "do not ask for confirmation (required without a terminal)")
    .action((flags: PurgeFlags) => done(purge(flags)));
  return program;
}

/** The subcommands, for the one line a bare `dlq` prints. */
const SUBCOMMANDS = "list, show <messageId>, redrive or purge";

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  // Commander would print the whole help on stderr and exit 1.
  if (argv.length === 0) {
    throw new ConfigurationError(`Missing command: use one of ${SUBCOMMANDS} (run with --help for usage).`);
  }
  let outcome: Promise<number> | undefined;
  buildProgram(env, (code) => {
    outcome = code;
  }).parse(argv, { from: "user" });
  return outcome ?? 0;
}

await runCli(() => main(process.argv.slice(2)));
