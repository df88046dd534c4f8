/** The dead-letter attributes' reader: what `dlq list|show` and `dlq redrive --reason` go by. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import {
  DEAD_LETTER_ATTRIBUTES,
  MAX_RECEIVES_REASON,
  readDeadLetterAttributes,
  UNKNOWN_REASON,
} from "../../src/contract/dead-letter.js";

const text = (v: string) => ({ DataType: "String", StringValue: v });

describe("reading a dead-lettered message", () => {
  it("names the reason: ours, SQS's own move after maxReceiveCount, or unknown", () => {
    const ours = { MessageAttributes: { [DEAD_LETTER_ATTRIBUTES.reason]: text("not-json") } };
    expect(readDeadLetterAttributes(ours).reason).toBe("not-json");
    const moved = { Attributes: { DeadLetterQueueSourceArn: "arn:aws:sqs:x:1:q" } };
    expect(readDeadLetterAttributes(moved).reason).toBe(MAX_RECEIVES_REASON);
    expect(readDeadLetterAttributes({}).reason).toBe(UNKNOWN_REASON);
  });

  it("reads the error, the source and the dropped attribute names, null or empty when absent", () => {
    const message = {
      MessageAttributes: {
        [DEAD_LETTER_ATTRIBUTES.error]: text("body is not JSON"),
        [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: text("m-1"),
        [DEAD_LETTER_ATTRIBUTES.sourceQueueUrl]: text("https://sqs.example/q"),
        [DEAD_LETTER_ATTRIBUTES.droppedAttributes]: text("a,b"),
      },
    };
    expect(readDeadLetterAttributes(message)).toEqual({
      reason: UNKNOWN_REASON,
      error: "body is not JSON",
      sourceMessageId: "m-1",
      sourceQueueUrl: "https://sqs.example/q",
      droppedAttributes: ["a", "b"],
    });
    expect(readDeadLetterAttributes({})).toEqual({
      reason: UNKNOWN_REASON,
      error: null,
      sourceMessageId: null,
      sourceQueueUrl: null,
      droppedAttributes: [],
    });
  });
});

describe("the names operators read", () => {
  it("are the ones docs/operations.md gives, with the reasons it names", () => {
    const doc = readFileSync(join(projectRoot, "docs", "operations.md"), "utf8");
    for (const name of [...Object.values(DEAD_LETTER_ATTRIBUTES), MAX_RECEIVES_REASON, UNKNOWN_REASON]) {
      expect(doc).toContain(`\`${name}\``);
    }
  });
});
