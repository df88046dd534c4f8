/**
 * Bounces end to end through the consume CLI on the local stack (issue 12, item 3): the stack's
 * bounce queue, SES events in SNS's envelope put on it, the bounce consumer beside the
 * registrations in the same process, the suppression list in the chosen store (SQLite, and the
 * DynamoDB table). Counted from the outbox and the queues, not from the code's counters.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxDir, suppressionListPath } from "../../src/config/paths.js";
import { SqliteSuppressionList } from "../../src/consumer/mail/suppression.js";
import { DynamoDbSuppressionList } from "../../src/consumer/mail/suppression-dynamodb.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { addressDigest } from "../../src/contract/digest.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, startTestSqs, type TestSqs } from "../support/local-sqs.js";

/** An SES event as SNS delivers it to SQS without raw delivery: the event JSON in `Message`. */
function viaSns(event: unknown): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "0f8d3c9e-1b2a-4c5d-8e9f-000000000001",
    TopicArn: "arn:aws:sns:us-east-1:123456789012:user-registrations-welcome-events",
    Message: JSON.stringify(event),
    Timestamp: new Date().toISOString(),
  });
}

const bounce = (address: string, bounceType: "Permanent" | "Transient") => ({
  eventType: "Bounce",
  bounce: {
    bounceType,
    bounceSubType: bounceType === "Permanent" ? "General" : "MailboxFull",
    bouncedRecipients: [{ emailAddress: address, action: "failed", status: "5.1.1" }],
    timestamp: new Date().toISOString(),
  },
  mail: { messageId: "ses-0001", destination: [address] },
});

// Info level: the bounce handler logs each suppression, and no log line may hold an address.
const env = () =>
  cleanEnv({ REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789", LOG_LEVEL: "info" });

describe.each([
  ["SQLite", false],
  ["DynamoDB", true],
] as const)("consume: the bounce queue beside the registrations, suppression list in %s", (_, dynamoDb) => {
  let sqs: TestSqs;
  let stateDir: string;
  let bounceQueueUrl: string;
  let lastLog = "";
  const consume = async () => {
    const run = await runCli("consume", ["--until-empty", "--json", "--state-dir", stateDir], { env: env() });
    expect(run.stderr + run.stdout).not.toMatch(/bounce@example\.com/i);
    lastLog = run.stderr;
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout);
  };
  const register = async (id: string, email: string) => {
    const body = toOutgoing({ id, nome: "Bea Bounce", email }, () => new Date(), testDigestKey);
    await sqs.client.send(
      new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: JSON.stringify(body) }),
    );
  };
  const emails = async () => (await readdir(outboxDir(stateDir))).filter((f) => f.endsWith(".eml"));

  beforeAll(async () => {
    sqs = await startTestSqs({}, { dynamoDb });
    bounceQueueUrl = sqs.stack.outputs.bounceQueueUrl ?? "";
    expect(bounceQueueUrl).toMatch(/user-registrations-ses-events$/);
    stateDir = await mkdtemp(join(tmpdir(), "bounce-cli-"));
    await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
  });
  afterAll(async () => {
    await sqs?.close();
  });

  it("a hard bounce suppresses the next registration for that address: no email, counted", async () => {
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: bounceQueueUrl,
        MessageBody: viaSns(bounce("hard.bounce@example.com", "Permanent")),
      }),
    );
    const first = await consume();
    expect(first.bounceQueue).toMatchObject({ processed: 1, addressesSuppressed: 1, deadLettered: 0 });
    expect(lastLog).toContain("suppressed addresses from an SES event"); // logged, without the address
    expect(await queueDepth(sqs.client, bounceQueueUrl)).toBe(0);
    // The list the chosen store implies holds the address's digest (and nothing else does).
    const digest = addressDigest("hard.bounce@example.com", testDigestKey);
    expect(first.store).toBe(dynamoDb ? "dynamodb" : "sqlite");
    if (dynamoDb) {
      const outputs = sqs.stack.outputs;
      const client = createDynamoDbClient({ endpoint: outputs.dynamoDbEndpoint ?? "" });
      const list = new DynamoDbSuppressionList({ client, tableName: outputs.sentEmailsTableName ?? "" });
      expect(await list.isSuppressed(digest)).toBe(true);
      client.destroy();
      expect(existsSync(suppressionListPath(stateDir))).toBe(false);
    } else {
      const list = new SqliteSuppressionList(suppressionListPath(stateDir));
      expect(await list.isSuppressed(digest)).toBe(true);
      list.close();
    }

    // The domain in another case: the digest normalises it, the suppression still holds.
    await register("reg_bounce_hard", "hard.bounce@EXAMPLE.com");
    const second = await consume();
    expect(second.suppressed).toBe(1);
    expect(second.emailsSent).toBe(0);
    expect(await emails().catch(() => [])).not.toContain("reg_bounce_hard.eml");
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  }, 60_000);

  it("a soft bounce suppresses nothing: the email is still sent", async () => {
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: bounceQueueUrl,
        MessageBody: viaSns(bounce("soft.bounce@example.com", "Transient")),
      }),
    );
    await register("reg_bounce_soft", "soft.bounce@example.com");
    // Both queues in one run: the event may be read before or after the registration, and
    // neither order suppresses.
    const run = await consume();
    expect(run.bounceQueue).toMatchObject({ processed: 1, addressesSuppressed: 0, ignored: 1 });
    expect(await emails()).toContain("reg_bounce_soft.eml");
    expect(await queueDepth(sqs.client, bounceQueueUrl)).toBe(0);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
  }, 60_000);

  it("an unreadable event goes to the bounce queue's own dead-letter queue, not the registrations'", async () => {
    await sqs.client.send(new SendMessageCommand({ QueueUrl: bounceQueueUrl, MessageBody: "not an event" }));
    const run = await consume();
    expect(run.bounceQueue).toMatchObject({ deadLettered: 1 });
    expect(await queueDepth(sqs.client, `${bounceQueueUrl}-dlq`)).toBe(1);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  }, 60_000);
});

describe("consume: a bounce queue named by the outputs but missing", () => {
  it("fails the run with the bounce queue named, before any registration is taken", async () => {
    const sqs = await startTestSqs();
    try {
      const stateDir = await mkdtemp(join(tmpdir(), "bounce-cli-missing-"));
      const missing = `${sqs.stack.outputs.bounceQueueUrl ?? ""}-gone`;
      await writeOutputs(join(stateDir, "outputs.json"), { ...sqs.stack.outputs, bounceQueueUrl: missing });
      const run = await runCli("consume", ["--until-empty", "--state-dir", stateDir], { env: env() });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain("user-registrations-ses-events-gone");
    } finally {
      await sqs.close();
    }
  }, 60_000);
});
