/**
 * Tracing through the emulator: an SDK with an in-memory exporter is registered in this worker;
 * a registration is produced, goes through fauxqs, and is consumed. The consumer's process span
 * links to the producer's create context carried in the message attributes.
 */
import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM,
  MESSAGING_SYSTEM_VALUE_AWS_SQS,
} from "@opentelemetry/semantic-conventions/incubating";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PoisonMessageError } from "../../src/consumer/errors.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { createContextAttributes, MAX_MESSAGE_ATTRIBUTES, SEMCONV } from "../../src/observability/tracing.js";
import { redrive } from "../../src/ops/redrive.js";
import { bodyOf, Producer } from "../../src/producer/producer.js";
import { testDigestKey } from "../support/digest-key.js";
import { receiveAll, startTestSqs, type TestSqs } from "../support/local-sqs.js";

const exporter = new InMemorySpanExporter();
let provider: NodeTracerProvider;
let sqs: TestSqs;

beforeAll(async () => {
  provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  provider.register();
  sqs = await startTestSqs();
});
afterAll(async () => {
  await sqs.close();
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

describe("tracing (OpenTelemetry messaging conventions)", () => {
  it("uses the semantic conventions' current names and the aws_sqs system value", () => {
    expect(SEMCONV).toEqual({
      system: ATTR_MESSAGING_SYSTEM,
      systemAwsSqs: MESSAGING_SYSTEM_VALUE_AWS_SQS,
      operationName: ATTR_MESSAGING_OPERATION_NAME,
      operationType: ATTR_MESSAGING_OPERATION_TYPE,
      destinationName: ATTR_MESSAGING_DESTINATION_NAME,
      messageId: ATTR_MESSAGING_MESSAGE_ID,
      batchMessageCount: ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
    });
    expect(SEMCONV.systemAwsSqs).toBe("aws_sqs");
  });

  it("links the consumer's process span to the producer's create context, through the queue", async () => {
    exporter.reset();
    const registration = toOutgoing(
      { nome: "Maria Silva", email: "maria@example.com" },
      () => new Date(),
      testDigestKey,
    );
    const report = await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send([registration]);
    expect(report.sent).toBe(1);

    const seen: Record<string, unknown>[] = [];
    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      handler: async (message) => {
        seen.push({ ...message.MessageAttributes });
      },
      concurrency: 1,
      waitTimeSeconds: 0,
      stopWhenEmpty: true,
    });
    await consumer.start();
    expect(await consumer.finished).toMatchObject({ processed: 1 });
    expect(Object.keys(seen[0] ?? {})).toContain("traceparent");

    const spans = exporter.getFinishedSpans();
    const named = (prefix: string) => spans.filter((s) => s.name.startsWith(`${prefix} `));
    const [create] = named("create");
    const [send] = named("send");
    const [process] = named("process");
    expect(create?.kind).toBe(SpanKind.PRODUCER);
    expect(send?.kind).toBe(SpanKind.CLIENT);
    expect(send?.links.map((l) => l.context.spanId)).toEqual([create?.spanContext().spanId]);
    expect(send?.attributes[SEMCONV.batchMessageCount]).toBe(1);

    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.links).toHaveLength(1);
    expect(process?.links[0]?.context.traceId).toBe(create?.spanContext().traceId);
    expect(process?.links[0]?.context.spanId).toBe(create?.spanContext().spanId);
    expect(process?.attributes).toMatchObject({
      "messaging.system": "aws_sqs",
      "messaging.operation.name": "process",
      "messaging.operation.type": "process",
      "messaging.destination.name": sqs.queueUrl.split("/").at(-1),
      "messaging.message.id": expect.any(String),
    });
    expect(named("receive").length).toBeGreaterThan(0);
    expect(named("receive")[0]?.kind).toBe(SpanKind.CLIENT);
    expect(named("delete")[0]?.attributes).toMatchObject({
      "messaging.operation.type": "settle",
      "messaging.batch.message_count": 1,
    });
    // No personal data on any span.
    const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes })));
    expect(everything).not.toMatch(/maria|silva/i);
  });

  it("a dead-lettered registration, redriven and processed again: both hops link back to its create context", async () => {
    exporter.reset();
    const registration = toOutgoing(
      { nome: "Rui Costa", email: "rui@example.com" },
      () => new Date(),
      testDigestKey,
    );
    expect(
      (await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send([registration])).sent,
    ).toBe(1);
    const consumeOnce = async (handler: () => Promise<void>) => {
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
    };
    expect(
      await consumeOnce(async () => {
        throw new PoisonMessageError("bad-template", "the template is broken");
      }),
    ).toMatchObject({ deadLettered: 1 });
    const report = await redrive({
      client: sqs.client,
      queues: { queueUrl: sqs.queueUrl, deadLetterQueueUrl: sqs.deadLetterQueueUrl },
      ratePerSecond: 10,
      waitTimeSeconds: 0,
    });
    expect(report).toMatchObject({ path: "client-side", moved: 1, failed: 0 });
    expect(await consumeOnce(async () => {})).toMatchObject({ processed: 1 });

    const spans = exporter.getFinishedSpans();
    const [create] = spans.filter((s) => s.name.startsWith("create "));
    const createdId = create?.spanContext().spanId;
    expect(createdId).toBeDefined();
    const dlqName = sqs.deadLetterQueueUrl.split("/").at(-1);
    const mainName = sqs.queueUrl.split("/").at(-1);
    const [command] = spans.filter((s) => s.name === `redrive ${dlqName}`);
    expect(command?.kind).toBe(SpanKind.INTERNAL);
    expect(command?.attributes).toMatchObject({
      "sqs_messaging.redrive.path": "client-side",
      "sqs_messaging.redrive.moved": 1,
      "sqs_messaging.redrive.failed": 0,
    });
    // The redrive's batch spans are the command's children; its send links to the original create.
    const children = spans.filter((s) => s.parentSpanContext?.spanId === command?.spanContext().spanId);
    // (a second receive, empty, ends the run)
    expect(new Set(children.map((s) => s.name))).toEqual(
      new Set([`receive ${dlqName}`, `send ${mainName}`, `delete ${dlqName}`]),
    );
    // The dead-lettering: one send on the dead-letter queue, linked to the create context too.
    const deadLettering = spans.filter((s) => s.name === `send ${dlqName}`);
    expect(deadLettering).toHaveLength(1);
    expect(deadLettering[0]?.kind).toBe(SpanKind.CLIENT);
    expect(deadLettering[0]?.links.map((l) => l.context.spanId)).toEqual([createdId]);
    const redriveSend = children.find((s) => s.name === `send ${mainName}`);
    expect(redriveSend?.links.map((l) => l.context.spanId)).toEqual([createdId]);
    // Both process spans (the dead-lettering one and the one after the redrive) link to it too.
    const processes = spans.filter((s) => s.name === `process ${mainName}`);
    expect(processes).toHaveLength(2);
    for (const process of processes) expect(process.links[0]?.context.spanId).toBe(createdId);
    const everything = JSON.stringify(spans.map((s) => ({ name: s.name, attributes: s.attributes })));
    expect(everything).not.toMatch(/rui|costa/i);
  });

  it("a body that fits the queue's size but leaves no room for the trace context is sent without it", async () => {
    const small = await startTestSqs({ maximumMessageSizeBytes: 1024 });
    try {
      const base = toOutgoing(
        { nome: "Rui Costa", email: "rui@example.com" },
        () => new Date(),
        testDigestKey,
      );
      const roomy = { ...base, id: "reg_roomy" };
      // Padding that makes the body exactly the limit: fits alone, not with a traceparent.
      const empty = Buffer.byteLength(bodyOf({ ...base, id: "reg_full", extra: "" }));
      const full = { ...base, id: "reg_full", extra: "x".repeat(1024 - empty) };
      expect(Buffer.byteLength(bodyOf(full))).toBe(1024);
      const producer = new Producer({
        client: small.client,
        queueUrl: small.queueUrl,
        maxMessageBytes: 1024,
      });
      expect(await producer.send([full, roomy])).toMatchObject({ sent: 2, failed: [] });
      const received = await receiveAll(small.client, small.queueUrl);
      const attributesOf = (id: string) =>
        Object.keys(received.find((m) => JSON.parse(m.Body ?? "{}").id === id)?.MessageAttributes ?? {});
      expect(attributesOf("reg_full")).toEqual([]);
      expect(attributesOf("reg_roomy")).toContain("traceparent");
    } finally {
      await small.close();
    }
  });

  it("injects nothing into a message that already has SQS's 10 attributes", () => {
    expect(createContextAttributes(sqs.queueUrl, MAX_MESSAGE_ATTRIBUTES).attributes).toEqual({});
    expect(Object.keys(createContextAttributes(sqs.queueUrl, MAX_MESSAGE_ATTRIBUTES - 1).attributes)).toEqual(
      ["traceparent"],
    );
  });
});
