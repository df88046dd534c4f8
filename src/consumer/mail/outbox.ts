/**
 * The welcome email. Composed by nodemailer, as a real mail sender would; by default it is not
 * sent but written as an RFC 822 `.eml` file into an outbox folder, so that a run is tangible
 * (open the file in any mail client) without an SMTP server.
 */
import { randomBytes } from "node:crypto";
import { access } from "node:fs";
import * as fsPromises from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import MailComposer from "nodemailer/lib/mail-composer/index.js";
import { maskEmail, REGISTRATION_ID_PATTERN, type Registration } from "../../contract/registration.js";
import { type Logger, silentLogger } from "../../log/logger.js";
import { EnvironmentFaultError, NotSentError } from "../errors.js";
import { DEFAULT_MAIL_FROM, type Mailer, welcomeMessage } from "./mailer.js";

/**
 * The outbox's journal: one line per delivery that reached the outbox. `<id>\t<time>` for an email
 * written; `<id>\t<time>\talready-in-outbox` when the email was there already (a consumer died
 * after writing it and before its journal line or its store record), which an SMTP transport would
 * have sent a second time. A crash between the write and its line therefore never leaves an email
 * without a line once the message is delivered again.
 */
export const JOURNAL = "sent.log";

/**
 * The email as nodemailer's composer writes it for a mail server, with Unix line ends (a file to
 * read, as its stream transport's `newline: "unix"` would give): the composer alone, without a
 * transport's per-email work and pipeline of streams around it (about a quarter of the cost).
 */
function compose(mail: ConstructorParameters<typeof MailComposer>[0]): Promise<string> {
  return new Promise((resolve, reject) => {
    new MailComposer(mail).compile().build((error, message) => {
      if (error) reject(error);
      else resolve(message.toString("utf8").replaceAll("\r\n", "\n"));
    });
  });
}

/**
 * A write's temporary file: `<id>.eml.<pid>.<hex>.tmp`, renamed to `<id>.eml` once whole.
 * A writer killed in between leaves it, with the recipient's address in it.
 */
export const OUTBOX_TEMPORARY_FILE = /\.eml\.\d+\.[0-9a-f]+\.tmp$/;

/**
 * This process's mark in its temporary files' names, then a count: unique among the processes
 * writing to one folder (containers all run as pid 1), without a random draw per email.
 */
const WRITER = randomBytes(4).toString("hex");
let temporaries = 0;

function temporaryFileFor(file: string): string {
  temporaries += 1;
  return `${file}.${process.pid}.${WRITER}${temporaries.toString(16)}.tmp`;
}

/** The third column of a journal line for a delivery that found its email already written. */
export const ALREADY_IN_OUTBOX = "already-in-outbox";

/**
 * The registration ids of the journal's lines, in order: how the demo and the tests count emails,
 * from the files rather than the code. `written: true` keeps only the emails written, leaving out
 * deliveries that found their email there already (a consumer killed between writing an email and
 * recording it; an SMTP transport would have sent those twice).
 */
export async function journalIds(outboxDir: string, options: { written?: boolean } = {}): Promise<string[]> {
  const text = await fsPromises.readFile(join(outboxDir, JOURNAL), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split("\t"))
    .filter((columns) => !options.written || columns[2] !== ALREADY_IN_OUTBOX)
    .map((columns) => columns[0] ?? "");
}

/** The file operations the outbox uses: injectable, so tests can make the disk fail. */
export type OutboxFileSystem = Pick<
  typeof fsPromises,
  "access" | "appendFile" | "mkdir" | "rename" | "rm" | "writeFile"
>;

/**
 * node:fs/promises, but `access` through the callback API: the promise API's rejection captures a
 * stack for every new email (which has no file yet), about as much CPU again as the lookup itself
 * (a microbenchmark on a missing file: 18 µs against 9).
 */
const nodeFileSystem: OutboxFileSystem = {
  ...fsPromises,
  access: (path, mode) =>
    new Promise((resolve, reject) => access(path, mode, (error) => (error ? reject(error) : resolve()))),
};

/** An outbox file name that is not a plain name inside the outbox: refused, never written. */
export class UnsafeOutboxPathError extends Error {
  override readonly name = "UnsafeOutboxPathError";
}

/**
 * The outbox file of a registration id. The contract allows only `[A-Za-z0-9_.:-]`, no leading
 * dot, so the id is a plain file name as it is; checked again here (the mailer does not trust its
 * caller), and the result must resolve to a file directly inside the outbox.
 */
export function outboxFile(outboxDir: string, id: string): string {
  if (!REGISTRATION_ID_PATTERN.test(id)) {
    throw new UnsafeOutboxPathError(
      "refusing an outbox file for a registration id outside the safe character set",
    );
  }
  const dir = resolve(outboxDir);
  const file = resolve(dir, `${id}.eml`);
  const inside = relative(dir, file);
  if (dirname(file) !== dir || inside.startsWith("..") || inside.includes("/")) {
    throw new UnsafeOutboxPathError(`refusing an outbox file that resolves outside ${dir}`);
  }
  return file;
}

/**
 * A failed file operation on the outbox is the environment's fault (disk full, quota, read-only,
 * permissions, file-descriptor limit, the folder gone or a file in its place), never the
 * message's: the id is checked, so nothing in a message can make a write fail. Reported as
 * EnvironmentFaultError("outbox") so that the consumer pauses instead of dead-lettering.
 */
function outboxFault(error: unknown, doing: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== "string" || !/^E[A-Z]+$/.test(code)) return error;
  return new EnvironmentFaultError("outbox", `outbox cannot ${doing}: ${code}`, { cause: error });
}

export interface OutboxOptions {
  readonly outboxDir: string;
  readonly from?: string;
  readonly logger?: Logger;
  /** Simulated mail-server latency per email, in ms (demos and fault tests). Default 0. */
  readonly latencyMs?: number;
  /**
   * Added to the claim lease like any transport's timeout. Default 0: a local file write has no
   * server to wait for (and short test leases stay usable); not enforced on the write itself.
   */
  readonly sendTimeoutMs?: number;
  /** Default: node:fs/promises. */
  readonly fileSystem?: OutboxFileSystem;
}

/** Writes each welcome email as `<id>.eml`, once per id; `sent.log` gets one line per email. */
export class OutboxMailer implements Mailer {
  readonly kind = "outbox";
  readonly sendTimeoutMs: number;
  private readonly outboxDir: string;
  private readonly from: string;
  private readonly logger: Logger;
  private readonly latencyMs: number;
  private readonly fs: OutboxFileSystem;
  private ready: Promise<unknown> | undefined;
  /** Journal lines waiting for the next append. */
  private journalLines = "";
  /** The append that will carry `journalLines`, until it starts. */
  private nextAppend: Promise<void> | undefined;
  /** The latest append, settled either way: the next one starts after it. */
  private lastAppend: Promise<unknown> = Promise.resolve();

  constructor(options: OutboxOptions) {
    this.outboxDir = options.outboxDir;
    this.fs = options.fileSystem ?? nodeFileSystem;
    this.from = options.from ?? DEFAULT_MAIL_FROM;
    this.logger = options.logger ?? silentLogger;
    this.latencyMs = options.latencyMs ?? 0;
    this.sendTimeoutMs = options.sendTimeoutMs ?? 0;
  }

  /**
   * The outbox is a folder: it is healthy when a file can be written to it and removed (a full or
   * read-only disk fails here as it would for an email).
   */
  async checkHealth(): Promise<void> {
    await this.fs.mkdir(this.outboxDir, { recursive: true });
    const probe = join(this.outboxDir, `.health-check.${process.pid}.${randomBytes(4).toString("hex")}`);
    try {
      await this.fs.writeFile(probe, "health check\n");
    } finally {
      await this.fs.rm(probe, { force: true });
    }
  }

  async send(registration: Registration, id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    let file: string;
    try {
      file = outboxFile(this.outboxDir, id);
    } catch (error) {
      throw new NotSentError(error as Error);
    }
    await this.notSentOnFailure("create its folder", () => {
      // Not cached when it fails: the folder may be fixed while the consumer waits.
      this.ready ??= this.fs.mkdir(this.outboxDir, { recursive: true }).catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
      return this.ready;
    });
    const email = await compose(welcomeMessage(registration, id, this.from));
    // A send cut off at the shutdown deadline writes nothing after it (an ambiguous end: the claim
    // lapses, and the next delivery writes the email).
    if (this.latencyMs > 0) await sleep(this.latencyMs, undefined, { signal });
    signal?.throwIfAborted();
    // Delivered already (a consumer died after delivering, before recording it): the outbox, like
    // a recipient's mailbox with its Message-ID, holds one copy. An SMTP sender cannot look, which
    // is why the claim store comes first; the stable Message-ID lets mail clients drop the rest.
    if (await this.exists(file)) {
      await this.journal(`${id}\t${new Date().toISOString()}\t${ALREADY_IN_OUTBOX}\n`);
      this.logger.info({ registrationId: id }, "welcome email already in the outbox; not written again");
      return;
    }
    // Write then rename: a reader (or a crash) never sees half an email. A failed write or rename
    // removes its temporary file, and nothing was delivered: the claim can be given back.
    const temporary = temporaryFileFor(file);
    await this.notSentOnFailure("write an email", async () => {
      try {
        await this.fs.writeFile(temporary, email);
        await this.fs.rename(temporary, file);
      } catch (error) {
        await this.fs.rm(temporary, { force: true }).catch(() => undefined);
        throw error;
      }
    });
    // One line per email written: the file for an id is replaced, the journal shows every send.
    // The email is out by now, so a failure here is not NotSentError (the claim lapses instead).
    await this.journal(`${id}\t${new Date().toISOString()}\n`);
    this.logger.info(
      { to: maskEmail(registration.email), registrationId: id },
      "welcome email written to the outbox",
    );
  }

  /**
   * Removes temporary files older than `staleAfterMs` (by modification time): a writer killed
   * between the write and the rename leaves one, holding the recipient's address, and nothing
   * else ever removes it. A younger one may be another consumer's write in progress.
   */
  async prepare(options: { staleAfterMs: number; now?: number }): Promise<void> {
    const now = options.now ?? Date.now();
    let names: string[];
    try {
      names = await fsPromises.readdir(this.outboxDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
      throw outboxFault(error, "list its folder");
    }
    let removed = 0;
    for (const name of names.filter((n) => OUTBOX_TEMPORARY_FILE.test(n))) {
      const file = join(this.outboxDir, name);
      try {
        const { mtimeMs } = await fsPromises.stat(file);
        if (now - mtimeMs < options.staleAfterMs) continue;
        await fsPromises.rm(file, { force: true });
        removed += 1;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT")
          throw outboxFault(error, "remove a temporary file");
      }
    }
    if (removed > 0) this.logger.info({ removed }, "removed unfinished temporary files from the outbox");
  }

  close(): void {
    // Nothing held open: each email is composed and written on its own.
  }

  /**
   * Appends a line to the journal. Lines that come while an append is under way go together in
   * the next one: under load one append (an open, a write and a close) carries many emails'
   * lines, and a line that comes alone goes at once. An append that fails fails the send of every
   * line it carried.
   */
  private journal(line: string): Promise<void> {
    this.journalLines += line;
    if (this.nextAppend === undefined) {
      const append = this.lastAppend.then(() => {
        const lines = this.journalLines;
        this.journalLines = "";
        this.nextAppend = undefined;
        return this.fs.appendFile(join(this.outboxDir, JOURNAL), lines);
      });
      this.nextAppend = append;
      this.lastAppend = append.catch(() => undefined);
    }
    return this.nextAppend.catch((error: unknown) => {
      throw outboxFault(error, "append to its journal");
    });
  }

  private async exists(path: string): Promise<boolean> {
    try {
      await this.fs.access(path);
      return true;
    } catch {
      return false;
    }
  }

  private async notSentOnFailure(doing: string, operation: () => Promise<unknown>): Promise<void> {
    try {
      await operation();
    } catch (error) {
      const fault = outboxFault(error, doing);
      throw new NotSentError(fault instanceof Error ? fault : new Error(String(fault)));
    }
  }
}
