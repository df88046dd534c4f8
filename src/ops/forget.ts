/**
 * `npm run forget -- --email … [--nome …]`: erase one person from every place this system keeps
 * them (docs/personal-data.md lists each):
 *
 * - messages still queued: the registrations' queue and its dead-letter queue, and the bounce
 *   queue and its dead-letter queue (SES events quote the address and the email's headers) —
 *   the bounce queue before the suppression list, so that no event of theirs left behind puts
 *   the entry back after it was removed;
 * - the outbox: `.eml` files and their `sent.log` lines, and temporary files a writer killed
 *   mid-write left behind (`<id>.eml.<pid>.<rand>.tmp`);
 * - accepted sends waiting for their record (`<state-dir>/accepted/accepted.sqlite`, and an
 *   earlier version's `<id>.json` files), by the same digests as the store's records;
 * - the sent-email store's records, and the address's entry in the suppression list (keyed by the
 *   address alone, so found without a name), under the current digest and the legacy one.
 *
 * Addresses compare through `normaliseAddress` (contract/digest.ts), as every other part does.
 * The store keeps only a keyed digest of the normalised name *and* address, so an address alone
 * finds nothing there. The names come from where the address is found: the queued messages'
 * bodies, SES events' `To:` headers and the outbox files' `To:` headers, plus any `--nome` given.
 * A record whose registration left no message and no outbox file behind is found only with
 * `--nome` (otherwise it expires with the store's retention). Records and suppression entries
 * written before the case fold are keyed by the spelling they were written under: forget tries
 * every spelling it saw (and the one given).
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
import { forgetAcceptedSends } from "../consumer/accepted-sends.js";
import { JOURNAL, OUTBOX_TEMPORARY_FILE } from "../consumer/mail/outbox.js";
import type { SuppressionList } from "../consumer/mail/suppression.js";
import type { SentEmailStore } from "../consumer/store/contract.js";
import { addressDigests, type DigestKey, normaliseAddress, registrationDigests } from "../contract/digest.js";
import { BATCH_MAX_ENTRIES } from "../sqs/limits.js";
import type { QueuePairUrls } from "../sqs/queue-pair.js";
import { ForgetIncompleteError } from "./errors.js";
import { changeVisibility } from "./queues.js";

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
  /** Accepted sends waiting for their record (`<state-dir>/accepted`): facts keyed by the same digests. */
  readonly acceptedDir?: string;
  readonly sqs?: {
    readonly client: SQSClient;
    readonly queues: QueuePairUrls;
    /** The bounce queue and its dead-letter queue, when the stack has them. */
    readonly bounceQueues?: QueuePairUrls | undefined;
    readonly waitTimeSeconds?: number;
  };
}

export interface ForgetReport {
  /** Distinct names the store's digests were computed from (with every spelling of the address). */
  readonly digests: number;
  readonly storeRecords: number;
  /** Suppression-list entries removed (absent when no list was given). */
  readonly suppressions?: number;
  readonly outboxFiles: number;
  /** Temporary files of interrupted writes (`<id>.eml.<pid>.<rand>.tmp`) removed. */
  readonly outboxTemporaryFiles: number;
  readonly journalLines: number;
  /** Accepted-send facts (rows of `<state-dir>/accepted/accepted.sqlite`, an earlier version's files too) removed. */
  readonly acceptedSends: number;
  readonly queueMessages: number;
  readonly deadLetterMessages: number;
  /** Absent when the stack has no bounce queue. */
  readonly bounceQueueMessages?: number;
  readonly bounceDeadLetterMessages?: number;
  /** Messages of others that could not be handed back: they return after SWEEP_VISIBILITY_SECONDS. */
  readonly notRestored: number;
}

/** The address as every comparison sees it: one mailbox, whatever case it was typed in. */
export function addressKey(email: string): string {
  return normaliseAddress(email);
}

const ADDRESS = /[^\s@"'<>(),;:]+@[^\s@"'<>(),;:]+\.[^\s@"'<>(),;:]+/g;

/** Every string in a JSON value, and in JSON text inside it (an SNS envelope's `Message`), a few levels deep. */
function stringsIn(value: unknown, depth = 0, out: string[] = []): string[] {
  if (depth > 4) return out;
  if (typeof value === "string") {
    out.push(value);
    const text = value.trim();
    if (text.startsWith("{") || text.startsWith("[")) {
      try {
        stringsIn(JSON.parse(text), depth + 1, out);
      } catch {
        // Not JSON after all: the string itself was searched.
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) stringsIn(item, depth + 1, out);
  } else if (value && typeof value === "object") {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      stringsIn(item, depth + 1, out);
    }
  }
  return out;
}

/** A `Name <address>` header value (an SES event's `commonHeaders.to`, a `To:` header). */
function mailbox(text: string): { nome?: string; email: string } | undefined {
  const angle = text.match(/^(?:to:\s*)?(.*)<([^<>]+)>\s*$/i);
  if (!angle) return undefined;
  let display = (angle[1] ?? "").trim();
  if (display.startsWith('"') && display.endsWith('"'))
    display = display.slice(1, -1).replace(/\\(.)/g, "$1");
  display = decodeEncodedWords(display).trim();
  return { ...(display ? { nome: display } : {}), email: (angle[2] ?? "").trim() };
}

/**
 * Whether a message body is this person's: its `email` field, or the address anywhere in it (raw,
 * or in any string of its JSON, SNS envelopes unwrapped). Reports the names and spellings found.
 */
function bodyOf(
  body: string,
  address: string,
  found: (nome: string | undefined, email: string) => void,
): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    value = undefined; // Not JSON (a poison message): it may still quote the address.
  }
  const fields = value && typeof value === "object" ? (value as { nome?: unknown; email?: unknown }) : {};
  if (typeof fields.email === "string" && addressKey(fields.email) === address) {
    found(typeof fields.nome === "string" ? fields.nome : undefined, fields.email);
    return true;
  }
  let matches = false;
  for (const text of [body, ...(value === undefined ? [] : stringsIn(value))]) {
    for (const spelling of text.match(ADDRESS) ?? []) {
      if (addressKey(spelling) !== address) continue;
      matches = true;
      found(undefined, spelling);
    }
    const named = mailbox(text);
    if (named && addressKey(named.email) === address) {
      matches = true;
      found(named.nome, named.email);
    }
  }
  return matches;
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
  return mailbox(value) ?? { email: value };
}

/** Receives every message it can, deletes the person's, hands the others back. */
async function sweepQueue(
  client: SQSClient,
  queueUrl: string,
  address: string,
  waitTimeSeconds: number,
  found: (nome: string | undefined, email: string) => void,
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
        if (bodyOf(message.Body ?? "", address, found)) {
          mine.push(message);
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

/**
 * Deletes the person's `.eml` files and their journal lines, and the temporary files of writes
 * that were cut off: theirs (the address anywhere in it), and any whose `To:` header is
 * incomplete (cut before it: no one's email, and it could hold the start of theirs).
 */
async function sweepOutbox(
  outboxDir: string,
  address: string,
  found: (nome: string | undefined, email: string) => void,
): Promise<{ files: number; temporaryFiles: number; lines: number }> {
  let names: string[];
  try {
    names = await readdir(outboxDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { files: 0, temporaryFiles: 0, lines: 0 };
    throw error;
  }
  const ids = new Set<string>();
  for (const name of names.filter((n) => n.endsWith(".eml"))) {
    const file = join(outboxDir, name);
    const recipient = recipientOf(await readFile(file, "utf8"));
    if (!recipient || addressKey(recipient.email) !== address) continue;
    found(recipient.nome, recipient.email);
    await rm(file, { force: true });
    ids.add(name.slice(0, -".eml".length));
  }
  let temporaryFiles = 0;
  for (const name of names.filter((n) => OUTBOX_TEMPORARY_FILE.test(n))) {
    const file = join(outboxDir, name);
    const text = await readFile(file, "utf8").catch(() => undefined);
    if (text === undefined) continue; // renamed or removed since the listing
    const recipient = recipientOf(text);
    const theirs =
      (recipient !== undefined && addressKey(recipient.email) === address) ||
      (text.match(ADDRESS) ?? []).some((spelling) => addressKey(spelling) === address);
    if (recipient !== undefined && !theirs) continue;
    if (recipient && theirs) found(recipient.nome, recipient.email);
    await rm(file, { force: true });
    temporaryFiles += 1;
  }
  let lines = 0;
  if (ids.size > 0) {
    const journal = join(outboxDir, JOURNAL);
    let text: string;
    try {
      text = await readFile(journal, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT")
        return { files: ids.size, temporaryFiles, lines: 0 };
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
  return { files: ids.size, temporaryFiles, lines };
}

export async function forgetPerson(options: ForgetOptions): Promise<ForgetReport> {
  const address = addressKey(options.email);
  // Names (normalised, deduplicated) and every spelling of the address seen anywhere: records
  // written before the case fold are keyed by a spelling, and any name may go with any of them.
  const names = new Set<string>();
  const spellings = new Set<string>([options.email.trim()]);
  const found = (nome: string | undefined, email: string) => {
    spellings.add(email.trim());
    const name = nome?.normalize("NFC").trim();
    if (name) names.add(name);
  };
  for (const nome of options.nomes ?? []) found(nome, options.email);

  let queueMessages = 0;
  let deadLetterMessages = 0;
  let bounce: { queue: number; deadLetter: number } | undefined;
  let notRestored = 0;
  if (options.sqs) {
    const { client, queues, bounceQueues, waitTimeSeconds = 1 } = options.sqs;
    const sweep = async (queueUrl: string) => {
      const result = await sweepQueue(client, queueUrl, address, waitTimeSeconds, found);
      notRestored += result.notRestored;
      return result.deleted;
    };
    queueMessages = await sweep(queues.queueUrl);
    deadLetterMessages = await sweep(queues.deadLetterQueueUrl);
    // Before the suppression list: a bounce event of theirs left queued would put it back.
    if (bounceQueues) {
      bounce = {
        queue: await sweep(bounceQueues.queueUrl),
        deadLetter: await sweep(bounceQueues.deadLetterQueueUrl),
      };
    }
  }
  const outbox = options.outboxDir
    ? await sweepOutbox(options.outboxDir, address, found)
    : { files: 0, temporaryFiles: 0, lines: 0 };

  // Current and legacy digests of every name with every spelling, each asked once.
  const digests = new Set<string>();
  for (const nome of names) {
    for (const email of spellings) {
      for (const digest of registrationDigests({ nome, email }, options.digestKey)) digests.add(digest);
    }
  }
  let storeRecords = 0;
  if (options.store) {
    for (const digest of digests) storeRecords += await options.store.forget(digest);
  }
  const acceptedSends = options.acceptedDir ? await forgetAcceptedSends(options.acceptedDir, digests) : 0;
  let suppressions: number | undefined;
  if (options.suppression) {
    suppressions = 0;
    const digests = new Set([...spellings].flatMap((email) => addressDigests(email, options.digestKey)));
    for (const digest of digests) suppressions += await options.suppression.forget(digest);
  }
  return {
    digests: names.size,
    storeRecords,
    ...(suppressions === undefined ? {} : { suppressions }),
    outboxFiles: outbox.files,
    outboxTemporaryFiles: outbox.temporaryFiles,
    journalLines: outbox.lines,
    acceptedSends,
    queueMessages,
    deadLetterMessages,
    ...(bounce === undefined
      ? {}
      : { bounceQueueMessages: bounce.queue, bounceDeadLetterMessages: bounce.deadLetter }),
    notRestored,
  };
}
