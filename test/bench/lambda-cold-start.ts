/**
 * The Lambda bundle's size and cold start on this machine (docs/lambda.md): builds the bundle, then
 * in a fresh `node` per run (a cold container) times the module's load and the first invocation
 * (configuration, clients, the queue's attributes, one registration claimed, mailed over SMTP and
 * recorded), then a second invocation (warm), against the embedded SQS, the local DynamoDB and a
 * local SMTP server. The secrets come as values (no Secrets Manager here): on AWS the first
 * invocation adds one GetSecretValue round trip per secret, in parallel. Medians of `--runs`.
 *
 *     node --import tsx test/bench/lambda-cold-start.ts [--runs 7]
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { newCommand, parseFlags, runCli, wholeNumber } from "../../src/cli/shared.js";
import { projectRoot } from "../../src/config/paths.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { buildLambdaBundle } from "../../src/lambda/bundle.js";
import { toRecord } from "../../src/lambda/records.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { testDigestKey } from "../support/digest-key.js";
import { startTestSqs } from "../support/local-sqs.js";
import { startTestSmtp } from "../support/smtp.js";

const run = promisify(execFile);

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

async function main(argv: readonly string[]): Promise<number> {
  const program = newCommand("lambda-cold-start")
    .description("Time the Lambda bundle's module load, first and second invocation in fresh node processes.")
    .option("--runs <n>", "fresh processes to time", wholeNumber("--runs", 1, 50), 5);
  const flags = parseFlags<{ runs: number }>(program, argv);
  const outDir = await mkdtemp(join(tmpdir(), "lambda-cold-start-"));
  const bundle = await buildLambdaBundle(projectRoot, outDir);
  const sqs = await startTestSqs({}, { dynamoDb: true });
  const smtp = await startTestSmtp();
  const timings: { loadMs: number; firstMs: number; warmMs: number }[] = [];
  try {
    const outputs = sqs.stack.outputs;
    const registrations = (await generateRegistrations(flags.runs * 2, 7)).map((r) =>
      toOutgoing(r, () => new Date(), testDigestKey),
    );
    await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations);
    const env = {
      PATH: process.env.PATH ?? "",
      AWS_REGION: outputs.region ?? "us-east-1",
      AWS_ACCESS_KEY_ID: "local",
      AWS_SECRET_ACCESS_KEY: "local",
      // The SDK's own per-service endpoint variables: the function's code is unchanged.
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: outputs.dynamoDbEndpoint ?? "",
      SQS_QUEUE_URL: sqs.queueUrl,
      SENT_EMAIL_STORE: "dynamodb",
      SENT_EMAILS_TABLE_NAME: outputs.sentEmailsTableName ?? "",
      MAILER: "smtp",
      SMTP_URL: smtp.url,
      // High enough that the second invocation does not wait for the first send's token.
      MAIL_RATE_PER_SECOND: "100",
      REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789",
      LOG_LEVEL: "warn",
    };
    for (let i = 0; i < flags.runs; i++) {
      const events = [];
      for (let n = 0; n < 2; n++) {
        const { Messages = [] } = await sqs.client.send(
          new ReceiveMessageCommand({
            QueueUrl: sqs.queueUrl,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
        );
        events.push({ Records: Messages.map((m) => toRecord(m, outputs.queueArn ?? "", env.AWS_REGION)) });
      }
      const script = `
        const context = { getRemainingTimeInMillis: () => 60000 };
        const t0 = performance.now();
        const { handler } = await import(${JSON.stringify(pathToFileURL(bundle.modulePath).href)});
        const t1 = performance.now();
        const first = await handler(${JSON.stringify(events[0])}, context);
        const t2 = performance.now();
        const second = await handler(${JSON.stringify(events[1])}, context);
        const t3 = performance.now();
        if (first.batchItemFailures.length + second.batchItemFailures.length > 0) throw new Error(JSON.stringify({ first, second }));
        process.stdout.write(JSON.stringify({ loadMs: t1 - t0, firstMs: t2 - t1, warmMs: t3 - t2 }));
      `;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
        env,
        cwd: outDir,
      });
      timings.push(JSON.parse(stdout));
    }
  } finally {
    await smtp.close();
    await sqs.close();
    await rm(outDir, { recursive: true, force: true });
  }
  const ms = (pick: (t: (typeof timings)[number]) => number) => Math.round(median(timings.map(pick)));
  process.stdout.write(
    `${JSON.stringify({
      moduleBytes: bundle.moduleBytes,
      zipBytes: bundle.zipBytes,
      runs: timings.length,
      medianLoadMs: ms((t) => t.loadMs),
      medianFirstInvocationMs: ms((t) => t.firstMs),
      medianWarmInvocationMs: ms((t) => t.warmMs),
      emailsReceived: smtp.received.length,
    })}\n`,
  );
  return 0;
}

await runCli(() => main(process.argv.slice(2)));
