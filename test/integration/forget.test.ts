/**
 * `npm run forget` on the local stack, with the SQLite store and with the stack's DynamoDB table:
 * a person's registrations go through a real consumer (outbox files, journal, store), more of them
 * wait in the queue and the dead-letter queue, SES events about them in the bounce queue and its
 * dead-letter queue, unfinished temporary files in the outbox, and records and suppression entries
 * of before the case fold in the store. The CLI is given only the address (in another case), and
 * afterwards nothing of the person is left: counted from every queue, every file of the state
 * folder and every item of the table; another person's messages, email and records are untouched.
 * Then a consume run finds nothing that puts the suppression entry back.
 *
 * The emulators run in memory here: fauxqs keeps deleted bodies in its SQLite WAL and dynalite in
 * its LevelDB log, which forget does not promise to clean (docs/personal-data.md).
 */
import { mkdtemp, readdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acceptedDir, outboxDir, sentStorePath } from "../../src/config/paths.js";
import { ACCEPTED_SENDS_FILE, AcceptedSends } from "../../src/consumer/accepted-sends.js";
import { isAddressSuppressed } from "../../src/consumer/mail/suppression.js";
import {
  buildRegistrationConsumer,
  openSentEmailStore,
  openSuppressionList,
  type StoreChoice,
} from "../../src/consumer/registrations.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { addressDigest, registrationDigest } from "../../src/contract/digest.js";
import { writeOutputs } from "../../src/local/stack.js";
import { changeVisibility } from "../../src/ops/queues.js";
import { acceptedOnDisk } from "../support/accepted-on-disk.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { runConsumeApp } from "../support/consume-app.js";
import { testDigestKey } from "../support/digest-key.js";
import { receiveAll, startTestSqs, type TestSqs } from "../support/local-sqs.js";

// A non-ASCII name: the outbox writes it as RFC 2047 encoded words, which forget must read back.
const maria = { nome: "Maria Conceição", email: "maria.c@example.com", id: "reg_forget_maria_1" };
const ana = { nome: "Ana Souza", email: "ana@example.com", id: "reg_forget_ana_1" };
/** How she typed it once, before the case fold: the spelling legacy records are keyed by. */
const legacySpelling = "Maria.C@example.com";

/** The digests written before the fold (the local part's case kept): the stored format to honour. */
const legacyRegistrationDigest = (nome: string, email: string) =>
  testDigestKey.hmac(["registration-digest/v1", nome, email]);
const legacyAddressDigest = (email: string) => testDigestKey.hmac(["address-digest/v1", email]);

/** An SES event as SNS delivers it to SQS: the event JSON, quoting the email's headers, in `Message`. */
function sesBounce(address: string, to: string): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "0f8d3c9e-1b2a-4c5d-8e9f-000000000001",
    TopicArn: "arn:aws:sns:us-east-1:123456789012:user-registrations-welcome-events",
    Message: JSON.stringify({
      eventType: "Bounce",
      bounce: {
        bounceType: "Permanent",
        bounceSubType: "General",
        bouncedRecipients: [{ emailAddress: address, action: "failed", status: "5.1.1" }],
      },
      mail: { messageId: "ses-0001", destination: [address], commonHeaders: { to: [to] } },
    }),
  });
}

/** Every file under `dir`, with its bytes. */
async function filesUnder(dir: string): Promise<{ path: string; bytes: Buffer }[]> {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else out.push({ path, bytes: await readFile(path) });
  }
  return out;
}

/** Traces of a person: the address in any case, the name (UTF-8 and Q-encoded), their digests. */
function tracesOf(person: { nome: string; email: string }, spellings: readonly string[]): string[] {
  return [
    person.email.toLowerCase(),
    Buffer.from(person.nome.toLowerCase(), "utf8").toString("latin1"),
    person.nome.split(" ")[0]?.toLowerCase() === "maria" ? "concei=c3=a7" : person.nome.toLowerCase(),
    registrationDigest(person, testDigestKey),
    addressDigest(person.email, testDigestKey),
    ...spellings.flatMap((email) => [
      legacyRegistrationDigest(person.nome, email),
      legacyAddressDigest(email),
    ]),
  ];
}

/** Which traces appear in a text (compared lower-cased, bytes read as latin1). */
function found(haystack: string, traces: readonly string[]): string[] {
  const text = haystack.toLowerCase();
  return traces.filter((trace) => text.includes(trace.toLowerCase()));
}

const env = () => cleanEnv({ REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789" });

describe.each([
  ["SQLite", false],
  ["DynamoDB", true],
] as const)("npm run forget, store on %s", (_, dynamoDb) => {
  let sqs: TestSqs;
  let stateDir: string;
  let choice: StoreChoice;
  let bounceQueueUrl: string;
  let bounceDeadLetterQueueUrl: string;

  beforeAll(async () => {
    sqs = await startTestSqs({}, { dynamoDb });
    stateDir = await mkdtemp(join(tmpdir(), "forget-state-"));
    await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
    const outputs = sqs.stack.outputs;
    choice = dynamoDb
      ? { kind: "dynamodb", tableName: outputs.sentEmailsTableName ?? "", endpoint: outputs.dynamoDbEndpoint }
      : { kind: "sqlite", path: sentStorePath(stateDir) };
    bounceQueueUrl = outputs.bounceQueueUrl ?? "";
    bounceDeadLetterQueueUrl = `${bounceQueueUrl}-dlq`;
    expect(bounceQueueUrl).not.toBe("");
  });
  afterAll(() => sqs?.close());

  const send = (queueUrl: string, body: string) =>
    sqs.client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));

  it("leaves no trace of the person in any queue, file of the state folder or store item", async () => {
    // Both mailed through a real consumer: outbox, journal, store.
    await send(sqs.queueUrl, JSON.stringify(maria));
    await send(sqs.queueUrl, JSON.stringify(ana));
    const built = await buildRegistrationConsumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      store: choice,
      outboxDir: outboxDir(stateDir),
      digestKey: testDigestKey,
      consumer: { concurrency: 1, waitTimeSeconds: 0, stopWhenEmpty: true },
    });
    await built.consumer.start();
    expect(await built.consumer.finished).toMatchObject({ processed: 2, deadLettered: 0 });
    await built.close();

    // Written before the case fold: a sent record and a suppression entry under her old spelling.
    const store = await openSentEmailStore(choice, 1_000);
    const legacy = await store.claim(
      "reg_forget_maria_legacy",
      legacyRegistrationDigest(maria.nome, legacySpelling),
    );
    if (legacy.outcome !== "claimed") throw new Error(`legacy claim: ${legacy.outcome}`);
    await store.markSent(legacy.claim);
    await store.close();
    const suppression = openSuppressionList(choice);
    await suppression.suppress(legacyAddressDigest(legacySpelling), "bounce");
    await suppression.suppress(addressDigest(maria.email, testDigestKey), "complaint");
    await suppression.suppress(addressDigest(ana.email, testDigestKey), "complaint");
    await suppression.close?.();

    // Still queued: a second registration of hers, a poison message quoting her address, an SES
    // bounce about her (and one about Ana), an unreadable event quoting her address.
    await send(sqs.queueUrl, JSON.stringify({ ...maria, id: "reg_forget_maria_2" }));
    await send(sqs.queueUrl, JSON.stringify({ ...ana, id: "reg_forget_ana_2" }));
    await send(sqs.deadLetterQueueUrl, `not json, but from ${maria.email.toUpperCase()}`);
    await send(sqs.deadLetterQueueUrl, JSON.stringify({ ...ana, id: "reg_forget_ana_3" }));
    await send(bounceQueueUrl, sesBounce("Maria.C@Example.com", `"${maria.nome}" <${maria.email}>`));
    await send(bounceQueueUrl, sesBounce(ana.email, `${ana.nome} <${ana.email}>`));
    await send(bounceDeadLetterQueueUrl, `not an event: ${maria.email.replace("example", "EXAMPLE")}`);

    // Writers killed between the write and the rename: hers (cut after To:), one cut before any
    // To: (no one's), and Ana's whole one, which is not hers to remove.
    const outbox = outboxDir(stateDir);
    await writeFile(
      join(outbox, "reg_forget_maria_3.eml.4242.0a1b2c3d.tmp"),
      `Content-Type: text/plain\nFrom: Cadastro <no-reply@example.com>\nTo: =?UTF-8?Q?Maria_Concei=C3=A7=C3=A3o?= <${maria.email}>\nSubj`,
    );
    await writeFile(join(outbox, "reg_forget_cut.eml.4242.deadbeef.tmp"), "Content-Type: text/pl");
    const anaTemporary = "reg_forget_ana_4.eml.4242.0badf00d.tmp";
    await writeFile(
      join(outbox, anaTemporary),
      `From: Cadastro <no-reply@example.com>\nTo: ${ana.nome} <${ana.email}>\nSubject: Bem-vindo(a)\n\nOlá\n`,
    );

    // Accepted sends whose record a store outage kept unwritten (row S9): hers under today's
    // digest and the legacy one, a write of hers cut before its rename, and Ana's.
    const accepted = new AcceptedSends(acceptedDir(stateDir));
    const fact = { owner: "owner-of-a-claim", leaseUntil: Date.now() + 35_000 };
    accepted.add(
      { ...fact, id: "reg_forget_maria_4", digest: registrationDigest(maria, testDigestKey) },
      Date.now(),
    );
    accepted.add(
      { ...fact, id: "reg_forget_maria_5", digest: legacyRegistrationDigest(maria.nome, legacySpelling) },
      Date.now(),
    );
    accepted.add(
      { ...fact, id: "reg_forget_ana_5", digest: registrationDigest(ana, testDigestKey) },
      Date.now(),
    );
    await writeFile(
      join(acceptedDir(stateDir), "reg_forget_maria_6.json.4242.tmp"),
      `{"id":"reg_forget_maria_6","digest":"${registrationDigest(maria, testDigestKey)}","own`,
    );

    const spellings = [legacySpelling, "Maria.C@Example.com", maria.email.toUpperCase()];
    const mine = tracesOf(maria, spellings);
    const anas = tracesOf(ana, []);
    // Before: the traces are where this test looks for them (the search can find them).
    const before = await filesUnder(stateDir);
    expect(found(before.map((f) => f.bytes.toString("latin1")).join("\n"), mine)).toContain(maria.email);
    // The file search would catch a fact left behind: the folder holds both of her digests.
    const acceptedBytes = before
      .filter((f) => f.path.startsWith(acceptedDir(stateDir)))
      .map((f) => f.bytes.toString("latin1"))
      .join("\n");
    expect(acceptedBytes).toContain(registrationDigest(maria, testDigestKey));
    expect(acceptedBytes).toContain(legacyRegistrationDigest(maria.nome, legacySpelling));

    const result = await runCli(
      "forget",
      ["--email", "Maria.C@Example.com", "--state-dir", stateDir, "--wait-time", "0", "--json"],
      { env: env() },
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      digests: 1,
      storeRecords: 2, // the record of today's digest and the legacy one
      suppressions: 2, // today's entry and the legacy one
      outboxFiles: 1,
      outboxTemporaryFiles: 2,
      journalLines: 1,
      acceptedSends: 3, // two facts (today's digest and the legacy one) and a cut-off write
      queueMessages: 1,
      deadLetterMessages: 1,
      bounceQueueMessages: 1,
      bounceDeadLetterMessages: 1,
      notRestored: 0,
    });
    expect(result.stdout.toLowerCase()).not.toContain("maria");

    // Every queue: nothing of hers; Ana's messages handed back.
    const queues = {
      main: await receiveAll(sqs.client, sqs.queueUrl),
      dead: await receiveAll(sqs.client, sqs.deadLetterQueueUrl),
      bounce: await receiveAll(sqs.client, bounceQueueUrl),
      bounceDead: await receiveAll(sqs.client, bounceDeadLetterQueueUrl),
    };
    for (const messages of Object.values(queues)) {
      expect(found(messages.map((m) => m.Body ?? "").join("\n"), mine)).toEqual([]);
    }
    expect(queues.main.map((m) => JSON.parse(m.Body ?? "").id)).toEqual(["reg_forget_ana_2"]);
    expect(queues.dead.map((m) => JSON.parse(m.Body ?? "").id)).toEqual(["reg_forget_ana_3"]);
    expect(queues.bounce).toHaveLength(1);
    expect(queues.bounce[0]?.Body).toContain(ana.email);
    expect(queues.bounceDead).toEqual([]);

    // Every file of the state folder, bytes and all (the SQLite files, their WAL too).
    const files = await filesUnder(stateDir);
    for (const file of files) {
      expect(found(file.bytes.toString("latin1"), mine), file.path).toEqual([]);
    }
    const names = await readdir(outbox);
    expect(names.sort()).toEqual([anaTemporary, `${ana.id}.eml`, "sent.log"].sort());
    expect(await readFile(join(outbox, "sent.log"), "utf8")).toContain(ana.id);
    expect(await acceptedOnDisk(acceptedDir(stateDir))).toEqual(["reg_forget_ana_5"]);
    expect((await readdir(acceptedDir(stateDir))).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    // Ana's traces are still where they were (her email, her store record and entry).
    const everything = files.map((f) => f.bytes.toString("latin1")).join("\n");
    expect(found(everything, anas)).toContain(ana.email);
    if (!dynamoDb) {
      expect(found(everything, anas)).toContain(registrationDigest(ana, testDigestKey));
      expect(found(everything, anas)).toContain(addressDigest(ana.email, testDigestKey));
    }

    // Every item of the table.
    if (dynamoDb) {
      const client = createDynamoDbClient({ endpoint: sqs.stack.outputs.dynamoDbEndpoint ?? "" });
      try {
        const { Items = [] } = await client.send(
          new ScanCommand({ TableName: sqs.stack.outputs.sentEmailsTableName ?? "", ConsistentRead: true }),
        );
        expect(found(JSON.stringify(Items), mine)).toEqual([]);
        expect(found(JSON.stringify(Items), anas)).toEqual(
          expect.arrayContaining([
            registrationDigest(ana, testDigestKey),
            addressDigest(ana.email, testDigestKey),
          ]),
        );
        // No SQLite file beside it but the accepted sends': the table was the store forget used.
        const sqliteFiles = files.map((f) => f.path).filter((p) => p.endsWith(".sqlite"));
        expect(sqliteFiles).toEqual([join(acceptedDir(stateDir), ACCEPTED_SENDS_FILE)]);
      } finally {
        client.destroy();
      }
    }

    // The next consume (the bounce consumer beside it) finds no event that puts her entry back.
    for (const [url, messages] of [
      [sqs.queueUrl, queues.main],
      [sqs.deadLetterQueueUrl, queues.dead],
      [bounceQueueUrl, queues.bounce],
    ] as const) {
      const handles = messages.map((m) => m.ReceiptHandle ?? "");
      expect(await changeVisibility(sqs.client, url, handles, 0)).toBe(0);
    }
    const run = await runConsumeApp(["--until-empty", "--json", "--state-dir", stateDir], { env: env() });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      processed: 1, // Ana's second registration (suppressed: her complaint)
      bounceQueue: { processed: 1, addressesSuppressed: 1 },
    });
    const list = openSuppressionList(choice);
    expect(await isAddressSuppressed(list, "Maria.C@Example.com", testDigestKey)).toBe(false);
    expect(await isAddressSuppressed(list, ana.email, testDigestKey)).toBe(true);
    await list.close?.();
  }, 90_000);

  it("the consumer removes outbox temporary files older than the send timeout when it starts", async () => {
    const outbox = outboxDir(stateDir);
    const stale = join(outbox, "reg_stale.eml.999.00aa11bb.tmp");
    const fresh = join(outbox, "reg_fresh.eml.999.22cc33dd.tmp");
    await writeFile(stale, `To: Someone <someone@example.com>\n`);
    await writeFile(fresh, `To: Someone <someone@example.com>\n`);
    const sendTimeoutMs = 5_000;
    const old = new Date(Date.now() - 2 * sendTimeoutMs);
    await utimes(stale, old, old);
    const built = await buildRegistrationConsumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      store: choice,
      outboxDir: outbox,
      digestKey: testDigestKey,
      sendTimeoutMs,
      consumer: { concurrency: 1, waitTimeSeconds: 0, stopWhenEmpty: true },
    });
    await built.close();
    await expect(stat(stale)).rejects.toMatchObject({ code: "ENOENT" });
    expect((await stat(fresh)).isFile()).toBe(true);
  });
});

describe("npm run forget on a queue given by URL (an ECS task's environment)", () => {
  it("chooses the store as consume does: the table SENT_EMAILS_TABLE_NAME names, not a local file", async () => {
    const sqs = await startTestSqs();
    try {
      const stateDir = await mkdtemp(join(tmpdir(), "forget-task-"));
      const taskEnv = cleanEnv({
        REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789",
        SENT_EMAILS_TABLE_NAME: "user-registrations-sent-emails",
      });
      const args = ["--queue-url", sqs.queueUrl, "--state-dir", stateDir, "--store", "sqlite"];
      // A local SQLite file is not the store of a fleet whose task names a table: both refuse it,
      // with the same sentence, rather than forget erasing from a store no consumer reads.
      const consume = await runConsumeApp([...args, "--until-empty"], { env: taskEnv });
      const forget = await runCli("forget", [...args, "--email", maria.email, "--wait-time", "0"], {
        env: taskEnv,
      });
      expect(consume.code).toBe(2);
      expect(forget.code).toBe(2);
      expect(forget.stderr).toContain('shared sent-email table ("user-registrations-sent-emails")');
      expect(forget.stderr).toBe(consume.stderr);
      expect(await readdir(stateDir)).not.toContain("sent-emails.sqlite");
    } finally {
      await sqs.close();
    }
  }, 60_000);
});
