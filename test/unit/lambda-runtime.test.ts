/**
 * A container of the function against a stub SQS and a store in memory: the queue read once, the
 * dead-letter queue found from its RedrivePolicy, one registration sent once however often it is
 * delivered, and one EMF line per invocation.
 */
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import { describe, expect, it, vi } from "vitest";
import { FUNCTION_SETTLE_MARGIN_MS as SETTLE_MARGIN_MS } from "../../src/config/limits.js";
import { EnvironmentFaultError } from "../../src/consumer/errors.js";
import type { Mailer } from "../../src/consumer/mail/mailer.js";
import type { SentEmailStore } from "../../src/consumer/store/contract.js";
import { storeTiming } from "../../src/consumer/store/timing.js";
import {
  ACCEPTED_SEND_ATTRIBUTE,
  acceptedSendAttribute,
} from "../../src/contract/accepted-send-attribute.js";
import { DigestKey, registrationDigest } from "../../src/contract/digest.js";
import { EMF_DIMENSION, EMF_METRICS } from "../../src/contract/metrics.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { toRecord } from "../../src/lambda/records.js";
import { type LambdaRuntime, startLambdaRuntime } from "../../src/lambda/runtime.js";
import { createLogger } from "../../src/log/logger.js";
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

  // Side by side: each case builds its own store, queue stub, mailer and containers (setup), and
  // most of each is waiting for an invocation's settling margin in real time.
  describe.concurrent("S9: accepted, then the store down at markSent until the invocation ends", () => {
    const SEND_TIMEOUT_MS = 500;
    const registration = toOutgoing(
      { nome: "Maria", email: "maria@example.com" },
      () => new Date(),
      testDigestKey,
    );
    const other = toOutgoing({ nome: "Ana", email: "ana@example.com" }, () => new Date(), testDigestKey);
    const record = (
      id: string,
      body: string,
      receiveCount = 1,
      extra: Pick<Message, "MessageAttributes"> & { group?: string } = {},
    ) =>
      toRecord(
        {
          MessageId: id,
          ReceiptHandle: `rh-${id}`,
          Body: body,
          Attributes: {
            ApproximateReceiveCount: String(receiveCount),
            ...(extra.group ? { MessageGroupId: extra.group } : {}),
          },
          ...(extra.MessageAttributes ? { MessageAttributes: extra.MessageAttributes } : {}),
        },
        ARN,
        "us-east-1",
      );

    /**
     * Containers on one table and one queue (a stub that keeps what is sent to the queue, so a
     * copy can be delivered), a store whose markSent can be cut, and the emails the mail side saw.
     */
    async function setup(options: { fifo?: boolean } = {}) {
      const backend = memoryBackend();
      const timing = storeTiming(SEND_TIMEOUT_MS);
      const markSentDown = { value: false };
      const copySendFails = { value: false };
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
            ...(options.fifo ? { FifoQueue: "true" } : {}),
          },
        }),
        SendMessage: (input) => {
          if (input.QueueUrl === QUEUE_URL && copySendFails.value) throw new Error("SQS answers 500");
          return { MessageId: `copy-${sqs.named("SendMessage").length}` };
        },
        ChangeMessageVisibilityBatch: () => ({ Failed: [] }),
      });
      /** What was sent back to the registrations queue (the copies), and each as its next delivery. */
      const copies = () => sqs.named("SendMessage").filter((input) => input.QueueUrl === QUEUE_URL);
      const delivered = (n: number, receiveCount = 1) => {
        const input = copies()[n] as { MessageBody: string; MessageAttributes: Message["MessageAttributes"] };
        return record(`copy-${n}`, input.MessageBody, receiveCount, {
          MessageAttributes: input.MessageAttributes,
        });
      };
      const logs: Record<string, unknown>[] = [];
      const logger = createLogger({
        level: "info",
        destination: { write: (line: string) => logs.push(JSON.parse(line)) },
      });
      const open = () =>
        startLambdaRuntime({
          client: sqs.client,
          queueUrl: QUEUE_URL,
          store: store(),
          mailer,
          digestKey: testDigestKey,
          sendTimeoutMs: SEND_TIMEOUT_MS,
          logger,
        });
      /** An invocation with time for one lease, after which markSent is retried until the margin. */
      const short = (leaseMs: number) => {
        const started = Date.now();
        const budget = leaseMs + SETTLE_MARGIN_MS + 200;
        return () => Math.max(0, budget - (Date.now() - started));
      };
      /** The first container sends, the store is down at markSent until the invocation ends. */
      async function acceptedUnrecorded(a: LambdaRuntime, extra: { group?: string } = {}) {
        markSentDown.value = true;
        const response = await a.handle(
          { Records: [record("m1", JSON.stringify(registration), 1, extra)] },
          short(a.leaseMs),
        );
        expect(sent).toEqual([registration.id]);
        // Any later delivery comes only after the fault's visibility: past the claim's lease.
        const leaseUntil = backend.records.get(registration.id)?.leaseUntil ?? 0;
        await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(leaseUntil), { timeout: 5_000 });
        return response;
      }
      return {
        backend,
        sqs,
        sent,
        logs,
        open,
        short,
        copies,
        delivered,
        markSentDown,
        copySendFails,
        acceptedUnrecorded,
      };
    }

    it("the invocation hands the fact to a signed copy: another container receiving it first, store back, sends nothing and writes the record", async () => {
      const t = await setup();
      const [a, b] = [await t.open(), await t.open()];
      const first = await t.acceptedUnrecorded(a);
      // The original is done (the mapping deletes it); its fact travels on one copy.
      expect(first.batchItemFailures).toEqual([]);
      expect(t.copies()).toHaveLength(1);
      expect(t.copies()[0]).toMatchObject({ MessageBody: JSON.stringify(registration), DelaySeconds: 30 });
      expect(a.acceptedCopies).toEqual({ sent: 1, failed: 0 });
      t.markSentDown.value = false;

      const back = await b.handle({ Records: [t.delivered(0)] }, () => 60_000);
      expect(back.batchItemFailures).toEqual([]);
      expect(t.sent).toEqual([registration.id]);
      expect(t.backend.records.get(registration.id)?.state).toBe("sent");
      expect(b.emails).toMatchObject({ sent: 0, duplicates: 1, recordedLate: 1 });
      // Nothing else was sent anywhere (no second copy, nothing dead-lettered).
      expect(t.sqs.named("SendMessage")).toHaveLength(1);
    });

    it("the container's next invocation writes the record too; the copy then sends nothing", async () => {
      const t = await setup();
      const [a, b] = [await t.open(), await t.open()];
      await t.acceptedUnrecorded(a);
      t.markSentDown.value = false;
      const next = await a.handle({ Records: [record("m2", JSON.stringify(other))] }, () => 60_000);
      expect(next.batchItemFailures).toEqual([]);
      expect(a.emails.recordedLate).toBe(1);
      const back = await b.handle({ Records: [t.delivered(0)] }, () => 60_000);
      expect(back.batchItemFailures).toEqual([]);
      expect(t.sent).toEqual([registration.id, other.id]);
      expect(b.emails).toMatchObject({ sent: 0, duplicates: 1 });
    });

    it("the copy's receiver with the store still down keeps it: named with the fault's visibility, no new copy, nothing sent", async () => {
      const t = await setup();
      const [a, b, c] = [await t.open(), await t.open(), await t.open()];
      await t.acceptedUnrecorded(a);
      const again = await b.handle({ Records: [t.delivered(0)] }, t.short(b.leaseMs));
      expect(again.batchItemFailures).toEqual([{ itemIdentifier: "copy-0" }]);
      expect(t.sqs.named("ChangeMessageVisibilityBatch").at(-1)).toMatchObject({
        Entries: [{ ReceiptHandle: "rh-copy-0", VisibilityTimeout: 30 }],
      });
      expect(t.copies()).toHaveLength(1);
      expect(b.acceptedCopies).toEqual({ sent: 0, failed: 0 });
      t.markSentDown.value = false;
      // The same copy, attribute and all, at its next receive: the record, still no email.
      const later = await c.handle({ Records: [t.delivered(0, 2)] }, () => 60_000);
      expect(later.batchItemFailures).toEqual([]);
      expect(t.sent).toEqual([registration.id]);
      expect(t.backend.records.get(registration.id)?.state).toBe("sent");
    });

    it("a copy that cannot be sent falls back: the original is named, and a container without the fact may send a second copy (the double fault's bound)", async () => {
      const t = await setup();
      const [a, b] = [await t.open(), await t.open()];
      t.copySendFails.value = true;
      const first = await t.acceptedUnrecorded(a);
      expect(first.batchItemFailures).toEqual([{ itemIdentifier: "m1" }]);
      expect(t.copies()).toHaveLength(1); // tried
      expect(a.acceptedCopies).toEqual({ sent: 0, failed: 1 });
      t.markSentDown.value = false;
      const back = await b.handle({ Records: [record("m1", JSON.stringify(registration), 2)] }, () => 60_000);
      expect(back.batchItemFailures).toEqual([]);
      expect(t.sent).toEqual([registration.id, registration.id]);
    });

    it("FIFO: the copy goes to the original's group, deduplicated on the original's id, with no delay", async () => {
      const t = await setup({ fifo: true });
      const a = await t.open();
      const first = await t.acceptedUnrecorded(a, { group: "g1" });
      expect(first.batchItemFailures).toEqual([]);
      const [copy] = t.copies();
      expect(copy).toMatchObject({ MessageGroupId: "g1", MessageDeduplicationId: "accepted-send-m1" });
      expect(copy).not.toHaveProperty("DelaySeconds");
    });

    describe("an attribute that does not verify is ignored: the registration is mailed once, one line logged", () => {
      const otherKey = new DigestKey("another-deployment-key-0123456789abcdef0123");
      const fact = {
        id: other.id,
        digest: registrationDigest(other, testDigestKey),
        owner: "forged-owner",
        leaseUntil: 1,
        acceptedAt: 1,
      };
      const signed = acceptedSendAttribute(fact, testDigestKey);
      const unsigned = JSON.stringify({ ...JSON.parse(signed.StringValue ?? "{}"), sig: undefined });
      const cases: [string, MessageAttributeValue, string][] = [
        ["unsigned", { DataType: "String", StringValue: unsigned }, "malformed"],
        ["signed with another key", acceptedSendAttribute(fact, otherKey), "signature"],
        [
          "signed for another registration",
          acceptedSendAttribute({ ...fact, id: registration.id }, testDigestKey),
          "other-registration",
        ],
        ["not JSON", { DataType: "String", StringValue: "sent, trust me" }, "malformed"],
      ];
      /** One delivery of `other`'s registration carrying `attribute`. */
      const deliverWith = (runtime: LambdaRuntime, messageId: string, attribute: MessageAttributeValue) =>
        runtime.handle(
          {
            Records: [
              record(messageId, JSON.stringify(other), 1, {
                MessageAttributes: { [ACCEPTED_SEND_ATTRIBUTE]: attribute },
              }),
            ],
          },
          () => 60_000,
        );
      it.each(cases)("%s", async (_, attribute, reason) => {
        const t = await setup();
        const response = await deliverWith(await t.open(), "f1", attribute);
        expect(response.batchItemFailures).toEqual([]);
        expect(t.sent).toEqual([other.id]);
        const ignored = t.logs.filter((line) => String(line.msg).includes("accepted-send attribute"));
        expect(ignored).toHaveLength(1);
        expect(ignored[0]).toMatchObject({ reason, registrationId: other.id, messageId: "f1" });
        expect(JSON.stringify(ignored[0])).not.toContain("ana@example.com");
      });

      it("while the signed one, on its registration, is taken: nothing mailed, the record written", async () => {
        const t = await setup();
        const a = await t.open();
        const claimed = await t.backend.makeStore(storeTiming(SEND_TIMEOUT_MS)).claim(other.id, fact.digest);
        if (claimed.outcome !== "claimed") throw new Error("not claimed");
        const attribute = acceptedSendAttribute(
          { ...fact, owner: claimed.claim.owner, leaseUntil: claimed.claim.leaseUntil },
          testDigestKey,
        );
        const response = await deliverWith(a, "v1", attribute);
        expect(response.batchItemFailures).toEqual([]);
        expect(t.sent).toEqual([]);
        expect(t.backend.records.get(other.id)?.state).toBe("sent");
      });
    });
  });
});
