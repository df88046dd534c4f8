/**
 * Dead-lettering a message that arrived with SQS's 10 attributes (fauxqs in process): the reason,
 * the error and the source come first, then the trace context, then the message's own attributes
 * while room remains, and the names that did not fit are listed in one attribute. Read back from
 * the dead-letter queue itself, and through `dlq show`'s reader and the redrive's stripping.
 */

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type MessageAttributeValue, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PoisonMessageError } from "../../src/consumer/errors.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { DEAD_LETTER_ATTRIBUTES, withDeadLetterAttributes } from "../../src/contract/dead-letter.js";
import { writeOutputs } from "../../src/local/stack.js";
import { detail } from "../../src/ops/dlq.js";
import { redriveAttributes } from "../../src/ops/redrive.js";
import { MESSAGE_ATTRIBUTES_MAX } from "../../src/sqs/limits.js";
import { runCli } from "../support/cli.js";
import { queueDepth, receiveAll, startTestSqs, type TestSqs } from "../support/local-sqs.js";

let sqs: TestSqs;
beforeAll(async () => {
  sqs = await startTestSqs();
});
afterAll(() => sqs?.close());

const text = (value: string): MessageAttributeValue => ({ DataType: "String", StringValue: value });

describe("dead-lettering a message with 10 attributes", () => {
  it("keeps the reason, the source and the trace context, and lists the names it had to drop", async () => {
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const tracestate = "vendor=opaque";
    // Eight of the sender's own, named to sort (and be sent) before the trace context: a "first
    // six that fit" rule drops traceparent whatever order the queue returns them in.
    const own = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`app-${i}`, text(`value-${i}`)]));
    const sent = { ...own, traceparent: text(traceparent), tracestate: text(tracestate) };
    expect(Object.keys(sent)).toHaveLength(MESSAGE_ATTRIBUTES_MAX);
    const { MessageId } = await sqs.client.send(
      new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "poison", MessageAttributes: sent }),
    );

    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      handler: async () => {
        throw new PoisonMessageError("not-json", "body is not JSON (length 6 bytes)");
      },
      concurrency: 1,
      waitTimeSeconds: 0,
      stopWhenEmpty: true,
    });
    await consumer.start();
    expect(await consumer.finished).toMatchObject({ deadLettered: 1 });
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);

    // What an operator sees: `dlq show` prints the dropped names (before this test hides the message).
    const stateDir = await mkdtemp(join(tmpdir(), "dead-letter-attributes-"));
    await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
    const listed = await runCli("dlq", ["list", "--json", "--state-dir", stateDir]);
    const [listedId] = (JSON.parse(listed.stdout) as { id: string }[]).map((m) => m.id);
    const shownCli = await runCli("dlq", ["show", listedId ?? "?", "--state-dir", stateDir]);
    expect(shownCli.code, shownCli.stderr).toBe(0);
    const droppedLine = shownCli.stdout
      .split("\n")
      .find((line) => line.includes("dropped when dead-lettered"));

    const [dead, ...more] = await receiveAll(sqs.client, sqs.deadLetterQueueUrl);
    expect(more).toEqual([]);
    const attributes = dead?.MessageAttributes ?? {};
    const value = (name: string) => attributes[name]?.StringValue;
    expect(Object.keys(attributes)).toHaveLength(MESSAGE_ATTRIBUTES_MAX);
    expect(value(DEAD_LETTER_ATTRIBUTES.reason)).toBe("not-json");
    expect(value(DEAD_LETTER_ATTRIBUTES.error)).toBe("body is not JSON (length 6 bytes)");
    expect(value(DEAD_LETTER_ATTRIBUTES.sourceMessageId)).toBe(MessageId);
    expect(value(DEAD_LETTER_ATTRIBUTES.sourceQueueUrl)).toBe(sqs.queueUrl);
    expect(value("traceparent")).toBe(traceparent);
    expect(value("tracestate")).toBe(tracestate);
    // Every original attribute is either kept (with its value) or named in the list: none vanished.
    const dropped = (value(DEAD_LETTER_ATTRIBUTES.droppedAttributes) ?? "").split(",").filter(Boolean);
    const kept = Object.keys(own).filter((name) => name in attributes);
    for (const name of kept) expect(value(name)).toBe(own[name]?.StringValue);
    expect(dropped.length).toBeGreaterThan(0);
    expect([...kept, ...dropped].sort()).toEqual(Object.keys(own).sort());
    expect(dropped.filter((name) => name in attributes)).toEqual([]);

    // The readers: `dlq show` lists the dropped names apart; a redrive strips every name of ours.
    const shown = detail(dead ?? {});
    expect(shown.droppedAttributes).toEqual(dropped);
    for (const name of dropped) expect(droppedLine).toContain(name);
    expect(shown.otherAttributes.map((a) => a.name).sort()).toEqual(
      ["traceparent", "tracestate", ...kept].sort(),
    );
    expect(Object.keys(redriveAttributes(attributes)).sort()).toEqual(
      ["traceparent", "tracestate", ...kept].sort(),
    );
  });

  it("adds no list of dropped names when everything fits, and sends values as SendMessage takes them", () => {
    const received = {
      traceparent: {
        DataType: "String",
        StringValue: "00-abc-def-01",
        StringListValues: [],
        BinaryListValues: [],
      },
      "app-0": { DataType: "Number", StringValue: "7", StringListValues: [], BinaryListValues: [] },
    };
    const attributes = withDeadLetterAttributes(
      { reason: "not-json", error: "e", sourceMessageId: "m", sourceQueueUrl: "q" },
      received,
    );
    expect(Object.keys(attributes)).not.toContain(DEAD_LETTER_ATTRIBUTES.droppedAttributes);
    expect(attributes.traceparent).toEqual({ DataType: "String", StringValue: "00-abc-def-01" });
    expect(attributes["app-0"]).toEqual({ DataType: "Number", StringValue: "7" });
  });
});
