/**
 * The promises every runtime keeps (docs/email-delivery.md, docs/lambda.md), one file for all of
 * them: each case runs against each driver (drivers.ts) on the embedded SQS and the local DynamoDB,
 * and counts from the queues and the outbox.
 */
import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it, type TestContext } from "vitest";
import { DEAD_LETTER_ATTRIBUTES, readDeadLetterAttributes } from "../../src/contract/dead-letter.js";
import { registrationDigest } from "../../src/contract/digest.js";
import { type OutgoingRegistration, toOutgoing } from "../../src/contract/registration.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, receiveAll, waitFor } from "../support/local-sqs.js";
import { journal } from "../support/outbox.js";
import { drivers, FUNCTION_TIMEOUT_MS, type RunningRuntime } from "./drivers.js";
import { type Harness, idOf, startHarness, VISIBILITY_TIMEOUT_SECONDS } from "./harness.js";

/** Cleanups go on the case's own context: the cases run at once, so a global hook would not know whose. */
type Finished = TestContext["onTestFinished"];

async function harness(
  onTestFinished: Finished,
  settings?: Parameters<typeof startHarness>[0],
): Promise<Harness> {
  const h = await startHarness(settings);
  onTestFinished(() => h.close());
  return h;
}

async function registrations(count: number, seed: number): Promise<OutgoingRegistration[]> {
  return (await generateRegistrations(count, seed)).map((r) =>
    toOutgoing(r, () => new Date(), testDigestKey),
  );
}

async function produce(h: Harness, list: readonly OutgoingRegistration[]): Promise<void> {
  const report = await new Producer({ client: h.sqs.client, queueUrl: h.sqs.queueUrl }).send([...list]);
  expect(report.sent).toBe(list.length);
}

/** Both queues empty: the main one drained, and nothing in flight or delayed. */
async function drained(h: Harness, what: string): Promise<void> {
  await waitFor(async () => (await queueDepth(h.sqs.client, h.sqs.queueUrl)) === 0, what, 30_000);
}

/** The emails written, by registration id, from the outbox journal. */
async function written(h: Harness): Promise<string[]> {
  return journal(h.outboxDir, { written: true });
}

// Concurrent: each case has its own emulator, table and outbox, and spends its time waiting on
// visibility timeouts, not computing.
describe.concurrent.each(drivers)("$name", (driver) => {
  async function run(h: Harness, onTestFinished: Finished): Promise<RunningRuntime> {
    const running = await driver.start(h.setup);
    // Registered after the harness's close: vitest runs these in reverse, so this stops first.
    onTestFinished(() => running.stop());
    return running;
  }

  it("one email per registration under duplicate delivery", async ({ onTestFinished }) => {
    const h = await harness(onTestFinished);
    const list = await registrations(30, 101);
    await produce(h, list);
    await produce(h, list); // every registration delivered twice
    await run(h, onTestFinished);
    await drained(h, "both copies of every registration settled");
    const emails = await written(h);
    expect(emails.sort()).toEqual(list.map((r) => r.id).sort());
    expect(await queueDepth(h.sqs.client, h.sqs.deadLetterQueueUrl)).toBe(0);
  });

  it("poison goes to the dead-letter queue at once, with its reason", async ({ onTestFinished }) => {
    const h = await harness(onTestFinished);
    const list = await registrations(5, 102);
    await produce(h, list);
    for (const body of ["{ not json", JSON.stringify({ hello: "world" })]) {
      await h.sqs.client.send(new SendMessageCommand({ QueueUrl: h.sqs.queueUrl, MessageBody: body }));
    }
    await run(h, onTestFinished);
    await drained(h, "the queue drained");
    const dead = await receiveAll(h.sqs.client, h.sqs.deadLetterQueueUrl);
    // The reason attribute is the runtime's: SQS's own move after maxReceiveCount (10 here) has none.
    expect(dead.map((m) => readDeadLetterAttributes(m).reason).sort()).toEqual(["not-json", "wrong-shape"]);
    for (const m of dead) {
      expect(m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.sourceQueueUrl]?.StringValue).toBe(h.sqs.queueUrl);
    }
    expect((await written(h)).sort()).toEqual(list.map((r) => r.id).sort());
  });

  it("a transient failure is retried, and sends once", async ({ onTestFinished }) => {
    const h = await harness(onTestFinished);
    const list = await registrations(10, 103);
    const refused = list.slice(0, 3).map((r) => r.id);
    for (const id of refused) h.mailer.refuseOnce.add(id);
    await produce(h, list);
    await run(h, onTestFinished);
    await drained(h, "every registration settled");
    expect((await written(h)).sort()).toEqual(list.map((r) => r.id).sort());
    // The promise is one refused attempt and one send; how many receives that took depends on
    // the machine's load as well (a prefetched message can outwait its retry delay), so it is
    // bounded below only.
    for (const id of refused) {
      expect(h.mailer.attempts.get(id)).toBe(2);
      expect(h.receiveCounts.get(id)).toBeGreaterThanOrEqual(2);
    }
    expect(await queueDepth(h.sqs.client, h.sqs.deadLetterQueueUrl)).toBe(0);
  });

  it("an environment fault spends no more receives than the runtime's model says", async ({
    onTestFinished,
  }) => {
    const h = await harness(onTestFinished);
    const list = await registrations(30, 104);
    h.mailer.down = true;
    await produce(h, list);
    await run(h, onTestFinished);
    await waitFor(() => h.mailer.outageRefusals > 0, "the outage met");
    const began = Date.now();
    await waitFor(() => Date.now() - began >= 2_000, "two seconds of outage"); // wait on the clock: the outage is the case
    h.mailer.down = false;
    const outageMs = Date.now() - began;
    await drained(h, "every registration settled after the outage");
    expect((await written(h)).sort()).toEqual(list.map((r) => r.id).sort());
    expect(await queueDepth(h.sqs.client, h.sqs.deadLetterQueueUrl)).toBe(0);
    const most = Math.max(...h.receiveCounts.values());
    console.info(`${driver.name}: outage of ${outageMs} ms, most receives of one message ${most}`);
    expect(most).toBeLessThanOrEqual(driver.maxReceivesAfterOutage(outageMs));
  });

  it("one email per registration when the store cannot record accepted sends for longer than an invocation", async ({
    onTestFinished,
  }) => {
    const h = await harness(onTestFinished);
    const list = await registrations(10, 107);
    h.storeFaults.markSentDown = true;
    await produce(h, list);
    await run(h, onTestFinished);
    await waitFor(async () => (await written(h)).length === list.length, "every email accepted");
    // Wait on the clock: the outage outlasting an invocation is the case (a Lambda container must
    // hand its facts on; a long-running consumer holds its messages).
    const began = Date.now();
    await waitFor(() => Date.now() - began >= FUNCTION_TIMEOUT_MS, "an invocation's length of outage");
    h.storeFaults.markSentDown = false;
    await drained(h, "every record written after the outage");
    expect((await written(h)).sort()).toEqual(list.map((r) => r.id).sort());
    expect(await queueDepth(h.sqs.client, h.sqs.deadLetterQueueUrl)).toBe(0);
    for (const r of list) {
      const record = await h.store.claim(r.id, registrationDigest(r, testDigestKey));
      expect(record.outcome, r.id).toBe("already-sent");
    }
  });

  it("FIFO: in order within a message group, a failure holding its group back", async ({
    onTestFinished,
  }) => {
    const h = await harness(onTestFinished, {
      fifo: true,
      queueName: "conformance.fifo",
      deadLetterQueueName: "conformance-dlq.fifo",
    });
    const list = await registrations(12, 105);
    const groups = ["a", "b", "c"];
    const sent = list.map((r, i) => ({ registration: r, group: groups[i % groups.length] as string }));
    h.mailer.refuseOnce.add(sent[4]?.registration.id ?? ""); // group b's second
    for (let i = 0; i < sent.length; i += 10) {
      await h.sqs.client.send(
        new SendMessageBatchCommand({
          QueueUrl: h.sqs.queueUrl,
          Entries: sent.slice(i, i + 10).map(({ registration, group }, j) => ({
            Id: String(j),
            MessageBody: JSON.stringify(registration),
            MessageGroupId: group,
            MessageDeduplicationId: registration.id,
          })),
        }),
      );
    }
    await run(h, onTestFinished);
    await drained(h, "every group settled");
    const emails = await written(h);
    for (const group of groups) {
      const expected = sent.filter((s) => s.group === group).map((s) => s.registration.id);
      expect(
        emails.filter((id) => expected.includes(id)),
        `group ${group}`,
      ).toEqual(expected);
    }
  });

  it("nothing is lost across a kill, and no email is written twice", async ({ onTestFinished }) => {
    const h = await harness(onTestFinished);
    const list = await registrations(60, 106);
    await produce(h, list);
    const first = await driver.start(h.setup);
    onTestFinished(() => first.kill()); // a second kill does nothing: for a case that fails before its own
    await waitFor(async () => (await written(h)).length >= 15, "some emails written");
    await first.kill();
    const afterKill = (await written(h)).length;
    expect(afterKill).toBeLessThan(list.length); // really mid-drain
    await run(h, onTestFinished);
    // Abandoned messages come back after the visibility timeout, at least the function's.
    expect(FUNCTION_TIMEOUT_MS).toBeLessThanOrEqual(VISIBILITY_TIMEOUT_SECONDS * 1000);
    await drained(h, "every registration settled after the kill");
    const emails = await written(h);
    expect(emails.sort()).toEqual(list.map((r) => r.id).sort());
    const sentOrFound = new Set(await journal(h.outboxDir));
    expect(sentOrFound).toEqual(new Set(list.map((r) => r.id)));
    expect(await queueDepth(h.sqs.client, h.sqs.deadLetterQueueUrl)).toBe(0);
    expect(new Set((await receiveAll(h.sqs.client, h.sqs.queueUrl)).map(idOf))).toEqual(new Set());
  });
});
