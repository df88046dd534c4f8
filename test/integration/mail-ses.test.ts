/**
 * The SES transport through the real SDK against a local HTTP stub of SES API v2: the request it
 * makes, and what each answer means for the message.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { LOOPBACK_ADDRESS } from "../../src/config/endpoint.js";
import { EnvironmentFaultError, NotSentError, PoisonMessageError } from "../../src/consumer/errors.js";
import { SesMailer } from "../../src/consumer/mail/ses.js";
import type { Registration } from "../../src/contract/registration.js";

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly authorization: string;
}

type Answer = { status: number; errorType?: string; body: unknown };

let server: Server | undefined;
const mailers: SesMailer[] = [];
afterEach(async () => {
  for (const mailer of mailers.splice(0)) mailer.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function stub(answer: () => Answer) {
  const seen: Seen[] = [];
  server = createServer(async (request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    seen.push({
      method: request.method ?? "",
      path: request.url ?? "",
      body: JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}"),
      authorization: String(request.headers.authorization ?? ""),
    });
    const { status, errorType, body } = answer();
    response.writeHead(status, {
      "content-type": "application/json",
      ...(errorType ? { "x-amzn-errortype": errorType } : {}),
    });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server?.listen(0, LOOPBACK_ADDRESS, resolve));
  const { port } = server.address() as { port: number };
  const mailer = new SesMailer({
    configurationSet: "welcome-events",
    from: "Cadastro <no-reply@example.com>",
    sendTimeoutMs: 2_000,
    client: {
      endpoint: `http://${LOOPBACK_ADDRESS}:${port}`,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
      maxAttempts: 1,
    },
  });
  mailers.push(mailer);
  return { seen, mailer };
}

const ana: Registration = { nome: "Ana", email: "ana@example.com" };

describe("SES transport against a local SES stub", () => {
  it("sends one SendEmail request: raw content with the stable Message-ID, the configuration set, signed", async () => {
    const { seen, mailer } = await stub(() => ({ status: 200, body: { MessageId: "ses-1" } }));
    await mailer.send(ana, "reg_1");
    expect(seen).toHaveLength(1);
    const [request] = seen;
    if (!request) throw new Error("no request");
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/v2/email/outbound-emails");
    expect(request.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/ses\//);
    expect(request.body).toMatchObject({
      ConfigurationSetName: "welcome-events",
      Destination: { ToAddresses: ["ana@example.com"] },
      FromEmailAddress: expect.stringContaining("no-reply@example.com"),
    });
    const raw = Buffer.from((request.body.Content as { Raw: { Data: string } }).Raw.Data, "base64").toString(
      "utf8",
    );
    expect(raw).toMatch(/^Message-ID: <reg_1@welcome\.local>/m);
    expect(raw).toMatch(/^Subject: /m);
  });

  it.each([
    ["TooManyRequestsException", 429],
    ["LimitExceededException", 400],
    ["SendingPausedException", 400],
  ])(
    "%s: an environment fault for the breaker, surely not sent, not dead-lettered",
    async (errorType, status) => {
      const { mailer } = await stub(() => ({
        status,
        errorType,
        body: { message: "Maximum sending rate exceeded." },
      }));
      const error = await mailer.send(ana, "reg_1").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotSentError);
      const cause = (error as NotSentError).cause;
      expect(cause).toBeInstanceOf(EnvironmentFaultError);
      expect((cause as EnvironmentFaultError).component).toBe("mailer");
      expect(cause.message).toContain(errorType);
    },
  );

  it.each([["MessageRejected"], ["BadRequestException"]])(
    "%s: a permanent rejection, dead-lettered without the address",
    async (errorType) => {
      const { mailer } = await stub(() => ({
        status: 400,
        errorType,
        body: { message: "Email address is not verified: ana@example.com" },
      }));
      const error = (await mailer.send(ana, "reg_1").catch((e: unknown) => e)) as NotSentError;
      expect(error).toBeInstanceOf(NotSentError);
      expect(error.cause).toBeInstanceOf(PoisonMessageError);
      expect((error.cause as PoisonMessageError).reason).toBe("mail-rejected");
      expect(JSON.stringify({ m: error.cause.message, c: String(error.cause.cause) })).not.toContain("ana@");
    },
  );

  it("S5: the health check is one SendEmail to SES's success simulator, from our sender; a refusal throws", async () => {
    let status = 200;
    const { seen, mailer } = await stub(() =>
      status === 200
        ? { status, body: { MessageId: "ses-health" } }
        : { status, errorType: "TooManyRequestsException", body: { message: "slow down" } },
    );
    await mailer.checkHealth();
    expect(seen).toHaveLength(1);
    expect(seen[0]?.body).toMatchObject({
      Destination: { ToAddresses: ["success@simulator.amazonses.com"] },
      FromEmailAddress: expect.stringContaining("no-reply@example.com"),
    });
    status = 429;
    await expect(mailer.checkHealth()).rejects.toThrow();
  });

  it("a request that gets no answer within the send timeout: a fault, ambiguous", async () => {
    const { mailer } = await stub(() => ({ status: 200, body: {} }));
    // Accept the request and never answer it.
    server?.removeAllListeners("request");
    server?.on("request", () => {});
    const error = await mailer.send(ana, "reg_1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentFaultError);
    expect(error).not.toBeInstanceOf(NotSentError);
  });
});
