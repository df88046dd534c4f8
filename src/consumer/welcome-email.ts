/**
 * The welcome email. Composed by nodemailer, as a real mail sender would; by default it is not
 * sent but written as an RFC 822 `.eml` file into an outbox folder, so that a run is tangible
 * (open the file in any mail client) without an SMTP server.
 */
import { access, appendFile, mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { maskEmail, type Registration } from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";

/** The outbox's journal: one `<id>\t<time>` line per email written. */
export const JOURNAL = "sent.log";

/** Sends one welcome email. `id` is stable for a registration: a resend reuses it. */
export interface WelcomeSender {
  /** `signal`: aborted at the consumer's shutdown deadline; a sender should not start after it. */
  send(registration: Registration, id: string, options?: { signal?: AbortSignal }): Promise<void>;
}

export interface OutboxOptions {
  readonly outboxDir: string;
  readonly from?: string;
  readonly logger?: Logger;
  /** Simulated mail-server latency per email, in ms (demos and fault tests). Default 0. */
  readonly latencyMs?: number;
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

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Writes each welcome email as `<id>.eml`, once per id; `sent.log` gets one line per email. */
export class OutboxMailer implements WelcomeSender {
  private readonly transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: "unix",
  });
  private readonly outboxDir: string;
  private readonly from: string;
  private readonly logger: Logger;
  private readonly latencyMs: number;
  private ready: Promise<unknown> | undefined;

  constructor(options: OutboxOptions) {
    this.outboxDir = options.outboxDir;
    this.from = options.from ?? "Cadastro <no-reply@example.com>";
    this.logger = options.logger ?? silentLogger;
    this.latencyMs = options.latencyMs ?? 0;
  }

  async send(registration: Registration, id: string): Promise<void> {
    this.ready ??= mkdir(this.outboxDir, { recursive: true });
    await this.ready;
    const { subject, text } = welcomeText(registration.nome);
    const info = await this.transport.sendMail({
      from: this.from,
      to: { name: registration.nome, address: registration.email },
      subject,
      text,
      messageId: `<${id}@welcome.local>`,
      headers: { "X-Registration-Id": id },
    });
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    const file = join(this.outboxDir, `${id}.eml`);
    // Delivered already (a consumer died after delivering, before recording it): the outbox, like
    // a recipient's mailbox with its Message-ID, holds one copy. An SMTP sender cannot look, which
    // is why the claim store comes first; the stable Message-ID lets mail clients drop the rest.
    if (await exists(file)) {
      this.logger.debug({ registrationId: id }, "welcome email already in the outbox");
      return;
    }
    // Write then rename: a reader (or a crash) never sees half an email.
    const temporary = `${file}.${process.pid}.tmp`;
    await writeFile(temporary, info.message as Buffer);
    await rename(temporary, file);
    // One line per email written: the file for an id is replaced, the journal shows every send.
    await appendFile(join(this.outboxDir, JOURNAL), `${id}\t${new Date().toISOString()}\n`);
    this.logger.info(
      { to: maskEmail(registration.email), registrationId: id },
      "welcome email written to the outbox",
    );
  }
}
