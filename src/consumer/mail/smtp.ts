/**
 * SMTP through nodemailer, one connection per email (no pool: a failure belongs to one email, and
 * its stage is known). `smtp://` upgrades with STARTTLS, `smtps://` is TLS from the first byte;
 * plain text is allowed only to loopback (a local relay or a test server): the session carries
 * credentials and personal data.
 *
 * The send is watched through nodemailer's transaction log (commands and replies, never the body):
 * until the server answers DATA with 354 no byte of the email has left, so a failure before then
 * is surely-not-sent (the claim is given back). A connection lost or a timeout after 354 is
 * ambiguous: the claim lapses, and the stable Message-ID lets mailboxes drop a second copy.
 */

import nodemailer from "nodemailer";
import { isLoopbackHost } from "../../config/endpoint.js";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../../config/limits.js";
import { maskEmail, type Registration } from "../../contract/registration.js";
import { ConfigurationError } from "../../errors.js";
import { type Logger, silentLogger } from "../../log/logger.js";
import { EnvironmentFaultError, NotSentError, PoisonMessageError } from "../errors.js";
import { DEFAULT_MAIL_FROM, type Mailer, welcomeMessage } from "./mailer.js";

export interface SmtpOptions {
  /** `smtp://[user:password@]host[:port]` or `smtps://…`; credentials percent-encoded. */
  readonly url: string;
  readonly from?: string;
  readonly sendTimeoutMs?: number;
  readonly logger?: Logger;
}

/** The URL as it may be shown: credentials replaced by `***`. */
export function maskSmtpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const credentials = parsed.username || parsed.password ? "***@" : "";
    return `${parsed.protocol}//${credentials}${parsed.host}`;
  } catch {
    return "(unparseable SMTP URL)";
  }
}

export interface SmtpTarget {
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (smtps). */
  readonly secure: boolean;
  /** STARTTLS is mandatory (smtp to anything but loopback). */
  readonly requireTLS: boolean;
  readonly auth?: { user: string; pass: string };
}

/** Parses and checks an SMTP URL; the error never repeats the credentials. */
export function parseSmtpUrl(url: string): SmtpTarget {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigurationError(
      "SMTP URL is not a URL; expected smtp://user:password@host:587 or smtps://user:password@host:465 (--smtp-url, SMTP_URL)",
    );
  }
  const shown = maskSmtpUrl(url);
  if (parsed.protocol !== "smtp:" && parsed.protocol !== "smtps:") {
    throw new ConfigurationError(`SMTP URL ${shown} must start with smtp:// (STARTTLS) or smtps:// (TLS)`);
  }
  const secure = parsed.protocol === "smtps:";
  const loopback = isLoopbackHost(parsed.hostname);
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    requireTLS: !secure && !loopback,
    ...(user ? { auth: { user, pass } } : {}),
  };
}

interface SmtpFailure {
  code?: string;
  responseCode?: number;
  command?: string;
}

/**
 * What nodemailer said, without what it quoted: its errors carry the server's reply and the
 * rejected recipients (the address), which a logged `cause` would print.
 */
export class SmtpFailureError extends Error {
  override readonly name = "SmtpFailureError";
  constructor(
    readonly code: string | undefined,
    readonly responseCode: number | undefined,
    readonly command: string | undefined,
  ) {
    super(`SMTP ${responseCode ?? ""} ${code ?? "error"} at ${command || "send"}`.replace(/\s+/g, " "));
  }
}

/** Stages whose 5xx says "this configuration", not "this message": the breaker, not the DLQ. */
const SESSION_COMMANDS = /^(CONN|EHLO|HELO|LHLO|STARTTLS|AUTH|API)/;

/**
 * What a failed SMTP send means for the message. `dataStarted`: the server had answered DATA with
 * 354, so the body may have gone out.
 */
export function classifySmtpError(error: unknown, dataStarted: boolean): Error {
  const { code, responseCode, command = "" } = error as SmtpFailure;
  const cause = new SmtpFailureError(code, responseCode, command);
  const what = cause.message;
  // An explicit reply is an answer: whatever stage it came at, the server did not take the email.
  if (typeof responseCode === "number" && responseCode >= 500 && !SESSION_COMMANDS.test(command)) {
    return new NotSentError(
      new PoisonMessageError("mail-rejected", `the mail server rejected the email for good (${what})`, {
        cause,
      }),
    );
  }
  const fault = new EnvironmentFaultError("mailer", `the mail server is unavailable (${what})`, { cause });
  if (typeof responseCode === "number" || !dataStarted) return new NotSentError(fault);
  // The connection ended (or timed out) with the body on its way: it may have been delivered.
  return fault;
}

export class SmtpMailer implements Mailer {
  readonly kind = "smtp";
  readonly sendTimeoutMs: number;
  private readonly target: SmtpTarget;
  private readonly from: string;
  private readonly logger: Logger;
  private readonly shownUrl: string;

  constructor(options: SmtpOptions) {
    this.target = parseSmtpUrl(options.url);
    this.shownUrl = maskSmtpUrl(options.url);
    this.from = options.from ?? DEFAULT_MAIL_FROM;
    this.sendTimeoutMs = options.sendTimeoutMs ?? MAIL_SEND_TIMEOUT_DEFAULT_MS;
    this.logger = options.logger ?? silentLogger;
  }

  async send(registration: Registration, id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (options.signal?.aborted) throw new NotSentError(new Error("the consumer is stopping"));
    try {
      await this.transact(welcomeMessage(registration, id, this.from), options.signal);
    } catch (error) {
      this.logger.warn(
        {
          to: maskEmail(registration.email),
          registrationId: id,
          server: this.shownUrl,
          error: (error as Error).message,
        },
        "welcome email not accepted by the mail server",
      );
      throw error;
    }
    this.logger.info(
      { to: maskEmail(registration.email), registrationId: id, server: this.shownUrl },
      "welcome email accepted by the mail server",
    );
  }

  /**
   * A whole SMTP transaction, DATA included, addressed to our own sender address: the failures
   * that make a send ambiguous (a connection lost after DATA, a reply slower than the timeout)
   * happen only there, so nothing shorter (a connect, EHLO, RSET) proves the server healthy.
   * Reaches no person; the mailbox behind the sender address receives it.
   */
  async checkHealth(options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.transact(
      {
        from: this.from,
        to: this.from,
        subject: "mail server health check",
        text: "Sent by the welcome-email consumer to check the mail server after a send ended without an answer.\n",
        headers: { "X-Health-Check": "1" },
      },
      options.signal,
    );
  }

  /** Sends one message on its own connection; throws the classified failure (classifySmtpError). */
  private async transact(message: object, outer?: AbortSignal): Promise<void> {
    let dataStarted = false;
    // Replies and commands only (transactionLog, not debug: the body is never handed over); this
    // logger keeps nothing, it only notes the 354 that starts the body.
    const watcher = {
      debug(entry: { tnx?: string }, line: string) {
        if (entry?.tnx === "server" && /^354/.test(String(line))) dataStarted = true;
      },
    };
    const transport = nodemailer.createTransport({
      ...this.target,
      connectionTimeout: this.sendTimeoutMs,
      greetingTimeout: this.sendTimeoutMs,
      socketTimeout: this.sendTimeoutMs,
      transactionLog: true,
      logger: watcher,
    } as never);
    const timeout = AbortSignal.timeout(this.sendTimeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    try {
      await transport.sendMail({ ...message, signal } as never);
    } catch (error) {
      throw classifySmtpError(error, dataStarted);
    } finally {
      transport.close();
    }
  }

  close(): void {}
}
