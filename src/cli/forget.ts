/**
 * `npm run forget -- --email <address> [--nome <name>]…`: erases one person from the local stack
 * (or the stack the queue options name): queued and dead-lettered messages, outbox files and their
 * journal lines, and the sent-email store's records (docs/personal-data.md). Prints counts only.
 * Exit codes: 0 done; 1 SQS failed or refused a delete (run it again); 2 usage or configuration.
 */
import { dirname } from "node:path";
import { Command, Option } from "commander";
import { loadDigestKey } from "../config/digest-key.js";
import { readEnvironment } from "../config/env.js";
import { outboxDir, sentStorePath, suppressionListPath } from "../config/paths.js";
import { SqliteSuppressionList } from "../consumer/mail/suppression.js";
import { SqliteSentEmailStore } from "../consumer/store/sqlite.js";
import { maskEmail } from "../contract/registration.js";
import { type ForgetReport, forgetPerson } from "../ops/forget.js";
import { queuePair } from "../ops/queues.js";
import { explained } from "../sqs/client.js";
import { addQueueOptions, connect, type QueueFlags, runCli, wholeNumber } from "./shared.js";

interface ForgetFlags extends QueueFlags {
  email: string;
  nome: string[];
  outbox?: string;
  sentStore?: string;
  waitTime: number;
}

/** forget neither claims nor marks: the store's lease and retention are not used. */
const STORE_TIMING = { leaseMs: 1_000, retentionMs: 1_000 };

export function formatForget(email: string, report: ForgetReport): string {
  return [
    `forgot ${maskEmail(email)}:`,
    `  queue: ${report.queueMessages} message(s) deleted; dead-letter queue: ${report.deadLetterMessages}`,
    `  outbox: ${report.outboxFiles} email file(s), ${report.journalLines} sent.log line(s)`,
    `  sent-email store: ${report.storeRecords} record(s), from ${report.digests} name/address form(s)`,
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
    new Command("forget")
      .description(
        "Erase one person: their queued and dead-lettered messages, outbox emails and sent-email records.",
      )
      .requiredOption("--email <address>", "the person's email address")
      .option(
        "--nome <name>",
        "a name they registered under (repeatable); finds store records that no message or outbox file leads to",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option("--outbox <dir>", "the consumer's outbox (default: <state-dir>/outbox)")
      .option("--sent-store <file>", "the consumer's SQLite store (default: <state-dir>/sent-emails.sqlite)")
      .addOption(
        new Option(
          "--wait-time <seconds>",
          "long-poll wait of each receive, 0–20 (1 reaches all of SQS's servers)",
        )
          .argParser(wholeNumber("--wait-time", 0))
          .default(1),
      ),
    env,
  ).showHelpAfterError("(run with --help for usage)");
  program.parse(argv, { from: "user" });
  const flags = program.opts<ForgetFlags>();

  const digestKey = await loadDigestKey({ secret: env.REGISTRATION_DIGEST_KEY, stateDir: flags.stateDir });
  const storePath = flags.sentStore ?? sentStorePath(flags.stateDir);
  const store = new SqliteSentEmailStore(storePath, STORE_TIMING);
  // The SQLite list beside the SQLite store, as `consume` opens it. The fleet's DynamoDB list
  // (DynamoDbSuppressionList.forget) is not reached from here, like the DynamoDB store's records.
  const suppression = new SqliteSuppressionList(suppressionListPath(dirname(storePath)));
  const { location, client } = await connect(flags);
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
          sqs: { client, queues: await queuePair(client, location), waitTimeSeconds: flags.waitTime },
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
    suppression.close();
  }
}

await runCli(() => main(process.argv.slice(2)));
