/**
 * The signed fact an accepted send travels on (row S9 of docs/email-delivery.md, Lambda column):
 * valid only under the deployment's digest key and for the registration the body holds; the
 * copy's attributes keep it and the trace context within SQS's 10; a dead-lettering keeps it.
 */
import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  ACCEPTED_SEND_ATTRIBUTE,
  type AcceptedSendFact,
  acceptedSendAttribute,
  readAcceptedSend,
} from "../../src/contract/accepted-send-attribute.js";
import { withDeadLetterAttributes } from "../../src/contract/dead-letter.js";
import { DigestKey } from "../../src/contract/digest.js";
import { copyAttributes } from "../../src/lambda/accepted-copy.js";
import { detail } from "../../src/ops/dlq.js";
import { MESSAGE_ATTRIBUTES_MAX } from "../../src/sqs/limits.js";
import { testDigestKey } from "../support/digest-key.js";

const fact: AcceptedSendFact = {
  id: "reg-1",
  digest: "a".repeat(64),
  owner: "6f1c1f0e-7a43-4f55-9d0b-0d3c5f1e2a11",
  leaseUntil: 1_765_000_035_000,
  acceptedAt: 1_765_000_001_000,
};
const registration = { id: fact.id, digests: [fact.digest] };
const read = (value: MessageAttributeValue, key = testDigestKey, which = registration) =>
  readAcceptedSend({ [ACCEPTED_SEND_ATTRIBUTE]: value }, key, which);
const text = (v: string): MessageAttributeValue => ({ DataType: "String", StringValue: v });

describe("the accepted-send attribute", () => {
  it("reads back what it signed, for the registration it names (either of its digests)", () => {
    expect(read(acceptedSendAttribute(fact, testDigestKey))).toEqual({ kind: "valid", fact });
    const legacy = { id: fact.id, digests: ["b".repeat(64), fact.digest] };
    expect(read(acceptedSendAttribute(fact, testDigestKey), testDigestKey, legacy).kind).toBe("valid");
    expect(readAcceptedSend({}, testDigestKey, registration)).toEqual({ kind: "absent" });
    expect(readAcceptedSend(undefined, testDigestKey, registration)).toEqual({ kind: "absent" });
  });

  it("carries no name or address: the id, the keyed digest, the owner token, two times", () => {
    const value = JSON.parse(acceptedSendAttribute(fact, testDigestKey).StringValue ?? "");
    expect(Object.keys(value).sort()).toEqual(
      ["acceptedAt", "digest", "id", "leaseUntil", "owner", "sig", "v"].sort(),
    );
  });

  it("ignores a value signed with another key, or changed after signing", () => {
    const otherKey = new DigestKey("another-deployment-key-0123456789abcdef0123");
    expect(read(acceptedSendAttribute(fact, otherKey))).toEqual({ kind: "ignored", reason: "signature" });
    const value = JSON.parse(acceptedSendAttribute(fact, testDigestKey).StringValue ?? "");
    for (const change of [{ owner: "mine-now" }, { leaseUntil: fact.leaseUntil + 1 }, { acceptedAt: 0 }]) {
      expect(read(text(JSON.stringify({ ...value, ...change }))), JSON.stringify(change)).toEqual({
        kind: "ignored",
        reason: "signature",
      });
    }
  });

  it("ignores a signed fact moved onto another registration's message", () => {
    const signed = acceptedSendAttribute(fact, testDigestKey);
    expect(read(signed, testDigestKey, { id: "reg-2", digests: [fact.digest] }).kind).toBe("ignored");
    expect(read(signed, testDigestKey, { id: fact.id, digests: ["c".repeat(64)] })).toEqual({
      kind: "ignored",
      reason: "other-registration",
    });
  });

  it("ignores what is not a signed fact: unsigned, not JSON, another type, oversized, unknown fields", () => {
    const value = JSON.parse(acceptedSendAttribute(fact, testDigestKey).StringValue ?? "");
    const { sig: _sig, ...unsigned } = value;
    const cases: MessageAttributeValue[] = [
      text(JSON.stringify(unsigned)),
      text("sent"),
      { DataType: "Number", StringValue: "1" },
      { DataType: "Binary", BinaryValue: new Uint8Array([1]) },
      text(JSON.stringify({ ...value, owner: "x".repeat(2_000) })),
      text(JSON.stringify({ ...value, extra: true })),
      text(JSON.stringify({ ...value, v: 2 })),
    ];
    for (const attribute of cases) {
      expect(read(attribute), JSON.stringify(attribute)).toEqual({ kind: "ignored", reason: "malformed" });
    }
  });
});

describe("the copy's attributes", () => {
  const many = (n: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`attr${i}`, text(String(i))]));

  it("put the fact first and keep the trace context, within SQS's 10", () => {
    const original = {
      ...many(10),
      traceparent: text("00-abc-def-01"),
      [ACCEPTED_SEND_ATTRIBUTE]: text("x"),
    };
    const { attributes, dropped } = copyAttributes(fact, testDigestKey, original);
    expect(Object.keys(attributes)).toHaveLength(MESSAGE_ATTRIBUTES_MAX);
    expect(Object.keys(attributes).slice(0, 2)).toEqual([ACCEPTED_SEND_ATTRIBUTE, "traceparent"]);
    expect(read(attributes[ACCEPTED_SEND_ATTRIBUTE] as MessageAttributeValue).kind).toBe("valid");
    expect(dropped).toEqual(["attr8", "attr9"]);
  });

  it("survive a dead-lettering ahead of the message's other attributes", () => {
    const original = { ...many(8), [ACCEPTED_SEND_ATTRIBUTE]: acceptedSendAttribute(fact, testDigestKey) };
    const dead = withDeadLetterAttributes(
      { reason: "id-conflict", error: "e", sourceMessageId: "m", sourceQueueUrl: "q" },
      original,
    );
    expect(Object.keys(dead)).toHaveLength(MESSAGE_ATTRIBUTES_MAX);
    expect(dead[ACCEPTED_SEND_ATTRIBUTE]).toEqual(original[ACCEPTED_SEND_ATTRIBUTE]);
  });

  it("is shown by `dlq show`, the other attributes listed as before", () => {
    const shown = detail({
      MessageId: "d1",
      Body: "{}",
      MessageAttributes: { [ACCEPTED_SEND_ATTRIBUTE]: acceptedSendAttribute(fact, testDigestKey) },
    });
    expect(shown.acceptedSend).toBe(true);
    expect(shown.otherAttributes.map((a) => a.name)).toEqual([ACCEPTED_SEND_ATTRIBUTE]);
    expect(detail({ MessageId: "d2", Body: "{}" }).acceptedSend).toBe(false);
  });
});
