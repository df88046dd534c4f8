/**
 * The SMTP transport against a real SMTP server on 127.0.0.1: what each kind of answer means for
 * the message (accepted, dead-lettered with the reason, a pause for the breaker), then the same
 * through the consumer runtime on fauxqs.
 */
import { afterEach, describe, expect, it } from "vitest";
import { EnvironmentFaultError, NotSentError, PoisonMessageError } from "../../src/consumer/errors.js";
import { maskSmtpUrl, parseSmtpUrl, SmtpMailer } from "../../src/consumer/mail/smtp.js";
import { registrationHandler } from "../../src/consumer/registration-handler.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { DEAD_LETTER_ATTRIBUTES } from "../../src/contract/dead-letter.js";
import { type Registration, toOutgoing } from "../../src/contract/registration.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, receiveAll, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";
import { memoryBackend } from "../support/memory-store.js";
import { faultsInOrder, refusedPort, startDroppingSmtp, startTestSmtp } from "../support/smtp.js";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const ana: Registration = { nome: "Ana Lúcia", email: "ana.lucia@example.com" };

async function smtp(script?: Parameters<typeof startTestSmtp>[0]) {
  const server = await startTestSmtp(script);
  cleanups.push(() => server.close());
  return server;
}

async function failureOf(mailer: SmtpMailer): Promise<unknown> {
  return mailer.send(ana, "reg_1").then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("SMTP URL", () => {
  it("requires TLS unless the host is loopback, and never shows the credentials", () => {
    expect(parseSmtpUrl("smtp://127.0.0.1:2525")).toMatchObject({ secure: false, requireTLS: false });
    expect(parseSmtpUrl("smtp://user:p%40ss@mail.example.com")).toMatchObject({
      port: 587,
      requireTLS: true,
      auth: { user: "user", pass: "p@ss" },
    });
    expect(parseSmtpUrl("smtps://mail.example.com")).toMatchObject({ port: 465, secure: true });
    expect(maskSmtpUrl("smtp://user:secret@mail.example.com:587")).toBe("smtp://***@mail.example.com:587");
    expect(() => parseSmtpUrl("http://user:secret@mail.example.com")).toThrow(/^(?!.*secret).*smtp:\/\//);
  });
});

describe("SMTP transport against a real SMTP server", () => {
  it("S1: delivers the welcome email with the stable Message-ID", async () => {
    const server = await smtp();
    await new SmtpMailer({ url: server.url }).send(ana, "reg_1");
    expect(server.received).toEqual([
      expect.objectContaining({ messageId: "<reg_1@welcome.local>", to: [ana.email] }),
    ]);
  });

  it("550 at RCPT TO: a permanent rejection, surely not sent, poison with no address in it", async () => {
    const server = await smtp((stage) => (stage === "rcpt" ? 550 : undefined));
    const error = await failureOf(new SmtpMailer({ url: server.url }));
    expect(error).toBeInstanceOf(NotSentError);
    const cause = (error as NotSentError).cause;
    expect(cause).toBeInstanceOf(PoisonMessageError);
    expect((cause as PoisonMessageError).reason).toBe("mail-rejected");
    expect(JSON.stringify({ message: cause.message, cause: String(cause.cause) })).not.toContain("ana.lucia");
  });

  it("553 after DATA is permanent too", async () => {
    const server = await smtp((stage) => (stage === "data" ? 553 : undefined));
    const error = (await failureOf(new SmtpMailer({ url: server.url }))) as NotSentError;
    expect(error.cause).toBeInstanceOf(PoisonMessageError);
  });

  it.each([
    ["421 at connect", "connect", 421],
    ["450 at RCPT TO", "rcpt", 450],
    ["451 after DATA", "data", 451],
  ] as const)("%s: a transient fault of the mail service, surely not sent", async (_name, at, code) => {
    const server = await smtp((stage) => (stage === at ? code : undefined));
    const error = (await failureOf(new SmtpMailer({ url: server.url }))) as NotSentError;
    expect(error).toBeInstanceOf(NotSentError);
    expect(error.cause).toBeInstanceOf(EnvironmentFaultError);
    expect((error.cause as EnvironmentFaultError).component).toBe("mailer");
  });

  it("a connection closed before the greeting: a transient fault, surely not sent", async () => {
    const server = await smtp(faultsInOrder(["accept", "drop"]));
    const error = (await failureOf(new SmtpMailer({ url: server.url }))) as NotSentError;
    expect(server.dropped).toBe(1);
    expect(error).toBeInstanceOf(NotSentError);
    expect(error.cause).toBeInstanceOf(EnvironmentFaultError);
  });

  it("connection refused: a transient fault, surely not sent", async () => {
    const port = await refusedPort();
    const error = (await failureOf(new SmtpMailer({ url: `smtp://127.0.0.1:${port}` }))) as NotSentError;
    expect(error).toBeInstanceOf(NotSentError);
    expect(error.cause).toBeInstanceOf(EnvironmentFaultError);
  });

  it("S5: the health check is a whole transaction to our own sender; it fails while the server drops after DATA", async () => {
    const server = await smtp();
    let dropping = true;
    server.script = (stage) => (dropping && stage === "data" ? "drop" : undefined);
    const mailer = new SmtpMailer({
      url: server.url,
      sendTimeoutMs: 2_000,
      from: "Cadastro <no-reply@example.com>",
    });
    await expect(mailer.checkHealth()).rejects.toBeInstanceOf(EnvironmentFaultError);
    expect(server.bodies).toHaveLength(1);
    expect(server.received).toHaveLength(0);
    dropping = false;
    await mailer.checkHealth();
    expect(server.received.map((r) => r.to)).toEqual([["no-reply@example.com"]]);
  });

  it("a connection closed with the body on its way: a fault, and ambiguous (the claim lapses)", async () => {
    const dropping = await startDroppingSmtp();
    cleanups.push(() => dropping.close());
    const error = await failureOf(new SmtpMailer({ url: dropping.url, sendTimeoutMs: 2_000 }));
    expect(dropping.bodies).toBe(1);
    expect(error).toBeInstanceOf(EnvironmentFaultError);
    expect(error).not.toBeInstanceOf(NotSentError);
  });
});

describe("SMTP transport through the consumer on fauxqs", () => {
  let sqs: TestSqs;

  async function setUp(count: number, script: Parameters<typeof startTestSmtp>[0]) {
    sqs = await startTestSqs({ visibilityTimeoutSeconds: 2 });
    cleanups.push(() => sqs.close());
    const server = await smtp(script);
    const registrations = (await generateRegistrations(count, 7)).map((r) =>
      toOutgoing(r, () => new Date(), testDigestKey),
    );
    expect(
      (await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations)).sent,
    ).toBe(count);
    const store = memoryBackend().makeStore({ leaseMs: 5_000, retentionMs: 60_000 });
    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      concurrency: 4,
      breaker: { firstProbeMs: 100, maxProbeMs: 400 },
      handler: registrationHandler(new SmtpMailer({ url: server.url, sendTimeoutMs: 2_000 }), {
        digestKey: testDigestKey,
        store,
      }),
    });
    cleanups.push(() => consumer.stop());
    return { server, consumer, registrations };
  }

  it("S2: a 550 goes to the dead-letter queue with the reason; the others are delivered", async () => {
    const rejected = new Set<string>();
    let rcpts = 0;
    const { server, consumer } = await setUp(6, (stage) => {
      // Every third recipient is refused for good.
      if (stage === "rcpt" && ++rcpts % 3 === 0) return 550;
      return undefined;
    });
    let deadLettered = 0;
    consumer.on("dead-lettered", (error) => {
      rejected.add(error.reason);
      deadLettered += 1;
    });
    consumer.start();
    // The event comes once the message is off the main queue (its delete may wait for company).
    await waitFor(
      async () =>
        server.received.length + (await queueDepth(sqs.client, sqs.deadLetterQueueUrl)) === 6 &&
        deadLettered === 6 - server.received.length,
      "every registration delivered or dead-lettered",
    );
    const dead = await receiveAll(sqs.client, sqs.deadLetterQueueUrl);
    expect(dead.length).toBe(2);
    for (const message of dead) {
      expect(message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe("mail-rejected");
      expect(message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.error]?.StringValue).not.toContain("@");
    }
    expect([...rejected]).toEqual(["mail-rejected"]);
    expect(server.received.length).toBe(4);
  });

  it("S3: 421, 451 and a closed connection pause the consumer; it resumes and delivers all, nothing dead-lettered", async () => {
    const { server, consumer } = await setUp(
      5,
      faultsInOrder(["connect", 421], ["data", 451], ["accept", "drop"], ["connect", 421]),
    );
    let paused = 0;
    let resumed = 0;
    consumer.on("paused", (component) => {
      expect(component).toBe("mailer");
      paused += 1;
    });
    consumer.on("resumed", () => {
      resumed += 1;
    });
    consumer.start();
    const failures: string[] = [];
    consumer.on("failed", (error) => failures.push(error.message));
    await waitFor(
      () => new Set(server.received.map((r) => r.messageId)).size === 5,
      "all five delivered",
    ).catch((error: Error) => {
      const seen = {
        received: server.received.length,
        dropped: server.dropped,
        stats: consumer.stats,
        failures,
      };
      throw new Error(`${error.message}: ${JSON.stringify(seen)} ${[...server.refusals]}`);
    });
    expect(paused).toBeGreaterThan(0);
    expect(resumed).toBeGreaterThan(0);
    expect(server.refusals.get(421)).toBeGreaterThan(0);
    expect(server.refusals.get(451)).toBeGreaterThan(0);
    expect(server.dropped).toBe(1);
    expect(server.received.length).toBe(5);
    expect(consumer.stats.deadLettered).toBe(0);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  });
});
