/** `status`: the queue pair's counts and the dead-letter queue's age, from SQS and CloudWatch. */
import { GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { describe, expect, it } from "vitest";
import {
  CloudWatchAges,
  formatStatus,
  type MetricDataClient,
  queueStatus,
  unknownAges,
} from "../../src/ops/status.js";
import { fakeClock, stubSqs } from "../support/stub-sqs.js";

const queues = {
  queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations",
  deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations-dlq",
};

function countsSqs(dead: number) {
  return stubSqs({
    GetQueueAttributes: (input) => ({
      Attributes: {
        ApproximateNumberOfMessages: input.QueueUrl === queues.queueUrl ? "4" : String(dead),
        ApproximateNumberOfMessagesNotVisible: "1",
        ApproximateNumberOfMessagesDelayed: "0",
      },
    }),
  });
}

describe("status", () => {
  it("asks CloudWatch for ApproximateAgeOfOldestMessage of both queues in one GetMetricData", async () => {
    const clock = fakeClock(Date.parse("2026-11-30T03:00:00Z"));
    const sent: GetMetricDataCommand[] = [];
    const cloudwatch: MetricDataClient = {
      async send(command) {
        sent.push(command);
        return {
          MetricDataResults: [
            { Id: "q0", Values: [42, 30] },
            { Id: "q1", Values: [] },
          ],
        };
      },
    };
    const report = await queueStatus({
      client: countsSqs(0).client,
      queues,
      ages: new CloudWatchAges(cloudwatch, clock),
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toBeInstanceOf(GetMetricDataCommand);
    expect(sent[0]?.input).toEqual({
      StartTime: new Date("2026-11-30T02:45:00Z"),
      EndTime: new Date("2026-11-30T03:00:00Z"),
      ScanBy: "TimestampDescending",
      MetricDataQueries: ["user-registrations", "user-registrations-dlq"].map((name, i) => ({
        Id: `q${i}`,
        ReturnData: true,
        MetricStat: {
          Metric: {
            Namespace: "AWS/SQS",
            MetricName: "ApproximateAgeOfOldestMessage",
            Dimensions: [{ Name: "QueueName", Value: name }],
          },
          Period: 60,
          Stat: "Maximum",
        },
      })),
    });
    expect(report).toMatchObject({
      queue: { visible: 4, inFlight: 1, delayed: 0, oldestMessageAgeSeconds: 42 },
      deadLetterQueue: { visible: 0, inFlight: 1, delayed: 0, oldestMessageAgeSeconds: null },
      oldestMessageAgeSeconds: 42,
      ageSource: "cloudwatch",
      deadLetterQueueEmpty: false,
    });
  });

  it("reports null ages (not invented) on the emulator, and when CloudWatch refuses", async () => {
    const onEmulator = await queueStatus({ client: countsSqs(0).client, queues, ages: unknownAges });
    expect(onEmulator.oldestMessageAgeSeconds).toBeNull();
    expect(onEmulator.deadLetterQueue.oldestMessageAgeSeconds).toBeNull();

    const errors: unknown[] = [];
    const refused = await queueStatus({
      client: countsSqs(0).client,
      queues,
      ages: new CloudWatchAges({
        send: async () => {
          throw Object.assign(new Error("no"), { name: "AccessDenied" });
        },
      }),
      onAgeError: (error) => errors.push(error),
    });
    expect(refused).toMatchObject({
      oldestMessageAgeSeconds: null,
      ageSource: "cloudwatch (failed: AccessDenied)",
    });
    expect(errors).toHaveLength(1);
  });

  it("prints one line per queue and what the exit code means", async () => {
    const report = await queueStatus({ client: countsSqs(2).client, queues, ages: unknownAges });
    expect(formatStatus(report)).toBe(
      [
        "queue                   visible  in flight  delayed  oldest message",
        "user-registrations            4          1        0         unknown",
        "user-registrations-dlq        2          1        0         unknown",
        "oldest-message age: unknown on the emulator (no CloudWatch)",
        "dead-letter queue: 3 messages; inspect with `npm run dlq -- list` (exit code 3)",
        "",
      ].join("\n"),
    );
    const empty = await queueStatus({
      client: stubSqs({ GetQueueAttributes: () => ({ Attributes: {} }) }).client,
      queues,
      ages: unknownAges,
    });
    expect(formatStatus(empty)).toContain("dead-letter queue: empty");
  });
});
