/**
 * Bounces and complaints end to end on fauxqs: an SES bounce event (SNS → SQS) on a second queue,
 * handled by the bounce handler on the same consumer runtime, then a registration for that
 * address: no email, counted as suppressed.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateQueueCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { PoisonMessageError } from "../../src/consumer/errors.js";
import { type BounceCounts, bounceHandler, suppressionsIn } from "../../src/consumer/mail/bounces.js";
import { SmtpMailer } from "../../src/consumer/mail/smtp.js";
import { MemorySuppressionList, SqliteSuppressionList } from "../../src/consumer/mail/suppression.js";
import { type RegistrationCounts, registrationHandler } from "../../src/consumer/registration-handler.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { claimLeaseMs } from "../../src/consumer/store/timing.js";
import { addressDigest } from "../../src/contract/digest.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { testDigestKey } from "../support/digest-key.js";
import { startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";
import { memoryBackend } from "../support/memory-store.js";
import { startTestSmtp } from "../support/smtp.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** An SES event as SNS delivers it to SQS (not raw): the event JSON inside `Message`. */
function viaSns(event: unknown): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: "5a1f0c8e-0000-0000-0000-000000000000",
    TopicArn: "arn:aws:sns:us-east-1:123456789012:ses-events",
    Message: JSON.stringify(event),
    Timestamp: new Date().toISOString(),
  });
}

const hardBounce = (address: string) => ({
  eventType: "Bounce",
  bounce: {
    bounceType: "Permanent",
    bounceSubType: "General",
    bouncedRecipients: [{ emailAddress: address, action: "failed", status: "5.1.1" }],
    timestamp: new Date().toISOString(),
  },
  mail: { messageId: "ses-1", destination: [address] },
});

describe("SES events", () => {
  it("a hard bounce and a complaint suppress; a soft bounce and a delivery do not", () => {
    expect(suppressionsIn(viaSns(hardBounce("a@example.com")))).toEqual({
      reason: "bounce",
      addresses: ["a@example.com"],
    });
    expect(
      suppressionsIn(
        JSON.stringify({
          notificationType: "Complaint",
          complaint: { complainedRecipients: [{ emailAddress: '"B" <b@example.com>' }] },
        }),
      ),
    ).toEqual({ reason: "complaint", addresses: ["b@example.com"] });
    const soft = hardBounce("c@example.com");
    soft.bounce.bounceType = "Transient";
    expect(suppressionsIn(viaSns(soft))).toBeUndefined();
    expect(suppressionsIn(viaSns({ eventType: "Delivery", delivery: {} }))).toBeUndefined();
  });

  it("anything else is poison: not JSON, or not an SES event", () => {
    expect(() => suppressionsIn("nope")).toThrow(PoisonMessageError);
    expect(() => suppressionsIn(JSON.stringify({ hello: 1 }))).toThrow(PoisonMessageError);
    expect(() =>
      suppressionsIn(viaSns({ eventType: "Bounce", bounce: { bounceType: "Permanent" } })),
    ).toThrow(PoisonMessageError);
  });

  it("the SQLite list keeps a digest, survives a reopen, and is idempotent", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "suppression-")), "suppressed.sqlite");
    const digest = addressDigest("Ana@Example.COM", testDigestKey);
    expect(digest).toBe(addressDigest(" Ana@example.com ", testDigestKey));
    expect(digest).toBe(addressDigest("ana@example.com", testDigestKey)); // one mailbox, whatever its case
    const first = new SqliteSuppressionList(path);
    await first.suppress(digest, "bounce");
    await first.suppress(digest, "complaint");
    first.close();
    const again = new SqliteSuppressionList(path);
    cleanups.push(() => again.close());
    expect(await again.isSuppressed(digest)).toBe(true);
    expect(await again.isSuppressed(addressDigest("other@example.com", testDigestKey))).toBe(false);
  });
});

describe("suppression end to end on fauxqs", () => {
  let sqs: TestSqs;

  it("a bounce event on the bounce queue, then a registration for that address: no email, counted", async () => {
    sqs = await startTestSqs();
    cleanups.push(() => sqs.close());
    const server = await startTestSmtp();
    cleanups.push(() => server.close());
    const { QueueUrl: bounceQueueUrl = "" } = await sqs.client.send(
      new CreateQueueCommand({ QueueName: "registrations-ses-events" }),
    );
    const suppression = new MemorySuppressionList();

    // The bounce consumer: same runtime, the bounce handler.
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: bounceQueueUrl,
        MessageBody: viaSns(hardBounce("bounced@example.com")),
      }),
    );
    const bounceCounts: BounceCounts = { suppressed: 0, ignored: 0 };
    const bounces = new Consumer({
      client: sqs.client,
      queueUrl: bounceQueueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      stopWhenEmpty: true,
      handler: bounceHandler({ digestKey: testDigestKey, suppression, counts: bounceCounts }),
    });
    bounces.start();
    expect(await bounces.finished).toMatchObject({ processed: 1, deadLettered: 0 });
    expect(bounceCounts.suppressed).toBe(1);

    // The welcome consumer: one registration for the bounced address, one for another.
    for (const registration of [
      { nome: "Bia", email: "bounced@example.com" },
      { nome: "Caio", email: "caio@example.com" },
    ]) {
      await sqs.client.send(
        new SendMessageCommand({
          QueueUrl: sqs.queueUrl,
          MessageBody: JSON.stringify(toOutgoing(registration, () => new Date(), testDigestKey)),
        }),
      );
    }
    const counts: RegistrationCounts = { sent: 0, duplicates: 0, conflicts: 0, suppressed: 0 };
    // The lease that goes with the mailer's send timeout, as the consumer derives it.
    const mailer = new SmtpMailer({ url: server.url });
    const welcome = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      stopWhenEmpty: true,
      handler: registrationHandler(mailer, {
        digestKey: testDigestKey,
        store: memoryBackend().makeStore({
          leaseMs: claimLeaseMs(mailer.sendTimeoutMs),
          retentionMs: 60_000,
        }),
        suppression,
        counts,
      }),
    });
    cleanups.push(() => welcome.stop());
    welcome.start();
    await waitFor(() => counts.sent + (counts.suppressed ?? 0) === 2, "both registrations handled");
    expect(await welcome.finished).toMatchObject({ processed: 2, deadLettered: 0 });
    expect(counts).toMatchObject({ sent: 1, suppressed: 1 });
    expect(server.received.map((r) => r.to)).toEqual([["caio@example.com"]]);
  });
});
