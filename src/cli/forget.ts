/**
 * `npm run forget -- --email <address> [--nome <name>]…`: erases one person from the local stack
 * (or the stack the queue options name): queued and dead-lettered messages of the registrations'
 * queue and of the bounce queue, outbox files (temporary ones too) and their journal lines, the
 * sent-email store's records and the suppression list's entry — in the store the consumer uses:
 * the stack's DynamoDB table when it has one (or the task's SENT_EMAILS_TABLE_NAME), else the
 * SQLite file (docs/personal-data.md). Prints counts only.
 * Exit codes: 0 done; 1 SQS failed or refused a delete (run it again); 2 usage or configuration.
 */
import { InvalidArgumentError, Option } from "commander";
import { readEnvironment } from "../config/env.js";
import { acceptedDir, outboxDir } from "../config/paths.js";
import {
  openSentEmailStore,
  openSuppressionList,
  type StoreKind,
  storeKinds,
} from "../consumer/registrations.js";
import { maskEmail } from "../contract/registration.js";
import { type ForgetReport, forgetPerson } from "../ops/forget.js";
import { OPERATOR_DEAD_LETTER_HINT } from "../ops/queues.js";
import { explained, OPS_ANSWER_TIMEOUT_MS } from "../sqs/client.js";
import { LONG_POLL_MAX_SECONDS } from "../sqs/limits.js";
import { queuePair } from "../sqs/queue-pair.js";
import { stackParts } from "../stack/consumer-config.js";
import {
  addQueueOptions,
  connect,
  digestKeyFor,
  newCommand,
  parseFlags,
  type QueueFlags,
  runCli,
  wholeNumber,
} from "./shared.js";
import { storeChoiceFor } from "./store-flags.js";

interface ForgetFlags extends QueueFlags {
  email: string;
  nome: string[];
  outbox?: string;
  store?: StoreKind;
  sentStore?: string;
  waitTime: number;
}

/** forget neither claims nor marks: the send timeout that sets the store's lease is not used. */
const UNUSED_SEND_TIMEOUT_MS = 1_000;

/**
 * Loose on purpose: an address the contract refuses (a non-ASCII local part) may still wait in the
 * dead-letter queue and must be erasable; an empty or @-less value would erase nothing and say done.
 */
function addressFlag(value: string): string {
  if (!/^[^@\s]+@[^@\s]+$/.test(value.trim())) {
    throw new InvalidArgumentError("--email must be one address, local-part@domain.");
  }
  return value;
}

export function formatForget(email: string, report: ForgetReport): string {
  return [
    `forgot ${maskEmail(email)}:`,
    `  queue: ${report.queueMessages} message(s) deleted; dead-letter queue: ${report.deadLetterMessages}`,
    ...(report.bounceQueueMessages === undefined
      ? []
      : [
          `  bounce queue: ${report.bounceQueueMessages} message(s) deleted; its dead-letter queue: ${report.bounceDeadLetterMessages ?? 0}`,
        ]),
    `  outbox: ${report.outboxFiles} email file(s), ${report.outboxTemporaryFiles} unfinished temporary file(s), ${report.journalLines} sent.log line(s)`,
    `  sent-email store: ${report.storeRecords} record(s), from ${report.digests} name/address form(s); accepted sends waiting for their record: ${report.acceptedSends}`,
    ...(report.suppressions === undefined ? [] : [`  suppression list: ${report.suppressions} entry(ies)`]),
    ...(report.digests === 0
      ? [
          "  note: no name was found for this address, so the store (which keeps only digests of name and address) could not be searched; give --nome",
        ]
      : []),
    ...(report.notRestored > 0
      ? [`  warning: ${report.notRestored} other message(s) stay hidden until their visibility timeout ends`]
      : []),
    "",
  ].join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = addQueueOptions(
    newCommand("forget")
      .description(
        "Erase one person: their queued and dead-lettered messages (registrations and bounces), outbox emails, sent-email records and suppression entry.",
      )
      .requiredOption("--email <address>", "the person's email address", addressFlag)
      .option(
        "--nome <name>",
        "a name they registered under (repeatable); finds store records that no message or outbox file leads to",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option("--outbox <dir>", "the consumer's outbox (default: <state-dir>/outbox)")
      .addOption(
        new Option(
          "--store <kind>",
          "the consumer's sent-email store: dynamodb (the stack's table; the default when the outputs name one) or sqlite [env SENT_EMAIL_STORE]",
        )
          .choices(storeKinds)
          .default(env.SENT_EMAIL_STORE),
      )
      .option("--sent-store <file>", "the consumer's SQLite store (default: <state-dir>/sent-emails.sqlite)")
      .addOption(
        new Option(
          "--wait-time <seconds>",
          `long-poll wait of each receive, 0–${LONG_POLL_MAX_SECONDS} (1 reaches all of SQS's servers)`,
        )
          .argParser(wholeNumber("--wait-time", 0, LONG_POLL_MAX_SECONDS))
          .default(1),
      ),
    env,
  );
  const flags = parseFlags<ForgetFlags>(program, argv);

  const digestKey = await digestKeyFor(env, flags.stateDir);
  const connected = await connect(flags, { answerTimeoutMs: OPS_ANSWER_TIMEOUT_MS });
  const { client } = connected;
  // As consume reads it: a queue given by URL (an ECS task) names its table and bounce queue in
  // the environment, so forget erases from the store the consumer uses.
  const { location } = connected;
  const parts = stackParts(env, connected.outputs);
  const choice = storeChoiceFor(flags, { ...parts, region: location.region });
  const store = await openSentEmailStore(choice, UNUSED_SEND_TIMEOUT_MS).catch((error: unknown) => {
    client.destroy();
    throw error;
  });
  // The suppression list in the same place as the store, as `consume` opens it.
  const suppression = openSuppressionList(choice);
  try {
    const report = await explained(
      async () =>
        forgetPerson({
          email: flags.email,
          nomes: flags.nome,
          digestKey,
          store,
          suppression,
          outboxDir: flags.outbox ?? outboxDir(flags.stateDir),
          acceptedDir: acceptedDir(flags.stateDir),
          sqs: {
            client,
            queues: await queuePair(client, location, OPERATOR_DEAD_LETTER_HINT),
            bounceQueues: parts.bounceQueueUrl
              ? await queuePair(
                  client,
                  {
                    ...location,
                    queueUrl: parts.bounceQueueUrl,
                    deadLetterQueueUrl: undefined,
                  },
                  OPERATOR_DEAD_LETTER_HINT,
                )
              : undefined,
            waitTimeSeconds: flags.waitTime,
          },
        }),
      location.queueUrl,
      "receive and delete messages",
      location,
    );
    process.stdout.write(flags.json ? `${JSON.stringify(report)}\n` : formatForget(flags.email, report));
    return 0;
  } finally {
    client.destroy();
    await store.close();
    await suppression.close?.();
  }
}

await runCli(() => main(process.argv.slice(2)));
