/**
 * What every mail transport is to the registration handler: one `send` per welcome email, with a
 * stable Message-ID, a send timeout (which sizes the claim lease) and a rate it waits for.
 *
 * A sender reports its outcome through the error it throws:
 * - nothing: the server accepted the email;
 * - NotSentError: surely nothing left (refused before DATA, an explicit rejection); the claim is
 *   given back, and its `cause` decides the message's fate;
 * - PoisonMessageError("mail-rejected"): a permanent rejection (5xx, a bad address) — the message
 *   goes to the dead-letter queue with the reason;
 * - EnvironmentFaultError("mailer"): the mail service is down or throttling — the breaker pauses;
 * - anything else: ambiguous (a timeout after DATA); the attempt is recorded on the claim, which
 *   lapses, and the breaker pauses as for a fault of the mail service.
 */
import { mailerKinds } from "../../config/env.js";
import type { Registration } from "../../contract/registration.js";

export { mailerKinds };
export type MailerKind = (typeof mailerKinds)[number];

/** The sender of every welcome email unless MAIL_FROM says otherwise. */
export const DEFAULT_MAIL_FROM = "Cadastro <no-reply@example.com>";

/**
 * The sender when none is given: on the stack's SES domain when it has one (SES rejects a sender
 * outside its verified identities, and every message would be dead-lettered), else the default.
 */
export function defaultMailFrom(mailDomain?: string): string {
  return mailDomain ? `Cadastro <no-reply@${mailDomain}>` : DEFAULT_MAIL_FROM;
}

/**
 * Sends one welcome email. `id` is stable for a registration: a resend reuses it.
 */
export interface WelcomeSender {
  /** `signal`: aborted at the consumer's shutdown deadline; a sender should not start after it. */
  send(registration: Registration, id: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Longest a send may take: a claim must outlast it (the handler checks before sending). */
  readonly sendTimeoutMs?: number;
  /** Waits for the send rate (a token of the bucket), before the claim is taken. */
  reserve?(signal?: AbortSignal): Promise<void>;
  /**
   * Proves the mail server healthy with a send that reaches no person (resolves once it was
   * accepted, throws otherwise). A registration whose earlier send ended ambiguously is sent again
   * only after the server accepted an email: another registration's, or this check's.
   */
  checkHealth?(options?: { signal?: AbortSignal }): Promise<void>;

  /**
   * Once, when the consumer starts: leftovers older than `staleAfterMs` (the send timeout: no
   * live send is that old) are cleaned up (the outbox's unfinished temporary files).
   */
  prepare?(options: { staleAfterMs: number }): Promise<void>;
}

/** A configured transport. */
export interface Mailer extends WelcomeSender {
  readonly kind: MailerKind;
  readonly sendTimeoutMs: number;
  /** Closes connections and clients. */
  close(): void;
}

export function welcomeText(nome: string): { subject: string; text: string } {
  return {
    subject: `Bem-vindo(a), ${nome}!`,
    text: [
      `Olá, ${nome}!`,
      "",
      "Seu cadastro foi recebido. Que bom ter você conosco.",
      "",
      "— Equipe",
      "",
    ].join("\n"),
  };
}

/**
 * The welcome email as nodemailer options, the same on every transport. The Message-ID is stable
 * for a registration (`<id@domain>`), so a mail client drops a second copy that an ambiguous send
 * let through.
 */
export function welcomeMessage(registration: Registration, id: string, from: string) {
  const { subject, text } = welcomeText(registration.nome);
  return {
    from,
    to: { name: registration.nome, address: registration.email },
    subject,
    text,
    messageId: `<${id}@welcome.local>`,
    headers: { "X-Registration-Id": id },
  };
}

/** Rejects once `ms` have passed (or never, for a non-positive ms); the timer never holds the process. */
export async function withTimeout<T>(ms: number, work: Promise<T>, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
