/**
 * A container of the function against a stub SQS and a store in memory: the queue read once, the
 * dead-letter queue found from its RedrivePolicy, one registration sent once however often it is
 * delivered, and one EMF line per invocation.
 */
import { describe, expect, it } from "vitest";
import type { Mailer } from "../../src/consumer/mail/mailer.js";
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
});
