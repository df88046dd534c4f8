/**
 * A container of the function against a stub SQS and a store in memory: the queue read once, the
 * dead-letter queue found from its RedrivePolicy, one registration sent once however often it is
 * delivered, and one EMF line per invocation.
 */
import { describe, expect, it, vi } from "vitest";
import { FUNCTION_SETTLE_MARGIN_MS as SETTLE_MARGIN_MS } from "../../src/config/limits.js";
import { EnvironmentFaultError } from "../../src/consumer/errors.js";
import type { Mailer } from "../../src/consumer/mail/mailer.js";
import type { SentEmailStore } from "../../src/consumer/store/contract.js";
import { storeTiming } from "../../src/consumer/store/timing.js";
import { EMF_DIMENSION, EMF_METRICS } from "../../src/contract/metrics.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { toRecord } from "../../src/lambda/records.js";
import { startLambdaRuntime } from "../../src/lambda/runtime.js";
import { testDigestKey } from "../support/digest-key.js";
import { memoryBackend } from "../support/memory-store.js";
import { stubSqs } from "../support/stub-sqs.js";

const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/user-registrations";
const ARN = "arn:aws:sqs:us-east-1:123456789012:user-registrations";

describe("a Lambda container", () => {
  it("sends once across invocations, dead-letters poison, and writes one EMF line per invocation", async () => {
    const sqs = stubSqs({
      GetQueueAttributes: () => ({
        Attributes: {
          VisibilityTimeout: "360",
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `${ARN}-dlq`, maxReceiveCount: 5 }),
        },
      }),
      SendMessage: () => ({}),
      ChangeMessageVisibilityBatch: () => ({ Failed: [] }),
    });
    const sent: string[] = [];
    const mailer: Mailer = {
      kind: "ses",
      sendTimeoutMs: 1_000,
      send: async (_registration, id) => {
        sent.push(id);
      },
      close() {},
    };
    const lines: string[] = [];
    const runtime = await startLambdaRuntime({
      client: sqs.client,
      queueUrl: QUEUE_URL,
      store: memoryBackend().makeStore(storeTiming(1_000)),
      mailer,
      digestKey: testDigestKey,
      sendTimeoutMs: 1_000,
      emfStream: { write: (line: string) => lines.push(line) > 0 },
    });
    expect(runtime.deadLetterQueueUrl).toBe(`${QUEUE_URL}-dlq`);
    expect(runtime.fifo).toBe(false);

    const registration = toOutgoing(
      { nome: "Maria", email: "maria@example.com" },
      () => new Date(),
      testDigestKey,
    );
    const record = (id: string, body: string) =>
      toRecord(
        {
          MessageId: id,
          ReceiptHandle: `rh-${id}`,
          Body: body,
          Attributes: { ApproximateReceiveCount: "1" },
        },
        ARN,
        "us-east-1",
      );
    const remaining = () => 60_000;
    const first = await runtime.handle(
      { Records: [record("a", JSON.stringify(registration)), record("p", "{ not json")] },
      remaining,
    );
    const again = await runtime.handle({ Records: [record("b", JSON.stringify(registration))] }, remaining);
    expect(first.batchItemFailures).toEqual([]);
    expect(again.batchItemFailures).toEqual([]);
    expect(sent).toEqual([registration.id]);
    expect(runtime.emails).toMatchObject({ sent: 1, duplicates: 1 });
    expect(sqs.named("SendMessage").map((input) => input.QueueUrl)).toEqual([`${QUEUE_URL}-dlq`]);
    expect(sqs.named("GetQueueAttributes")).toHaveLength(1);

    const emf = lines.map((line) => JSON.parse(line));
    expect(emf).toHaveLength(2);
    expect(emf[0]).toMatchObject({
      [EMF_DIMENSION]: "user-registrations",
      [EMF_METRICS.processed]: 1,
      [EMF_METRICS.deadLettered]: 1,
      [EMF_METRICS.failed]: 0,
      [EMF_METRICS.paused]: 0,
    });
    expect(emf[1]).toMatchObject({ [EMF_METRICS.processed]: 1, [EMF_METRICS.deadLettered]: 0 });
  });

  describe("S9: accepted, then the store down at markSent until the invocation ends", () => {
    const SEND_TIMEOUT_MS = 500;
    const registration = toOutgoing(
      { nome: "Maria", email: "maria@example.com" },
      () => new Date(),
      testDigestKey,
    );
    const other = toOutgoing({ nome: "Ana", email: "ana@example.com" }, () => new Date(), testDigestKey);
    const record = (id: string, body: string, receiveCount = 1) =>
      toRecord(
        {
          MessageId: id,
          ReceiptHandle: `rh-${id}`,
          Body: body,
          Attributes: { ApproximateReceiveCount: String(receiveCount) },
        },
        ARN,
        "us-east-1",
      );

    /** Two containers on one table, a store whose markSent can be cut, and the emails sent. */
    async function twoContainers() {
      const backend = memoryBackend();
      const timing = storeTiming(SEND_TIMEOUT_MS);
      const markSentDown = { value: false };
      const store = (): SentEmailStore => {
        const inner = backend.makeStore(timing);
        return Object.assign(Object.create(inner) as SentEmailStore, {
          markSent: async (claim: Parameters<SentEmailStore["markSent"]>[0]) => {
            if (markSentDown.value) throw new EnvironmentFaultError("store", "the table answers 503");
            return inner.markSent(claim);
          },
        });
      };
      const sent: string[] = [];
      const mailer: Mailer = {
        kind: "ses",
        sendTimeoutMs: SEND_TIMEOUT_MS,
        send: async (_registration, id) => {
          sent.push(id);
        },
        close() {},
      };
      const sqs = stubSqs({
        GetQueueAttributes: () => ({
          Attributes: {
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: `${ARN}-dlq`, maxReceiveCount: 5 }),
          },
        }),
        SendMessage: () => ({}),
        ChangeMessageVisibilityBatch: () => ({ Failed: [] }),
      });
      const open = () =>
        startLambdaRuntime({
          client: sqs.client,
          queueUrl: QUEUE_URL,
          store: store(),
          mailer,
          digestKey: testDigestKey,
          sendTimeoutMs: SEND_TIMEOUT_MS,
        });
      const [a, b] = [await open(), await open()];
      // Time for the lease and the settling margin, then markSent retried until the margin is left.
      const started = Date.now();
      const budget = a.leaseMs + SETTLE_MARGIN_MS + 200;
      markSentDown.value = true;
      const first = await a.handle({ Records: [record("m1", JSON.stringify(registration))] }, () =>
        Math.max(0, budget - (Date.now() - started)),
      );
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
      expect(sent).toEqual([registration.id]);
      markSentDown.value = false;
      // The message comes back only after the fault's visibility, by then past the claim's lease.
      const leaseUntil = backend.records.get(registration.id)?.leaseUntil ?? 0;
      await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(leaseUntil), { timeout: 5_000 });
      return { a, b, sent };
    }

    it("the container's next invocation writes the record first: the message, wherever it comes back, sends nothing", async () => {
      const { a, b, sent } = await twoContainers();
      const next = await a.handle({ Records: [record("m2", JSON.stringify(other))] }, () => 60_000);
      expect(next.batchItemFailures).toEqual([]);
      expect(a.emails.recordedLate).toBe(1);
      const back = await b.handle({ Records: [record("m1", JSON.stringify(registration), 2)] }, () => 60_000);
      expect(back.batchItemFailures).toEqual([]);
      expect(sent).toEqual([registration.id, other.id]);
      expect(b.emails).toMatchObject({ sent: 0, duplicates: 1 });
    });

    it("another container that receives it first sends a second copy, never a third", async () => {
      const { a, b, sent } = await twoContainers();
      const back = await b.handle({ Records: [record("m1", JSON.stringify(registration), 2)] }, () => 60_000);
      expect(back.batchItemFailures).toEqual([]);
      expect(sent).toEqual([registration.id, registration.id]);
      // The first container still holds the fact: its record moved on, and nothing is sent again.
      const next = await a.handle(
        { Records: [record("m2", JSON.stringify(other)), record("m1-dup", JSON.stringify(registration))] },
        () => 60_000,
      );
      expect(next.batchItemFailures).toEqual([]);
      expect(sent.filter((id) => id === registration.id)).toHaveLength(2);
    });
  });
});
