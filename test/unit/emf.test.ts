/**
 * The consumer's EMF lines (src/observability/emf.ts): one line a flush interval with the counts
 * since the previous line, ConsumerPaused as the consumer is now, a final line at stop, and the
 * queue's name as the only dimension value (nothing from a message).
 */
import { EventEmitter } from "node:events";
import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import * as infraMetrics from "../../infra-pulumi/service/metrics.js";
import { EnvironmentFaultError, HandlerError, PoisonMessageError } from "../../src/consumer/errors.js";
import type { ConsumerEvents } from "../../src/consumer/runtime/types.js";
import { EMF_DIMENSION, EMF_METRICS, EMF_NAMESPACE } from "../../src/contract/metrics.js";
import { startEmfWriter } from "../../src/observability/emf.js";
import { queueName } from "../../src/sqs/queue-pair.js";

/** Stands in for the Consumer: the same events, and `paused` as the breaker would set it. */
class FakeConsumer extends EventEmitter<ConsumerEvents> {
  paused = false;
}

const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations";
const START = Date.UTC(2026, 10, 30, 7, 0, 0);
const secret = "maria.silva@example.com";
const message: Message = {
  MessageId: "m-1",
  ReceiptHandle: "r-1",
  Body: JSON.stringify({ nome: "Maria Silva", email: secret }),
};

/** The exact line the contract (infra-pulumi/service/metrics.ts, the alarms) expects. */
function line(timestamp: number, paused: 0 | 1, processed: number, failed: number, deadLettered: number) {
  return `${JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: "SqsMessaging/Consumer",
          Dimensions: [["QueueName"]],
          Metrics: [
            { Name: "ConsumerPaused", Unit: "None" },
            { Name: "MessagesProcessed", Unit: "Count" },
            { Name: "MessagesFailed", Unit: "Count" },
            { Name: "MessagesDeadLettered", Unit: "Count" },
          ],
        },
      ],
    },
    QueueName: "user-registrations",
    ConsumerPaused: paused,
    MessagesProcessed: processed,
    MessagesFailed: failed,
    MessagesDeadLettered: deadLettered,
  })}\n`;
}

describe("EMF writer", () => {
  let consumer: FakeConsumer;
  let lines: string[];
  const stream = { write: (chunk: string) => lines.push(chunk) > 0 };
  const processed = () => consumer.emit("processed", message);
  const failed = () =>
    consumer.emit("failed", new HandlerError("m-1", queueUrl, 1, new Error(secret)), message);
  const deadLettered = () =>
    consumer.emit("dead-lettered", new PoisonMessageError("not-json", `bad body ${secret}`), message);

  beforeEach(() => {
    vi.useFakeTimers({ now: START });
    consumer = new FakeConsumer();
    lines = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes one line per interval with the deltas since the previous one, and a final one at stop", () => {
    const writer = startEmfWriter({ source: consumer, queueName: queueName(queueUrl), stream });
    processed();
    processed();
    failed();
    vi.advanceTimersByTime(59_999);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lines).toEqual([line(START + 60_000, 0, 2, 1, 0)]);

    processed();
    deadLettered();
    vi.advanceTimersByTime(60_000);
    // A quiet minute still has its line: the paused alarm gets a datapoint every period.
    vi.advanceTimersByTime(60_000);
    processed();
    vi.advanceTimersByTime(30_000);
    writer.stop();
    expect(lines).toEqual([
      line(START + 60_000, 0, 2, 1, 0),
      line(START + 120_000, 0, 1, 0, 1),
      line(START + 180_000, 0, 0, 0, 0),
      line(START + 210_000, 0, 1, 0, 0),
    ]);

    // Stopped: no timer left, no listener left, a second stop writes nothing.
    processed();
    writer.stop();
    writer.flush();
    vi.advanceTimersByTime(600_000);
    expect(lines).toHaveLength(4);
    expect(consumer.listenerCount("processed")).toBe(0);
    expect(consumer.listenerCount("failed")).toBe(0);
    expect(consumer.listenerCount("dead-lettered")).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("reports ConsumerPaused as the consumer is at each flush", () => {
    const writer = startEmfWriter({
      source: consumer,
      queueName: queueName(queueUrl),
      stream,
      intervalMs: 10_000,
    });
    consumer.paused = true;
    consumer.emit("paused", "store", new EnvironmentFaultError("store", "DynamoDB unavailable"));
    vi.advanceTimersByTime(10_000);
    vi.advanceTimersByTime(10_000);
    consumer.paused = false;
    consumer.emit("resumed", 20);
    processed();
    vi.advanceTimersByTime(10_000);
    consumer.paused = true;
    writer.stop();
    expect(lines).toEqual([
      line(START + 10_000, 1, 0, 0, 0),
      line(START + 20_000, 1, 0, 0, 0),
      line(START + 30_000, 0, 1, 0, 0),
      line(START + 30_000, 1, 0, 0, 0),
    ]);
  });

  it("puts nothing of a message in the line: no body, no id, no error text", () => {
    const writer = startEmfWriter({ source: consumer, queueName: queueName(queueUrl), stream });
    processed();
    failed();
    deadLettered();
    writer.stop();
    expect(lines).toHaveLength(1);
    const [only = ""] = lines;
    expect(only).not.toContain(secret);
    expect(only).not.toContain("Maria");
    expect(only).not.toContain("m-1");
    expect(only).not.toContain("r-1");
    expect(only.endsWith("\n")).toBe(true);
    expect(only.indexOf("\n")).toBe(only.length - 1);
  });

  it("is the contract the fleet's alarms read (one definition, re-exported to the infrastructure)", () => {
    expect(infraMetrics.EMF_NAMESPACE).toBe(EMF_NAMESPACE);
    expect(infraMetrics.EMF_METRICS).toBe(EMF_METRICS);
    expect(infraMetrics.EMF_DIMENSION).toBe(EMF_DIMENSION);
    expect(EMF_NAMESPACE).toBe("SqsMessaging/Consumer");
    expect(Object.values(EMF_METRICS)).toEqual([
      "ConsumerPaused",
      "MessagesProcessed",
      "MessagesFailed",
      "MessagesDeadLettered",
    ]);
  });
});
