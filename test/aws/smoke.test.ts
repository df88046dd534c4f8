/**
 * The AWS smoke suite: `AWS_E2E=1 npm run test:aws`, against a deployed stack, with
 * the AWS default credential chain. Skipped (and said so) without AWS_E2E=1, so `npm test` never
 * touches an account. Run it on a dev or smoke stack, never production: it drains the queue.
 *
 *   AWS_E2E=1 PULUMI_STACK=dev npm run test:aws            # outputs from `pulumi stack output`
 *   AWS_E2E=1 AWS_E2E_SOURCE=terraform npm run test:aws    # outputs from `terraform output`
 *
 * What it proves on the real services: the queues are as the settings say (encryption, redrive
 * to the dead-letter queue after maxReceiveCount, the TLS-only policy), a request over plain HTTP
 * is refused, the table is protected, a registration produced is consumed into one welcome email,
 * and a body that is not a registration ends in the dead-letter queue with its reason.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import type { StackOutputs } from "../../src/stack/outputs.js";
import { type QueueLocation, resolveStack } from "../../src/stack/resolve.js";
import { runCli } from "../support/cli.js";

const enabled = process.env.AWS_E2E === "1";
const source = process.env.AWS_E2E_SOURCE === "terraform" ? "terraform" : "pulumi";
if (!enabled)
  console.warn(
    "AWS smoke suite SKIPPED: set AWS_E2E=1 (and PULUMI_STACK) to run it against a deployed stack.",
  );

/** The children get this process's environment: the AWS credential chain, the Pulumi stack. */
const env = { ...process.env, LOG_LEVEL: "warn" };
const queueArgs = () => [
  "--source",
  source,
  ...(process.env.PULUMI_STACK ? ["--stack", process.env.PULUMI_STACK] : []),
];

describe.skipIf(!enabled)(`the deployed stack on AWS (outputs from ${source})`, () => {
  let location: QueueLocation;
  let outputs: StackOutputs | undefined;
  let sqs: SQSClient;

  beforeAll(async () => {
    ({ location, outputs } = await resolveStack({
      source,
      stack: process.env.PULUMI_STACK,
      stateDir: mkdtempSync(join(tmpdir(), "aws-smoke-")),
      projectRoot,
    }));
    expect(location.endpoint, "a smoke test of AWS, not of an emulator").toBeUndefined();
    sqs = new SQSClient({ region: location.region });
  }, 120_000);

  const attributes = async (QueueUrl: string) =>
    (await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }))).Attributes ?? {};

  it("has both queues encrypted, TLS-only, and redriving to the dead-letter queue", async () => {
    const main = await attributes(location.queueUrl);
    const dlq = await attributes(location.deadLetterQueueUrl ?? "");
    for (const [name, queue] of [
      ["queue", main],
      ["dead-letter queue", dlq],
    ] as const) {
      expect(queue.SqsManagedSseEnabled === "true" || queue.KmsMasterKeyId !== undefined, name).toBe(true);
      const policy = JSON.parse(queue.Policy ?? "{}");
      expect(policy.Statement, name).toContainEqual(
        expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      );
    }
    expect(JSON.parse(main.RedrivePolicy ?? "{}")).toEqual({
      deadLetterTargetArn: dlq.QueueArn,
      maxReceiveCount: settings.queues.maxReceiveCount,
    });
  });

  it("refuses a request over plain HTTP (the queue policy)", async () => {
    const insecure = new SQSClient({
      region: location.region,
      endpoint: `http://sqs.${location.region}.amazonaws.com`,
    });
    await expect(
      insecure.send(
        new GetQueueAttributesCommand({ QueueUrl: location.queueUrl, AttributeNames: ["QueueArn"] }),
      ),
    ).rejects.toThrow(/access.?denied|not authorized/i);
    insecure.destroy();
  });

  it("protects the sent-email table: deletion protection, point-in-time recovery, TTL", async (context) => {
    if (!outputs?.sentEmailsTableName) context.skip();
    const dynamodb = new DynamoDBClient({ region: location.region });
    const TableName = outputs?.sentEmailsTableName ?? "";
    const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName }));
    expect(Table?.DeletionProtectionEnabled).toBe(true);
    const backups = await dynamodb.send(new DescribeContinuousBackupsCommand({ TableName }));
    expect(
      backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
    ).toBe("ENABLED");
    const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName }));
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toMatch(/ENABL/);
    dynamodb.destroy();
  });

  it("turns one produced registration into one welcome email", async () => {
    const email = `smoke+${randomUUID()}@example.com`;
    const produced = await runCli("produce", [...queueArgs(), "--nome", "Smoke Test", "--email", email], {
      env,
    });
    expect(produced.code, produced.stderr).toBe(0);
    const outbox = mkdtempSync(join(tmpdir(), "aws-smoke-outbox-"));
    const consumed = await runCli("consume", [...queueArgs(), "--until-empty", "--outbox", outbox], { env });
    expect(consumed.code, consumed.stderr).toBe(0);
    const emails = readdirSync(outbox)
      .filter((name) => name.endsWith(".eml"))
      .map((name) => readFileSync(join(outbox, name), "utf8"))
      .filter((text) => text.includes(email));
    expect(emails).toHaveLength(1);
  }, 300_000);

  it("moves a body that is not a registration to the dead-letter queue", async () => {
    const marker = `smoke-${randomUUID()}`;
    await sqs.send(
      new SendMessageCommand({ QueueUrl: location.queueUrl, MessageBody: JSON.stringify({ marker }) }),
    );
    const consumed = await runCli(
      "consume",
      [...queueArgs(), "--until-empty", "--outbox", mkdtempSync(join(tmpdir(), "aws-smoke-"))],
      {
        env,
      },
    );
    expect(consumed.code, consumed.stderr).toBe(0);
    const deadline = Date.now() + 60_000;
    let found = false;
    while (!found && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: location.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 5,
          VisibilityTimeout: 30,
          MessageAttributeNames: ["All"],
        }),
      );
      for (const message of Messages) {
        if (!message.Body?.includes(marker)) continue;
        found = true;
        await sqs.send(
          new DeleteMessageCommand({
            QueueUrl: location.deadLetterQueueUrl,
            ReceiptHandle: message.ReceiptHandle,
          }),
        );
      }
    }
    expect(found, "the invalid body in the dead-letter queue").toBe(true);
  }, 300_000);
});
