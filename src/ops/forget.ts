/**
 * `npm run forget -- --email … [--nome …]`: erase one person from what this system holds
 * (docs/personal-data.md): messages still queued (main and dead-letter queue), outbox `.eml`
 * files and their `sent.log` lines, the sent-email store's records, and the address's entry in the
 * suppression list (keyed by the address alone, so found without a name).
 *
 * The store keeps only a keyed digest of the normalised name *and* address (contract/digest.ts),
 * so an address alone finds nothing there. The names come from where the address is found: the
 * queued messages' bodies and the outbox files' `To:` headers, plus any `--nome` given. A record
 * whose registration left no message and no outbox file behind is found only with `--nome`
 * (otherwise it expires with the store's retention).
 *
 * Queues: SQS has no search. Every message is received (kept hidden while the sweep lasts, so
 * none is read twice), the person's are deleted, the others handed back (visibility 0). On the
 * emulator that is every message; on real SQS a receive samples the queue's servers, and messages
 * in flight at a consumer are invisible: best effort, run it with the consumers stopped, and
 * again if `status` shows messages it could not see.
 *
 * Nothing personal is returned: counts only.
 */
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { SuppressionList } from "../consumer/mail/suppression.js";
import type { SentEmailStore } from "../consumer/store/contract.js";
import { JOURNAL } from "../consumer/welcome-email.js";
import { addressDigest, type DigestKey, normaliseForDigest, registrationDigest } from "../contract/digest.js";
import { BATCH_MAX_ENTRIES } from "../sqs/limits.js";
import { ForgetIncompleteError } from "./errors.js";
import { changeVisibility, type QueuePair } from "./queues.js";

/** Seconds a swept message stays hidden if the sweep dies before handing it back. */
export const SWEEP_VISIBILITY_SECONDS = 60;

export interface ForgetOptions {
  readonly email: string;
  /** Names the person registered under, when known: finds store records nothing else leads to. */
  readonly nomes?: readonly string[];
  readonly digestKey: DigestKey;
  readonly store?: SentEmailStore;
  /** The suppression list (hard bounces, complaints): its entry for the address is removed. */
  readonly suppression?: Pick<SuppressionList, "forget">;
  readonly outboxDir?: string;
  readonly sqs?: {
    readonly client: SQSClient;
    readonly queues: QueuePair;
    readonly waitTimeSeconds?: number;
  };
}

export interface ForgetReport {
  /** Distinct (name, address) forms the digests were computed from. */
  readonly digests: number;
  readonly storeRecords: number;
  /** Suppression-list entries removed (0 or 1; absent when no list was given). */
  readonly suppressions?: number;
  readonly outboxFiles: number;
  readonly journalLines: number;
  readonly queueMessages: number;
  readonly deadLetterMessages: number;
  /** Messages of others that could not be handed back: they return after SWEEP_VISIBILITY_SECONDS. */
  readonly notRestored: number;
}

/** The address as the digest sees it, case-folded: one mailbox, whatever case it was typed in. */
export function addressKey(email: string): string {
  return normaliseForDigest({ nome: "", email })[1].toLowerCase();
}

const ADDRESS = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;

/** Whether a message body is this person's: its `email` field, or the address anywhere in it. */
function bodyOf(body: string, address: string): { matches: boolean; nome?: string; email?: string } {
  try {
    const value = JSON.parse(body) as { nome?: unknown; email?: unknown };
    if (value && typeof value === "object" && typeof value.email === "string") {
      if (addressKey(value.email) === address) {
        return typeof value.nome === "string"
          ? { matches: true, nome: value.nome, email: value.email }
          : { matches: true };
      }
    }
  } catch {
    // Not JSON (a poison message): it may still quote the address.
  }
  return { matches: (body.match(ADDRESS) ?? []).some((found) => addressKey(found) === address) };
}

/** Decodes RFC 2047 encoded words (nodemailer writes non-ASCII names as UTF-8 Q or B words). */
export function decodeEncodedWords(text: string): string {
  const word = /=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g;
  return text
    .replace(/(\?=)\s+(?==\?)/g, "$1") // whitespace between adjacent encoded words is not text
    .replace(word, (_, charset: string, encoding: string, data: string) => {
      const bytes =
        encoding.toUpperCase() === "B"
          ? Buffer.from(data, "base64")
          : Buffer.from(
              data
                .replace(/_/g, " ")
                .replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) =>
                  String.fromCharCode(Number.parseInt(hex, 16)),
                ),
              "latin1",
            );
      try {
        return new TextDecoder(charset).decode(bytes);
      } catch {
        return bytes.toString("utf8");
      }
    });
}

/** The `To:` header of an `.eml` file: the display name and the address. */
export function recipientOf(eml: string): { nome?: string; email: string } | undefined {
  const head = eml.split(/\r?\n\r?\n/, 1)[0] ?? "";
  const unfolded = head.replace(/\r?\n[ \t]+/g, " ");
  const line = unfolded.split(/\r?\n/).find((l) => /^to:/i.test(l));
  if (!line) return undefined;
  const value = line.slice(3).trim();
  const angle = value.match(/^(.*)<([^<>]+)>\s*$/);
  if (!angle) return { email: value };
  let display = (angle[1] ?? "").trim();
  if (display.startsWith('"') && display.endsWith('"')) {
    display = display.slice(1, -1).replace(/\\(.)/g, "$1");
  }
  display = decodeEncodedWords(display).trim();
  return { ...(display ? { nome: display } : {}), email: (angle[2] ?? "").trim() };
}

/** Receives every message it can, deletes the person's, hands the others back. */
async function sweepQueue(
  client: SQSClient,
  queueUrl: string,
  address: string,
  waitTimeSeconds: number,
  found: (nome: string, email: string) => void,
): Promise<{ deleted: number; notRestored: number }> {
  const others: string[] = [];
  const seen = new Set<string>();
  let deleted = 0;
  let failure: unknown;
  try {
    for (;;) {
      const { Messages = [] } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: BATCH_MAX_ENTRIES,
          WaitTimeSeconds: waitTimeSeconds,
          VisibilityTimeout: SWEEP_VISIBILITY_SECONDS,
        }),
      );
      const fresh = Messages.filter((m: Message) => !seen.has(m.MessageId ?? m.ReceiptHandle ?? ""));
      if (fresh.length === 0) break;
      const mine: Message[] = [];
      for (const message of fresh) {
        seen.add(message.MessageId ?? message.ReceiptHandle ?? "");
        const match = bodyOf(message.Body ?? "", address);
        if (match.matches) {
          mine.push(message);
          if (match.nome !== undefined && match.email !== undefined) found(match.nome, match.email);
        } else if (message.ReceiptHandle) {
          others.push(message.ReceiptHandle);
        }
      }
      if (mine.length > 0) {
        const { Failed = [] } = await client.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: mine.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
          }),
        );
        if (Failed.length > 0) {
          throw new ForgetIncompleteError(queueUrl, Failed.length, Failed[0]?.Code ?? "Unknown");
        }
        deleted += mine.length;
      }
    }
  } catch (error) {
    failure = error;
  }
  // Everyone else's messages go back at once, even after a failure half-way.
  const notRestored = await changeVisibility(client, queueUrl, others, 0);
  if (failure !== undefined) throw failure;
  return { deleted, notRestored };
}

/** Deletes the person's `.eml` files and their journal lines; returns the names found. */
async function sweepOutbox(
  outboxDir: string,
  address: string,
  found: (nome: string, email: string) => void,
): Promise<{ files: number; lines: number }> {
  let names: string[];
  try {
    names = await readdir(outboxDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { files: 0, lines: 0 };
    throw error;
  }
  const ids = new Set<string>();
  for (const name of names.filter((n) => n.endsWith(".eml"))) {
    const file = join(outboxDir, name);
    const recipient = recipientOf(await readFile(file, "utf8"));
    if (!recipient || addressKey(recipient.email) !== address) continue;
    if (recipient.nome !== undefined) found(recipient.nome, recipient.email);
    await rm(file, { force: true });
    ids.add(name.slice(0, -".eml".length));
  }
  let lines = 0;
  if (ids.size > 0) {
    const journal = join(outboxDir, JOURNAL);
    let text: string;
    try {
      text = await readFile(journal, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { files: ids.size, lines: 0 };
      throw error;
    }
    const kept = text.split("\n").filter((line) => {
      const drop = line !== "" && ids.has(line.split("\t", 1)[0] ?? "");
      if (drop) lines += 1;
      return !drop;
    });
    // Write then rename: a crash leaves the old journal or the new one, never half of one.
    const temporary = `${journal}.${process.pid}.forget.tmp`;
    await writeFile(temporary, kept.join("\n"));
    await rename(temporary, journal);
  }
  return { files: ids.size, lines };
}

export async function forgetPerson(options: ForgetOptions): Promise<ForgetReport> {
  const address = addressKey(options.email);
  const forms = new Map<string, { nome: string; email: string }>();
  const found = (nome: string, email: string) => {
    const [n, e] = normaliseForDigest({ nome, email });
    forms.set(JSON.stringify([n, e]), { nome: n, email: e });
  };
  for (const nome of options.nomes ?? []) found(nome, options.email);

  let queueMessages = 0;
  let deadLetterMessages = 0;
  let notRestored = 0;
  if (options.sqs) {
    const { client, queues, waitTimeSeconds = 1 } = options.sqs;
    const main = await sweepQueue(client, queues.queueUrl, address, waitTimeSeconds, found);
    const dead = await sweepQueue(client, queues.deadLetterQueueUrl, address, waitTimeSeconds, found);
    queueMessages = main.deleted;
    deadLetterMessages = dead.deleted;
    notRestored = main.notRestored + dead.notRestored;
  }
  const outbox = options.outboxDir
    ? await sweepOutbox(options.outboxDir, address, found)
    : { files: 0, lines: 0 };

  let storeRecords = 0;
  if (options.store) {
    for (const form of forms.values()) {
      storeRecords += await options.store.forget(registrationDigest(form, options.digestKey));
    }
  }
  // The address digest keeps the local part's case, as SES reports it: every spelling seen.
  let suppressions: number | undefined;
  if (options.suppression) {
    suppressions = 0;
    const spellings = new Set([options.email, ...[...forms.values()].map((form) => form.email)]);
    const digests = new Set([...spellings].map((email) => addressDigest(email, options.digestKey)));
    for (const digest of digests) suppressions += await options.suppression.forget(digest);
  }
  return {
    digests: forms.size,
    storeRecords,
    ...(suppressions === undefined ? {} : { suppressions }),
    outboxFiles: outbox.files,
    journalLines: outbox.lines,
    queueMessages,
    deadLetterMessages,
    notRestored,
  };
}
