/**
 * Bounces end to end through the consume CLI on the local stack: the stack's
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
import { outboxDir, sentStorePath, suppressionListPath } from "../../src/config/paths.js";
import { SqliteSuppressionList } from "../../src/consumer/mail/suppression.js";
import { DynamoDbSuppressionList } from "../../src/consumer/mail/suppression-dynamodb.js";
import {
  openSentEmailStore,
  openSuppressionList,
  type StoreChoice,
} from "../../src/consumer/registrations.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { addressDigest } from "../../src/contract/digest.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv } from "../support/cli.js";
import { runConsumeApp } from "../support/consume-app.js";
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
    const run = await runConsumeApp(["--until-empty", "--json", "--state-dir", stateDir], { env: env() });
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

  it("a bounce or a complaint for one capitalisation suppresses every capitalisation", async () => {
    const complaint = (address: string) => ({
      eventType: "Complaint",
      complaint: { complainedRecipients: [{ emailAddress: address }], timestamp: new Date().toISOString() },
      mail: { messageId: "ses-0002", destination: [address] },
    });
    for (const event of [bounce("Case.Test@Example.com", "Permanent"), complaint("complain@example.com")]) {
      await sqs.client.send(new SendMessageCommand({ QueueUrl: bounceQueueUrl, MessageBody: viaSns(event) }));
    }
    const first = await consume();
    expect(first.bounceQueue).toMatchObject({ processed: 2, addressesSuppressed: 2, deadLettered: 0 });
    const spellings = {
      reg_case_1: "case.test@example.com",
      reg_case_2: "CASE.TEST@EXAMPLE.COM",
      reg_case_3: "Complain@example.com",
      reg_case_4: "COMPLAIN@Example.com",
    };
    for (const [id, email] of Object.entries(spellings)) await register(id, email);
    const second = await consume();
    expect(second).toMatchObject({ suppressed: 4, emailsSent: 0, deadLettered: 0 });
    // Counted at the outbox and the queues: none of them was mailed, nothing is left.
    const written = await emails().catch(() => []);
    for (const id of Object.keys(spellings)) expect(written).not.toContain(`${id}.eml`);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  }, 60_000);

  it("an entry and a sent record written before the case fold (legacy digests) still count", async () => {
    const outputs = sqs.stack.outputs;
    const choice: StoreChoice = dynamoDb
      ? { kind: "dynamodb", tableName: outputs.sentEmailsTableName ?? "", endpoint: outputs.dynamoDbEndpoint }
      : { kind: "sqlite", path: sentStorePath(stateDir) };
    // The stored format of before the fold (the local part's case kept), written out on purpose.
    const list = openSuppressionList(choice);
    await list.suppress(testDigestKey.hmac(["address-digest/v1", "Legacy.Bounce@example.com"]), "bounce");
    await list.close?.();
    const store = await openSentEmailStore(choice, 1_000);
    const claimed = await store.claim(
      "reg_legacy_sent",
      testDigestKey.hmac(["registration-digest/v1", "Bea Bounce", "Lia.Legacy@example.com"]),
    );
    if (claimed.outcome !== "claimed") throw new Error(`seeding the legacy record: ${claimed.outcome}`);
    await store.markSent(claimed.claim);
    await store.close();

    await register("reg_legacy_bounce", "Legacy.Bounce@Example.com");
    await register("reg_legacy_sent", "Lia.Legacy@example.com");
    const run = await consume();
    // Suppressed, and a duplicate of what was sent: no email, no id-conflict in the dead-letter queue.
    expect(run).toMatchObject({ suppressed: 1, duplicatesSkipped: 1, idConflicts: 0, emailsSent: 0 });
    const written = await emails().catch(() => []);
    expect(written).not.toContain("reg_legacy_bounce.eml");
    expect(written).not.toContain("reg_legacy_sent.eml");
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
      const run = await runConsumeApp(["--until-empty", "--state-dir", stateDir], { env: env() });
      expect(run.code).not.toBe(0);
      expect(run.stderr).toContain("user-registrations-ses-events-gone");
    } finally {
      await sqs.close();
    }
  }, 60_000);
});
