/**
 * Amazon SES (API v2) through nodemailer's SES transport: nodemailer composes the raw email (the
 * same bytes as every other transport, stable Message-ID included) and hands it to
 * `SendEmailCommand`. The client takes the default AWS credential chain and region, like the SQS
 * client; the configuration set routes bounce and complaint events to the bounce queue.
 *
 * Any answer from SES is an answer: an email it refused was not sent (the claim is given back).
 * Only a request that got no answer (timeout, connection reset) is ambiguous.
 */

import { Agent as HttpsAgent } from "node:https";
import {
  BadRequestException,
  MessageRejected,
  SESv2Client,
  type SESv2ClientConfig,
  SendEmailCommand,
} from "@aws-sdk/client-sesv2";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import nodemailer from "nodemailer";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../../config/limits.js";
import { maskEmail, type Registration } from "../../contract/registration.js";
import { type Logger, silentLogger } from "../../log/logger.js";
import { EnvironmentFaultError, NotSentError, PoisonMessageError } from "../errors.js";
import { DEFAULT_MAIL_FROM, type Mailer, welcomeMessage, withTimeout } from "./mailer.js";

export interface SesOptions {
  /** Names the configuration set whose event destination feeds the bounce queue. */
  readonly configurationSet?: string | undefined;
  readonly from?: string;
  readonly sendTimeoutMs?: number;
  readonly logger?: Logger;
  /** Tests: a local stub instead of AWS's endpoint (with these credentials and region). */
  readonly client?: Pick<SESv2ClientConfig, "endpoint" | "region" | "credentials" | "maxAttempts">;
}

/** What SES said, without what it quoted (a rejection names the address). */
export class SesFailureError extends Error {
  override readonly name = "SesFailureError";
  constructor(
    readonly errorName: string,
    readonly httpStatus: number | undefined,
  ) {
    super(`SES ${errorName}${httpStatus ? ` (HTTP ${httpStatus})` : ""}`);
  }
}

/** SES's mailbox simulator address that accepts and delivers to no one. */
export const SES_SIMULATOR_SUCCESS = "success@simulator.amazonses.com";

/** Connection errors that happen before a request is written: nothing reached SES. */
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

/**
 * What a failed SES send means for the message. MessageRejected (a sandbox recipient not
 * verified, content refused) and BadRequest (an address SES cannot use) belong to this email.
 * Everything else — throttling (TooManyRequests, LimitExceeded), sending paused, an unverified
 * MAIL FROM domain, a missing configuration set, 5xx — holds for every email, so it pauses the
 * consumer instead of dead-lettering the queue one message at a time.
 */
export function classifySesError(error: unknown): Error {
  const {
    name = "Error",
    code,
    $metadata,
  } = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
  };
  const status = $metadata?.httpStatusCode;
  const cause = new SesFailureError(name, status);
  if (error instanceof MessageRejected || error instanceof BadRequestException) {
    return new NotSentError(
      new PoisonMessageError("mail-rejected", `SES rejected the email for good (${cause.message})`, {
        cause,
      }),
    );
  }
  const fault = new EnvironmentFaultError("mailer", `SES is unavailable (${cause.message})`, { cause });
  const answered = typeof status === "number" && status > 0;
  return answered || (code !== undefined && NOT_CONNECTED.has(code)) ? new NotSentError(fault) : fault;
}

export class SesMailer implements Mailer {
  readonly kind = "ses";
  readonly sendTimeoutMs: number;
  private readonly client: SESv2Client;
  private readonly transport;
  private readonly from: string;
  private readonly configurationSet: string | undefined;
  private readonly logger: Logger;

  constructor(options: SesOptions = {}) {
    this.sendTimeoutMs = options.sendTimeoutMs ?? MAIL_SEND_TIMEOUT_DEFAULT_MS;
    this.client = new SESv2Client({
      // Throttling is the breaker's to wait out (it pauses the fleet's share of the quota), not
      // the SDK's to retry inside one send's timeout.
      maxAttempts: 2,
      ...options.client,
      requestHandler: new NodeHttpHandler({
        httpsAgent: new HttpsAgent({ keepAlive: true }),
        requestTimeout: this.sendTimeoutMs,
        // @smithy/node-http-handler 4 only warns at requestTimeout unless told to throw.
        throwOnRequestTimeout: true,
        connectionTimeout: Math.min(this.sendTimeoutMs, 3_000),
      }),
    });
    this.transport = nodemailer.createTransport({ SES: { sesClient: this.client, SendEmailCommand } });
    this.from = options.from ?? DEFAULT_MAIL_FROM;
    this.configurationSet = options.configurationSet;
    this.logger = options.logger ?? silentLogger;
  }

  async send(registration: Registration, id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (options.signal?.aborted) throw new NotSentError(new Error("the consumer is stopping"));
    const message = {
      ...welcomeMessage(registration, id, this.from),
      ...(this.configurationSet ? { ses: { ConfigurationSetName: this.configurationSet } } : {}),
    };
    try {
      // The request handler ends the request at the same time; this bounds the composition too.
      await withTimeout(this.sendTimeoutMs + 1_000, this.transport.sendMail(message), () =>
        Object.assign(new Error("SES send timed out"), { name: "TimeoutError" }),
      );
    } catch (error) {
      const outcome = classifySesError(error);
      this.logger.warn(
        { to: maskEmail(registration.email), registrationId: id, error: outcome.message },
        "welcome email not accepted by SES",
      );
      throw outcome;
    }
    this.logger.info(
      { to: maskEmail(registration.email), registrationId: id },
      "welcome email accepted by SES",
    );
  }

  /**
   * A real SendEmail to SES's mailbox simulator (`success@simulator.amazonses.com`): accepted like
   * any email, delivered to no person, counted against no bounce or complaint rate, and allowed in
   * the sandbox. Any failure (an answer that is not an acceptance, or none) throws.
   */
  async checkHealth(options: { signal?: AbortSignal } = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await withTimeout(
      this.sendTimeoutMs + 1_000,
      this.transport.sendMail({
        from: this.from,
        to: SES_SIMULATOR_SUCCESS,
        subject: "mail service health check",
        text: "Sent by the welcome-email consumer to check SES after a send ended without an answer.\n",
        ...(this.configurationSet ? { ses: { ConfigurationSetName: this.configurationSet } } : {}),
      }),
      () => Object.assign(new Error("SES health check timed out"), { name: "TimeoutError" }),
    );
  }

  close(): void {
    this.transport.close();
    this.client.destroy();
  }
}
