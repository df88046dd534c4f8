import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { ACCEPTED_SEND_ATTRIBUTE } from "../../src/contract/accepted-send-attribute.js";
import { DEAD_LETTER_ATTRIBUTES } from "../../src/contract/dead-letter.js";
import { TooManyAttributesError } from "../../src/ops/errors.js";
import { MOVE_TASK_POLL_MS, redrive, redriveAttributes } from "../../src/ops/redrive.js";
import { isUnsupportedOperation } from "../../src/sqs/errors.js";
import { TokenBucket } from "../../src/time/token-bucket.js";
import { fakeClock, stubSqs } from "../support/stub-sqs.js";

const queues = {
  queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations",
  deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations-dlq",
};
const mainArn = "arn:aws:sqs:eu-west-1:123456789012:user-registrations";
const deadArn = "arn:aws:sqs:eu-west-1:123456789012:user-registrations-dlq";

const text = (value: string): MessageAttributeValue => ({
  DataType: "String",
  StringValue: value,
  StringListValues: [],
  BinaryListValues: [],
});

function deadLetterAttributes(extra: Record<string, MessageAttributeValue> = {}) {
  return {
    ...extra,
    [DEAD_LETTER_ATTRIBUTES.reason]: text("not-json"),
    [DEAD_LETTER_ATTRIBUTES.error]: text("body is not JSON"),
    [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: text("m-1"),
    [DEAD_LETTER_ATTRIBUTES.sourceQueueUrl]: text(queues.queueUrl),
  };
}

const attributesAnswer = (input: Record<string, unknown>) => ({
  Attributes: { QueueArn: input.QueueUrl === queues.queueUrl ? mainArn : deadArn, FifoQueue: "false" },
});

/** A dead-letter queue holding `messages`: each receive hands out the next ones, once. */
function queueOf(messages: Message[]) {
  const waiting = [...messages];
  return {
    GetQueueAttributes: attributesAnswer,
    ReceiveMessage: (input: Record<string, unknown>) => ({
      Messages: waiting.splice(0, Number(input.MaxNumberOfMessages)),
    }),
    SendMessageBatch: (input: Record<string, unknown>) => ({
      Successful: (input.Entries as { Id: string }[]).map((e) => ({ Id: e.Id, MessageId: `new-${e.Id}` })),
    }),
    DeleteMessageBatch: () => ({ Failed: [] }),
    ChangeMessageVisibilityBatch: () => ({ Failed: [] }),
  };
}

function message(id: string, attributes = deadLetterAttributes()): Message {
  return { MessageId: id, ReceiptHandle: `rh-${id}`, Body: `{"id":"${id}"}`, MessageAttributes: attributes };
}

describe("redriveAttributes", () => {
  it("strips the dead-letter attributes and keeps the rest, as SendMessage accepts them", () => {
    const kept = redriveAttributes(deadLetterAttributes({ traceparent: text("00-abc-def-01") }));
    expect(kept).toEqual({ traceparent: { DataType: "String", StringValue: "00-abc-def-01" } });
  });

  it("keeps an accepted send's fact: the redriven message records its email instead of sending it again", () => {
    const fact = text('{"v":1}');
    expect(redriveAttributes(deadLetterAttributes({ [ACCEPTED_SEND_ATTRIBUTE]: fact }))).toEqual({
      [ACCEPTED_SEND_ATTRIBUTE]: { DataType: "String", StringValue: '{"v":1}' },
    });
  });

  it("keeps exactly 10 attributes and refuses 11 rather than dropping one", () => {
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, text(String(i))]));
    expect(Object.keys(redriveAttributes(deadLetterAttributes(ten)))).toHaveLength(10);
    const eleven = { ...ten, a10: text("10") };
    expect(() => redriveAttributes(deadLetterAttributes(eleven))).toThrow(TooManyAttributesError);
  });
});

describe("redrive, client-side (stub SQS)", () => {
  it("sends without dead-letter attributes, deletes only what was sent, fails an 11-attribute message", async () => {
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, text(String(i))]));
    const sqs = stubSqs({
      ...queueOf([message("ok-1"), message("too-many", deadLetterAttributes(eleven)), message("ok-2")]),
      SendMessageBatch: (input) => {
        const entries = input.Entries as { Id: string }[];
        // The second entry is refused by SQS: it must not be deleted.
        return {
          Successful: entries.slice(0, 1).map((e) => ({ Id: e.Id })),
          Failed: entries.slice(1).map((e) => ({ Id: e.Id, Code: "InternalError", SenderFault: false })),
        };
      },
    });
    const report = await redrive({
      client: sqs.client,
      queues,
      ratePerSecond: 100,
      reason: "not-json",
      clock: fakeClock(),
      waitTimeSeconds: 0,
    });
    expect(report).toMatchObject({ path: "client-side", pathReason: "--reason given", moved: 1, failed: 2 });
    expect(report.failures.map((f) => [f.id, f.stage])).toEqual([
      ["too-many", "attributes"],
      ["ok-2", "send"],
    ]);
    const [send] = sqs.named("SendMessageBatch");
    expect(send?.QueueUrl).toBe(queues.queueUrl);
    expect(send?.Entries).toEqual([
      { Id: "0", MessageBody: '{"id":"ok-1"}' },
      { Id: "2", MessageBody: '{"id":"ok-2"}' },
    ]);
    expect(sqs.named("DeleteMessageBatch")).toEqual([
      { QueueUrl: queues.deadLetterQueueUrl, Entries: [{ Id: "0", ReceiptHandle: "rh-ok-1" }] },
    ]);
    // What was not moved is handed back at once.
    const handedBack = sqs.named("ChangeMessageVisibilityBatch").flatMap((c) => c.Entries as object[]);
    expect(handedBack).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ ReceiptHandle: "rh-too-many", VisibilityTimeout: 0 }),
        expect.objectContaining({ ReceiptHandle: "rh-ok-2", VisibilityTimeout: 0 }),
      ]),
    );
  });

  it("paces sends at --rate with the injected clock", async () => {
    const clock = fakeClock();
    const sqs = stubSqs(queueOf(Array.from({ length: 25 }, (_, i) => message(`m${i}`))));
    const start = clock.now();
    const report = await redrive({
      client: sqs.client,
      queues,
      ratePerSecond: 5,
      max: 25,
      clock,
      waitTimeSeconds: 0,
    });
    expect(report.moved).toBe(25);
    // A bucket of 5 starts full: the first 5 go at once, then 5 a second.
    expect(sqs.named("SendMessageBatch").map((c) => (c.Entries as unknown[]).length)).toEqual([
      5, 5, 5, 5, 5,
    ]);
    expect(clock.now() - start).toBe(4_000);
  });
});

describe("redrive, move task (stub SQS)", () => {
  it("starts StartMessageMoveTask from the DLQ's ARN to the main queue's at --rate and waits for it", async () => {
    const clock = fakeClock();
    const statuses = ["RUNNING", "COMPLETED"];
    const sqs = stubSqs({
      GetQueueAttributes: attributesAnswer,
      StartMessageMoveTask: () => ({ TaskHandle: "task-1" }),
      ListMessageMoveTasks: () => ({
        Results: [
          {
            Status: statuses.shift(),
            ApproximateNumberOfMessagesMoved: 7,
            ApproximateNumberOfMessagesToMove: 7,
          },
        ],
      }),
    });
    const report = await redrive({ client: sqs.client, queues, ratePerSecond: 25, clock });
    expect(sqs.named("StartMessageMoveTask")).toEqual([
      { SourceArn: deadArn, DestinationArn: mainArn, MaxNumberOfMessagesPerSecond: 25 },
    ]);
    expect(sqs.named("ListMessageMoveTasks")[0]).toEqual({ SourceArn: deadArn, MaxResults: 1 });
    expect(report).toMatchObject({
      path: "move-task",
      moved: 7,
      failed: 0,
      taskHandle: "task-1",
      taskStatus: "COMPLETED",
    });
    expect(clock.sleeps).toEqual([MOVE_TASK_POLL_MS]);
    expect(sqs.named("ReceiveMessage")).toEqual([]);
  });

  it("reports a failed move task with what it did not move", async () => {
    const sqs = stubSqs({
      GetQueueAttributes: attributesAnswer,
      StartMessageMoveTask: () => ({ TaskHandle: "task-2" }),
      ListMessageMoveTasks: () => ({
        Results: [
          {
            Status: "FAILED",
            ApproximateNumberOfMessagesMoved: 3,
            ApproximateNumberOfMessagesToMove: 10,
            FailureReason: "AccessDenied",
          },
        ],
      }),
    });
    const report = await redrive({ client: sqs.client, queues, ratePerSecond: 10, clock: fakeClock() });
    expect(report).toMatchObject({ moved: 3, failed: 7, taskStatus: "FAILED" });
    expect(report.failures[0]).toMatchObject({ stage: "move-task", message: "AccessDenied" });
  });

  it("falls back to the client-side path when the endpoint has no move task, and says so", async () => {
    const sqs = stubSqs({
      ...queueOf([message("a")]),
      StartMessageMoveTask: () => {
        throw Object.assign(new Error("Unknown action: StartMessageMoveTask"), { name: "InvalidAction" });
      },
    });
    const report = await redrive({
      client: sqs.client,
      queues,
      ratePerSecond: 10,
      clock: fakeClock(),
      waitTimeSeconds: 0,
    });
    expect(report).toMatchObject({
      path: "client-side",
      pathReason: "StartMessageMoveTask unsupported here (InvalidAction)",
      moved: 1,
    });
  });

  it("does not fall back on other errors (a refused permission is the operator's to fix)", async () => {
    const sqs = stubSqs({
      GetQueueAttributes: attributesAnswer,
      StartMessageMoveTask: () => {
        throw Object.assign(new Error("not authorized"), { name: "AccessDenied" });
      },
    });
    await expect(
      redrive({ client: sqs.client, queues, ratePerSecond: 10, clock: fakeClock() }),
    ).rejects.toThrow("not authorized");
    expect(sqs.named("ReceiveMessage")).toEqual([]);
  });

  it.each([
    [{ name: "InvalidAction", message: "Unknown action: StartMessageMoveTask" }, true],
    [{ name: "UnknownOperationException", message: "" }, true],
    [{ name: "AccessDenied", message: "denied" }, false],
    [
      { name: "InvalidParameterValue", message: "Source queue must be configured as a Dead Letter Queue." },
      false,
    ],
  ])("isUnsupportedOperation(%j) is %s", (error, expected) => {
    expect(isUnsupportedOperation(error)).toBe(expected);
  });
});

describe("TokenBucket", () => {
  it("lets a full bucket through at once, then refills at the rate", async () => {
    const clock = fakeClock();
    const bucket = new TokenBucket(10, 10, clock);
    await bucket.take(10);
    expect(clock.sleeps).toEqual([]);
    await bucket.take(5);
    expect(clock.sleeps).toEqual([500]);
    clock.advance(2_000); // idle time refills only up to the capacity
    await bucket.take(10);
    await bucket.take(1);
    expect(clock.sleeps).toEqual([500, 100]);
  });

  it("refuses a take larger than the bucket", async () => {
    await expect(new TokenBucket(2, 2, fakeClock()).take(3)).rejects.toThrow(RangeError);
  });
});
