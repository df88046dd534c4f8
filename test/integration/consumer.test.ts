import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CreateQueueCommand,
  type Message,
  SendMessageBatchCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { RetryAfterError } from "../../src/consumer/errors.js";
import { JOURNAL, OutboxMailer } from "../../src/consumer/mail/outbox.js";
import { registrationHandler } from "../../src/consumer/registration-handler.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import type { ConsumerOptions } from "../../src/consumer/runtime/types.js";
import { DEAD_LETTER_ATTRIBUTES } from "../../src/contract/dead-letter.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { SqsAccessError } from "../../src/errors.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { countRequests } from "../../src/sqs/request-counter.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, receiveAll, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";

let sqs: TestSqs | undefined;
const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
  await sqs?.close();
  sqs = undefined;
});

function consumer(
  s: TestSqs,
  options: Partial<ConsumerOptions> & Pick<ConsumerOptions, "handler">,
): Consumer {
  const c = new Consumer({
    client: s.client,
    queueUrl: s.queueUrl,
    deadLetterQueueUrl: s.deadLetterQueueUrl,
    waitTimeSeconds: 1,
    ...options,
  });
  consumers.push(c);
  return c;
}

async function produce(s: TestSqs, count: number) {
  const registrations = (await generateRegistrations(count)).map((r) =>
    toOutgoing(r, () => new Date(), testDigestKey),
  );
  const report = await new Producer({ client: s.client, queueUrl: s.queueUrl }).send(registrations);
  expect(report.sent).toBe(count);
  return registrations;
}

describe("consumer against a real fauxqs", () => {
  it("writes one welcome email per registration, deletes in batches, and drains the queue", async () => {
    sqs = await startTestSqs();
    const registrations = await produce(sqs, 120);
    const outbox = await mkdtemp(join(tmpdir(), "outbox-"));
    const counts = countRequests(sqs.client);
    const c = consumer(sqs, {
      handler: registrationHandler(new OutboxMailer({ outboxDir: outbox }), { digestKey: testDigestKey }),
      concurrency: 40,
      stopWhenEmpty: true,
    });
    await c.start();
    const stats = await c.finished;
    expect(stats).toMatchObject({ received: 120, processed: 120, failed: 0, deadLettered: 0 });
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    const files = (await readdir(outbox)).filter((f) => f.endsWith(".eml"));
    expect(files.sort()).toEqual(registrations.map((r) => `${r.id}.eml`).sort());
    const journal = (await readFile(join(outbox, JOURNAL), "utf8")).trim().split("\n");
    expect(journal).toHaveLength(120);
    const first = registrations[0];
    const eml = await readFile(join(outbox, `${first?.id}.eml`), "utf8");
    expect(eml).toContain(`To: ${first?.nome.normalize()}`);
    expect(eml).toMatch(/^Subject: /m);
    expect(eml).toContain(`X-Registration-ID: ${first?.id}`);
    // Batched deletes: far fewer than one request per message.
    expect(counts.DeleteMessageBatch ?? 0).toBeLessThanOrEqual(30);
    expect(counts.DeleteMessage).toBeUndefined();
  });

  it("accepts a message with only nome and email, as the original producer sends it", async () => {
    sqs = await startTestSqs();
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: sqs.queueUrl,
        MessageBody: JSON.stringify({ nome: "Maria", email: "maria@example.com" }),
      }),
    );
    const seen: string[] = [];
    const c = consumer(sqs, {
      handler: registrationHandler(
        { send: async (r, id) => void seen.push(`${r.nome} ${r.email} ${id}`) },
        { digestKey: testDigestKey },
      ),
      stopWhenEmpty: true,
    });
    await c.start();
    expect(await c.finished).toMatchObject({ processed: 1 });
    expect(seen).toEqual([expect.stringMatching(/^Maria maria@example.com reg_[0-9a-f]{32}$/)]);
  });

  it("moves an invalid body to the dead-letter queue with the reason, and never retries it", async () => {
    sqs = await startTestSqs();
    await sqs.client.send(
      new SendMessageBatchCommand({
        QueueUrl: sqs.queueUrl,
        Entries: [
          { Id: "a", MessageBody: "this is not json" },
          { Id: "b", MessageBody: JSON.stringify({ nome: "Sem Email" }) },
          { Id: "c", MessageBody: JSON.stringify({ nome: "Ok", email: "ok@example.com" }) },
        ],
      }),
    );
    let calls = 0;
    const c = consumer(sqs, {
      handler: registrationHandler({ send: async () => void calls++ }, { digestKey: testDigestKey }),
      stopWhenEmpty: true,
    });
    await c.start();
    expect(await c.finished).toMatchObject({ processed: 1, deadLettered: 2, failed: 0 });
    expect(calls).toBe(1);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    const dead = await receiveAll(sqs.client, sqs.deadLetterQueueUrl);
    const byBody = Object.fromEntries(dead.map((m) => [m.Body, m.MessageAttributes]));
    expect(byBody["this is not json"]?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe("not-json");
    const wrongShape = byBody[JSON.stringify({ nome: "Sem Email" })];
    expect(wrongShape?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe("wrong-shape");
    expect(wrongShape?.[DEAD_LETTER_ATTRIBUTES.error]?.StringValue).toContain("email");
  });

  it("retries a failing message with backoff until SQS moves it to the dead-letter queue", async () => {
    const s = await startTestSqs({ maxReceiveCount: 3, visibilityTimeoutSeconds: 5 });
    sqs = s;
    const registrations = await produce(s, 10);
    const poison = registrations[3]?.id;
    const attempts = new Map<string, number>();
    const c = consumer(sqs, {
      retryBaseDelaySeconds: 0,
      handler: registrationHandler(
        {
          send: async (_, id) => {
            attempts.set(id, (attempts.get(id) ?? 0) + 1);
            if (id === poison) throw new Error("mail server said no");
          },
        },
        { digestKey: testDigestKey },
      ),
    });
    const failures: Message[] = [];
    c.on("failed", (_, message) => failures.push(message));
    await c.start();
    await waitFor(
      async () => (await queueDepth(s.client, s.deadLetterQueueUrl)) === 1,
      "the poison message in the DLQ",
    );
    await waitFor(() => c.stats.processed === 9, "the other nine processed");
    const stats = await c.stop();
    expect(attempts.get(poison ?? "")).toBe(3);
    expect(failures.map((m) => Number(m.Attributes?.ApproximateReceiveCount))).toEqual([1, 2, 3]);
    expect(stats).toMatchObject({ processed: 9, failed: 3, deadLettered: 0 });
    // Nothing lost: 9 processed + 1 in the dead-letter queue, nothing left on the main queue.
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    const [dead] = await receiveAll(sqs.client, sqs.deadLetterQueueUrl);
    expect(JSON.parse(dead?.Body ?? "").id).toBe(poison);
  });

  it("stops gracefully mid-load and loses nothing", async () => {
    const local = await startTestSqs();
    sqs = local;
    const total = 300;
    await produce(sqs, total);
    const processed = new Set<string>();
    const c = consumer(sqs, {
      concurrency: 20,
      handler: async (message) => {
        await new Promise((resolve) => setTimeout(resolve, 10));
        processed.add(message.MessageId ?? "");
      },
    });
    await c.start();
    await waitFor(() => c.stats.processed >= 50, "some messages processed");
    const stats = await c.stop();
    expect(stats.processed).toBeLessThan(total);
    // Every handler that ran to completion had its delete flushed.
    expect(stats.processed).toBe(processed.size);
    expect(stats.deleteFailed).toBe(0);
    const left = await queueDepth(sqs.client, sqs.queueUrl);
    expect(stats.processed + left).toBe(total);
    // What is left is visible again within the hand-back delay (1 s, see HAND_BACK_SECONDS), not
    // hidden for a visibility timeout (60 s here).
    const visible: Awaited<ReturnType<typeof receiveAll>> = [];
    await waitFor(
      async () => {
        visible.push(...(await receiveAll(local.client, local.queueUrl)));
        return visible.length >= left;
      },
      "the handed-back messages visible again",
      5_000,
    );
    expect(visible).toHaveLength(left);
    expect(visible.some((m) => processed.has(m.MessageId ?? ""))).toBe(false);
  });

  it("hands a message back with the visibility a RetryAfterError asks for, not the failure backoff", async () => {
    const s = await startTestSqs();
    sqs = s;
    await produce(s, 1);
    const visibilities: number[] = [];
    const send = s.client.send.bind(s.client);
    s.client.send = ((
      command: { input: { Entries?: { VisibilityTimeout?: number }[] } },
      ...rest: never[]
    ) => {
      if (command.constructor.name === "ChangeMessageVisibilityBatchCommand") {
        for (const entry of command.input.Entries ?? []) visibilities.push(entry.VisibilityTimeout ?? -1);
      }
      return send(command as never, ...rest);
    }) as typeof s.client.send;
    let calls = 0;
    const c = consumer(s, {
      retryBaseDelaySeconds: 0,
      handler: async () => {
        calls += 1;
        if (calls === 1) throw new RetryAfterError(7.2, "another consumer holds the claim");
      },
    });
    await c.start();
    await waitFor(() => visibilities.length > 0, "the message handed back");
    expect(visibilities).toEqual([8]);
  });

  it("keeps a slow message invisible with the heartbeat: no second delivery", async () => {
    sqs = await startTestSqs({ visibilityTimeoutSeconds: 1 });
    await produce(sqs, 1);
    let calls = 0;
    const c = consumer(sqs, {
      handler: async () => {
        calls += 1;
        await new Promise((resolve) => setTimeout(resolve, 2_500));
      },
      concurrency: 10,
    });
    await c.start();
    await waitFor(() => c.stats.processed === 1, "the slow message processed", 10_000);
    expect(calls).toBe(1);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it("refuses a queue without a dead-letter queue, saying how to provision one", async () => {
    sqs = await startTestSqs();
    const { QueueUrl } = await sqs.client.send(new CreateQueueCommand({ QueueName: "no-redrive" }));
    const c = new Consumer({ client: sqs.client, queueUrl: QueueUrl ?? "", handler: async () => {} });
    await expect(c.start()).rejects.toThrow(SqsAccessError);
    const again = new Consumer({ client: sqs.client, queueUrl: QueueUrl ?? "", handler: async () => {} });
    await expect(again.start()).rejects.toThrow(
      /no dead-letter queue.*npm run local, pulumi up or terraform apply/,
    );
  });

  it("validates its options when it is built", () => {
    const base = { client: {} as never, queueUrl: "q", handler: async () => {} };
    expect(() => new Consumer({ ...base, concurrency: 0 })).toThrow(/concurrency must be between 1/);
    expect(() => new Consumer({ ...base, waitTimeSeconds: 21 })).toThrow(
      /waitTimeSeconds must be between 0 and 20/,
    );
    expect(() => new Consumer({ ...base, concurrency: 2.5 })).toThrow(/whole number/);
  });
});
