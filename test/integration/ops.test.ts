/**
 * status and dlq on the local stack: the CLIs as a user runs them (child processes) against a
 * fauxqs in this process, and the redrive library with a client whose deletes fail.
 *
 * fauxqs's counts go stale after a visibility timeout expires (until the next receive). No
 * visibility timeout expires in these tests: list and redrive hand messages back explicitly
 * (visibility 0) and everything else is deleted, so the counts asserted here are exact.
 */
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PoisonMessageError } from "../../src/consumer/errors.js";
import { OutboxMailer } from "../../src/consumer/mail/outbox.js";
import { registrationHandler } from "../../src/consumer/registration-handler.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import { DEAD_LETTER_ATTRIBUTES } from "../../src/contract/dead-letter.js";
import { writeOutputs } from "../../src/local/stack.js";
import { redrive } from "../../src/ops/redrive.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { runCli } from "../support/cli.js";
import { testDigestKey } from "../support/digest-key.js";
import { purge, queueDepth, startTestSqs, type TestSqs } from "../support/local-sqs.js";
import { contractTiming } from "../support/store-contract.js";

let sqs: TestSqs;
let stateDir: string;

beforeAll(async () => {
  sqs = await startTestSqs();
  stateDir = await mkdtemp(join(tmpdir(), "ops-state-"));
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
});
afterAll(() => sqs.close());
beforeEach(() => purge(sqs.client, sqs.queueUrl, sqs.deadLetterQueueUrl));

const withState = (...args: string[]) => [...args, "--state-dir", stateDir, "--wait-time", "0"];
const statusArgs = (...args: string[]) => [...args, "--state-dir", stateDir];

const registration = { nome: "Maria Silva", email: "maria@example.com", id: "reg_ops_1" };

/**
 * Runs a consumer with `handler` until the queue is empty. One handler at a time: two copies of a
 * registration handled at once would see each other's claim in progress and be handed back for
 * the rest of the lease, which a drain does not wait for.
 */
async function consume(handler: ConstructorParameters<typeof Consumer>[0]["handler"]) {
  const consumer = new Consumer({
    client: sqs.client,
    queueUrl: sqs.queueUrl,
    deadLetterQueueUrl: sqs.deadLetterQueueUrl,
    handler,
    concurrency: 1,
    waitTimeSeconds: 0,
    stopWhenEmpty: true,
  });
  await consumer.start();
  return consumer.finished;
}

async function send(body: string) {
  await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: body }));
}

describe("a poison message, end to end", () => {
  it("lands in the DLQ, is listed with its reason, redriven to a fixed consumer, and status ends empty", async () => {
    // A bad deploy: the handler refuses a good registration as poison. And one real poison message.
    await send(JSON.stringify(registration));
    await send("hello maria@example.com");
    const broken = registrationHandler(new OutboxMailer({ outboxDir: join(stateDir, "unused") }), {
      digestKey: testDigestKey,
    });
    const badDeploy = await consume(async (message, context) => {
      if (message.Body?.startsWith("{"))
        throw new PoisonMessageError("bad-deploy", "handler v2 rejects every body");
      await broken(message, context);
    });
    expect(badDeploy.deadLettered).toBe(2);

    const before = await runCli("status", statusArgs("--json"));
    expect(before.code).toBe(3);
    expect(JSON.parse(before.stdout)).toMatchObject({
      queue: { visible: 0, inFlight: 0, delayed: 0, oldestMessageAgeSeconds: null },
      deadLetterQueue: { visible: 2, inFlight: 0, delayed: 0 },
      oldestMessageAgeSeconds: null,
      deadLetterQueueEmpty: false,
    });

    const listed = await runCli("dlq", withState("list", "--json"));
    expect(listed.code).toBe(0);
    const messages = JSON.parse(listed.stdout) as { id: string; reason: string; error: string }[];
    expect(messages.map((m) => m.reason).sort()).toEqual(["bad-deploy", "not-json"]);
    expect(listed.stdout).not.toContain("maria@");
    expect(listed.stdout).not.toContain("Maria");
    // Listing hands every message back.
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(2);

    const text = await runCli("dlq", withState("list"));
    expect(text.stdout).toContain("2 messages from");
    expect(text.stdout).toContain("a sample");
    expect(text.stdout).toContain("reason: not-json");
    expect(text.stdout).not.toContain("maria@");

    const good = messages.find((m) => m.reason === "bad-deploy");
    const shown = await runCli("dlq", withState("show", good?.id ?? "?"));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("nome: M.; email: m***@example.com; registration id: reg_ops_1");
    expect(shown.stdout).not.toContain("Maria Silva");

    const moved = await runCli("dlq", withState("redrive", "--reason", "bad-deploy", "--json"));
    expect(moved.code).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({ path: "client-side", moved: 1, failed: 0, skipped: 1 });

    // The fixed consumer: the registration handler as it is.
    const outbox = await mkdtemp(join(tmpdir(), "ops-outbox-"));
    const store = new SqliteSentEmailStore(join(outbox, "sent.sqlite"), contractTiming);
    const fixed = await consume(
      registrationHandler(new OutboxMailer({ outboxDir: outbox }), { digestKey: testDigestKey, store }),
    );
    await store.close();
    expect(fixed).toMatchObject({ processed: 1, deadLettered: 0 });
    expect((await readdir(outbox)).filter((f) => f.endsWith(".eml"))).toHaveLength(1);

    // The real poison message is purged after a look.
    const purged = await runCli("dlq", statusArgs("purge", "--yes"));
    expect(purged.code).toBe(0);

    const after = await runCli("status", statusArgs("--json"));
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)).toMatchObject({
      queue: { visible: 0, inFlight: 0, delayed: 0 },
      deadLetterQueue: { visible: 0, inFlight: 0, delayed: 0 },
      deadLetterQueueEmpty: true,
    });
  }, 180_000); // eight CLI runs, each a child process on a shared two-core machine
});

describe("dlq redrive on the emulator", () => {
  it("falls back to the client-side path (no StartMessageMoveTask) and says so", async () => {
    for (let i = 0; i < 3; i++) {
      await sqs.client.send(
        new SendMessageCommand({
          QueueUrl: sqs.deadLetterQueueUrl,
          MessageBody: JSON.stringify({ ...registration, id: `reg_${i}` }),
          MessageAttributes: {
            [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: "bad-deploy" },
            traceparent: {
              DataType: "String",
              StringValue: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            },
          },
        }),
      );
    }
    const dry = await runCli("dlq", withState("redrive", "--dry-run", "--json"));
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, wouldMove: 3, moved: 0 });
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(3);

    const result = await runCli("dlq", withState("redrive"));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "redrive via client-side (StartMessageMoveTask unsupported here (InvalidAction)): moved 3, failed 0",
    );
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
    const consumed: Record<string, unknown>[] = [];
    await consume(async (message) => {
      consumed.push(Object.fromEntries(Object.keys(message.MessageAttributes ?? {}).map((k) => [k, true])));
    });
    // The dead-letter attributes are gone, the others travel on.
    expect(consumed).toEqual([{ traceparent: true }, { traceparent: true }, { traceparent: true }]);
  }, 90_000);

  it("is safe to re-run after a crash between send and delete: the message is sent again, nothing lost", async () => {
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: sqs.deadLetterQueueUrl,
        MessageBody: JSON.stringify(registration),
        MessageAttributes: {
          [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: "bad-deploy" },
        },
      }),
    );
    // A client whose DeleteMessageBatch never reaches SQS: the crash after the send.
    const crashing = createSqsClient(sqs.stack.outputs);
    crashing.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "DeleteMessageBatchCommand") throw new Error("connection reset");
        return next(args);
      },
      { step: "initialize", name: "failDeletes" },
    );
    const queues = { queueUrl: sqs.queueUrl, deadLetterQueueUrl: sqs.deadLetterQueueUrl };
    const first = await redrive({ client: crashing, queues, ratePerSecond: 100, waitTimeSeconds: 0 });
    crashing.destroy();
    expect(first).toMatchObject({ moved: 0, failed: 1 });
    expect(first.failures[0]).toMatchObject({ stage: "delete", message: "connection reset" });
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(1);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(1);

    const second = await redrive({ client: sqs.client, queues, ratePerSecond: 100, waitTimeSeconds: 0 });
    expect(second).toMatchObject({ moved: 1, failed: 0 });
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(2);

    // Two copies, one email: the consumer's idempotency store skips the duplicate.
    const outbox = await mkdtemp(join(tmpdir(), "ops-rerun-"));
    const store = new SqliteSentEmailStore(join(outbox, "sent.sqlite"), contractTiming);
    const counts = { sent: 0, duplicates: 0, conflicts: 0 };
    const stats = await consume(
      registrationHandler(new OutboxMailer({ outboxDir: outbox }), {
        digestKey: testDigestKey,
        store,
        counts,
      }),
    );
    await store.close();
    expect(stats.processed).toBe(2);
    expect(counts).toEqual({ sent: 1, duplicates: 1, conflicts: 0 });
  });
});

describe("dlq and status refuse bad input", () => {
  it("purge without a terminal and without --yes refuses in one line naming --yes (exit 2)", async () => {
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.deadLetterQueueUrl, MessageBody: "x" }));
    const result = await runCli("dlq", statusArgs("purge"));
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("--yes");
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(1);
  });

  it.each([
    [["show", "no-such-id"], "No message no-such-id among the 0 messages", 1],
    // A usage error: exit 2, as for every command (docs/usage.md, "Exit codes").
    [["redrive", "--rate", "0"], "--rate must be a whole number from 1 to 500", 2],
  ])("dlq %j", async (args, message, code) => {
    const result = await runCli("dlq", withState(...args));
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(code);
  });

  it("status says the local SQS is not running when its endpoint does not answer", async () => {
    const result = await runCli("status", ["--queue-url", "http://127.0.0.1:9/000000000000/q"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Cannot reach the local SQS");
  });
});
