/**
 * `npm run build:lambda`'s output: the zip holds the bundle under the name the function's handler
 * setting points at, and the bundle loads on its own (no node_modules beside it) and answers.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { LAMBDA_BUNDLE } from "../../src/contract/lambda-bundle.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { buildLambdaBundle } from "../../src/lambda/bundle.js";
import { toRecord } from "../../src/lambda/records.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, startTestSqs, waitFor } from "../support/local-sqs.js";
import { startTestSmtp } from "../support/smtp.js";

const run = promisify(execFile);
const folders: string[] = [];
/** The first test's zip and module, which the others use. */
let firstZip: Buffer | undefined;
let firstModule = "";
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe("the Lambda bundle", () => {
  it("zips one module that exports the handler, loads without node_modules and answers an empty event", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "lambda-bundle-"));
    folders.push(outDir);
    const bundle = await buildLambdaBundle(projectRoot, outDir);
    expect(LAMBDA_BUNDLE.handler).toBe(`${LAMBDA_BUNDLE.module.replace(/\.mjs$/, "")}.handler`);

    firstZip = await readFile(bundle.zipPath);
    firstModule = bundle.modulePath;
    const entries = unzipSync(new Uint8Array(firstZip));
    expect(Object.keys(entries)).toEqual([LAMBDA_BUNDLE.module]);
    expect(Buffer.from(entries[LAMBDA_BUNDLE.module] ?? []).equals(await readFile(bundle.modulePath))).toBe(
      true,
    );

    // A folder of its own, as Lambda unpacks it: nothing to resolve imports from but the bundle.
    const alone = await mkdtemp(join(tmpdir(), "lambda-alone-"));
    folders.push(alone);
    await writeFile(join(alone, LAMBDA_BUNDLE.module), entries[LAMBDA_BUNDLE.module] ?? new Uint8Array());
    const url = pathToFileURL(join(alone, LAMBDA_BUNDLE.module)).href;
    const script = `
      const { handler } = await import(${JSON.stringify(url)});
      const context = { getRemainingTimeInMillis: () => 30000 };
      const empty = await handler({ Records: [] }, context);
      let refused = "";
      try { await handler({ Records: [{ messageId: "m" }] }, context); } catch (error) { refused = error.name + ": " + error.message; }
      process.stdout.write(JSON.stringify({ empty, refused }));
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: alone,
      env: { PATH: process.env.PATH ?? "" },
    });
    const answer = JSON.parse(stdout);
    expect(answer.empty).toEqual({ batchItemFailures: [] });
    // With no environment, a real event is refused naming the first variable the stack must set.
    expect(answer.refused).toMatch(/^ConfigurationError: .*SQS_QUEUE_URL/);
  });

  it("gives the same zip for the same code (a deployment changes only when the code does)", async () => {
    const again = await mkdtemp(join(tmpdir(), "lambda-bundle-again-"));
    folders.push(again);
    const rebuilt = await buildLambdaBundle(projectRoot, again);
    expect(firstZip && (await readFile(rebuilt.zipPath)).equals(firstZip)).toBe(true);
  });

  it("configured from the environment alone, sends a registration once through the SDK's endpoints, and leaves the delete to the mapping", async () => {
    const sqs = await startTestSqs({}, { dynamoDb: true });
    const smtp = await startTestSmtp();
    try {
      const outputs = sqs.stack.outputs;
      const [registration] = (await generateRegistrations(1, 9)).map((r) =>
        toOutgoing(r, () => new Date(), testDigestKey),
      );
      if (!registration) throw new Error("no registration generated");
      // Delivered twice: the second invocation finds the email sent.
      await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send([registration, registration]);
      const { Messages = [] } = await sqs.client.send(
        new ReceiveMessageCommand({
          QueueUrl: sqs.queueUrl,
          MaxNumberOfMessages: 2,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["All"],
        }),
      );
      expect(Messages).toHaveLength(2);
      const events = Messages.map((m) => ({ Records: [toRecord(m, outputs.queueArn ?? "", "us-east-1")] }));
      const script = `
        const { handler } = await import(${JSON.stringify(pathToFileURL(firstModule).href)});
        const context = { getRemainingTimeInMillis: () => 60000 };
        const answers = [];
        for (const event of ${JSON.stringify(events)}) answers.push(await handler(event, context));
        process.stdout.write(JSON.stringify(answers));
      `;
      const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
        env: {
          PATH: process.env.PATH ?? "",
          AWS_REGION: "us-east-1",
          AWS_ACCESS_KEY_ID: "local",
          AWS_SECRET_ACCESS_KEY: "local",
          AWS_ENDPOINT_URL_SQS: sqs.endpoint,
          AWS_ENDPOINT_URL_DYNAMODB: outputs.dynamoDbEndpoint ?? "",
          SQS_QUEUE_URL: sqs.queueUrl,
          SENT_EMAIL_STORE: "dynamodb",
          SENT_EMAILS_TABLE_NAME: outputs.sentEmailsTableName ?? "",
          MAILER: "smtp",
          SMTP_URL: smtp.url,
          MAIL_RATE_PER_SECOND: "10",
          REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789",
          LOG_LEVEL: "silent",
        },
      });
      expect(JSON.parse(stdout)).toEqual([{ batchItemFailures: [] }, { batchItemFailures: [] }]);
      expect(smtp.received).toHaveLength(1);
      // Not deleted by the function: that is the mapping's part, so both are still in flight.
      await waitFor(
        async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 2,
        "both still in the queue",
      );
    } finally {
      await smtp.close();
      await sqs.close();
    }
  });
});
