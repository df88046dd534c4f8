/**
 * `npm run forget` on the local stack: a person's registrations go through a real consumer (outbox
 * files, journal, SQLite store), more of them wait in the queue and the dead-letter queue; the CLI
 * is given only the address, and afterwards nothing of the person is left anywhere, while another
 * person's messages, email and record are untouched.
 */
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxDir, sentStorePath, suppressionListPath } from "../../src/config/paths.js";
import { Consumer } from "../../src/consumer/consumer.js";
import { SqliteSuppressionList } from "../../src/consumer/mail/suppression.js";
import { registrationHandler } from "../../src/consumer/registration-handler.js";
import { buildRegistrationConsumer } from "../../src/consumer/registrations.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import { OutboxMailer } from "../../src/consumer/welcome-email.js";
import { addressDigest, registrationDigest } from "../../src/contract/digest.js";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { testDigestKey } from "../support/digest-key.js";
import { receiveAll, startTestSqs, type TestSqs } from "../support/local-sqs.js";
import { contractTiming } from "../support/store-contract.js";

let sqs: TestSqs;
let stateDir: string;

beforeAll(async () => {
  sqs = await startTestSqs();
  stateDir = await mkdtemp(join(tmpdir(), "forget-state-"));
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
});
afterAll(() => sqs.close());

// A non-ASCII name: the outbox writes it as RFC 2047 encoded words, which forget must read back.
const maria = { nome: "Maria Conceição", email: "maria.c@example.com", id: "reg_forget_maria_1" };
const ana = { nome: "Ana Souza", email: "ana@example.com", id: "reg_forget_ana_1" };

async function send(queueUrl: string, body: string) {
  await sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
}

describe("npm run forget", () => {
  it("leaves no trace of the person in the queues, outbox, journal and store; others untouched", async () => {
    await send(sqs.queueUrl, JSON.stringify(maria));
    await send(sqs.queueUrl, JSON.stringify(ana));
    const store = new SqliteSentEmailStore(sentStorePath(stateDir), contractTiming);
    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      handler: registrationHandler(new OutboxMailer({ outboxDir: outboxDir(stateDir) }), {
        digestKey: testDigestKey,
        store,
      }),
      concurrency: 1,
      waitTimeSeconds: 0,
      stopWhenEmpty: true,
    });
    await consumer.start();
    expect(await consumer.finished).toMatchObject({ processed: 2, deadLettered: 0 });
    await store.close();

    // Still queued: a second registration of hers, and a poison message quoting her address.
    await send(sqs.queueUrl, JSON.stringify({ ...maria, id: "reg_forget_maria_2" }));
    await send(sqs.queueUrl, JSON.stringify({ ...ana, id: "reg_forget_ana_2" }));
    await send(sqs.deadLetterQueueUrl, `not json, but from ${maria.email.toUpperCase()}`);
    await send(sqs.deadLetterQueueUrl, JSON.stringify({ ...ana, id: "reg_forget_ana_3" }));

    // Her address bounced once: the suppression list holds its digest, and forgets it too.
    const suppression = new SqliteSuppressionList(suppressionListPath(stateDir));
    await suppression.suppress(addressDigest(maria.email, testDigestKey), "bounce");
    await suppression.suppress(addressDigest(ana.email, testDigestKey), "complaint");
    suppression.close();

    const env = cleanEnv({ REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789" });
    const result = await runCli(
      "forget",
      ["--email", "Maria.C@Example.com", "--state-dir", stateDir, "--wait-time", "0", "--json"],
      { env },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      digests: 1,
      storeRecords: 1,
      suppressions: 1,
      outboxFiles: 1,
      journalLines: 1,
      queueMessages: 1,
      deadLetterMessages: 1,
      notRestored: 0,
    });
    expect(result.stdout.toLowerCase()).not.toContain("maria");

    // The outbox and its journal: Ana's only.
    const files = await readdir(outboxDir(stateDir));
    expect(files.filter((f) => f.endsWith(".eml"))).toEqual([`${ana.id}.eml`]);
    const journal = await readFile(join(outboxDir(stateDir), "sent.log"), "utf8");
    expect(journal).toContain(ana.id);
    expect(journal).not.toContain("maria");
    // The store: her id is free (absent), Ana's is still sent.
    const after = new SqliteSentEmailStore(sentStorePath(stateDir), contractTiming);
    expect((await after.claim(maria.id, registrationDigest(maria, testDigestKey))).outcome).toBe("claimed");
    expect(await after.claim(ana.id, registrationDigest(ana, testDigestKey))).toEqual({
      outcome: "already-sent",
    });
    await after.close();
    const list = new SqliteSuppressionList(suppressionListPath(stateDir));
    expect(await list.isSuppressed(addressDigest(maria.email, testDigestKey))).toBe(false);
    expect(await list.isSuppressed(addressDigest(ana.email, testDigestKey))).toBe(true);
    list.close();
    // The queues: Ana's messages, handed back; nothing of Maria.
    const queued = await receiveAll(sqs.client, sqs.queueUrl);
    const dead = await receiveAll(sqs.client, sqs.deadLetterQueueUrl);
    expect(queued.map((m) => JSON.parse(m.Body ?? "").id)).toEqual(["reg_forget_ana_2"]);
    expect(dead.map((m) => JSON.parse(m.Body ?? "").id)).toEqual(["reg_forget_ana_3"]);
  });
});

describe("npm run forget on a stack with the shared DynamoDB table", () => {
  it("erases the person's record from the table the consumer used, and only theirs", async () => {
    const fleet = await startTestSqs({}, { dynamoDb: true });
    const dynamo = createDynamoDbClient({ endpoint: fleet.stack.outputs.dynamoDbEndpoint ?? "" });
    try {
      const fleetState = await mkdtemp(join(tmpdir(), "forget-fleet-"));
      await writeOutputs(join(fleetState, "outputs.json"), fleet.stack.outputs);
      const table = fleet.stack.outputs.sentEmailsTableName ?? "";
      expect(table).not.toBe("");
      await fleet.client.send(
        new SendMessageCommand({ QueueUrl: fleet.queueUrl, MessageBody: JSON.stringify(maria) }),
      );
      await fleet.client.send(
        new SendMessageCommand({ QueueUrl: fleet.queueUrl, MessageBody: JSON.stringify(ana) }),
      );
      const built = await buildRegistrationConsumer({
        client: fleet.client,
        queueUrl: fleet.queueUrl,
        deadLetterQueueUrl: fleet.deadLetterQueueUrl,
        store: { kind: "dynamodb", tableName: table, endpoint: fleet.stack.outputs.dynamoDbEndpoint },
        outboxDir: outboxDir(fleetState),
        digestKey: testDigestKey,
        consumer: { concurrency: 1, waitTimeSeconds: 0, stopWhenEmpty: true },
      });
      await built.consumer.start();
      expect(await built.consumer.finished).toMatchObject({ processed: 2, deadLettered: 0 });
      await built.close();
      const record = async (id: string) =>
        (
          await dynamo.send(
            new GetItemCommand({ TableName: table, Key: { id: { S: id } }, ConsistentRead: true }),
          )
        ).Item;
      expect((await record(maria.id))?.state?.S).toBe("sent");

      const env = cleanEnv({ REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789" });
      const result = await runCli(
        "forget",
        ["--email", maria.email, "--state-dir", fleetState, "--wait-time", "0", "--json"],
        { env },
      );
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({ digests: 1, storeRecords: 1, outboxFiles: 1 });
      // Counted from the table itself: her record is gone, Ana's is still sent.
      expect(await record(maria.id)).toBeUndefined();
      expect((await record(ana.id))?.state?.S).toBe("sent");
      // No SQLite file was created beside it: the table was the store.
      expect(await readdir(fleetState)).not.toContain("sent-emails.sqlite");
    } finally {
      dynamo.destroy();
      await fleet.close();
    }
  });
});
