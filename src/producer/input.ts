/**
 * Where registrations come from: flags, generated fake data, or NDJSON from a file or standard
 * input. Everything is streamed: a line is read, validated and handed to the producer only when
 * the producer asks for more, so memory stays flat whatever the input's size.
 * Invalid lines are reported by number as they are met.
 */
import { StringDecoder } from "node:string_decoder";
import type { DigestKey } from "../contract/digest.js";
import {
  type OutgoingRegistration,
  type Registration,
  toOutgoing,
  toRegistration,
  WrongShapeError,
} from "../contract/registration.js";
import { UserFacingError } from "../errors.js";
import type { NumberedRegistration } from "./producer.js";
import { bodyOf } from "./producer.js";

export interface InvalidInput {
  /** 1-based line number (NDJSON) or position (other inputs). */
  readonly line: number;
  readonly reason: string;
}

export interface InputLine {
  /** 1-based. */
  readonly line: number;
  readonly text: string;
  /** The line was longer than MAX_LINE_CHARS; its text was dropped unread. */
  readonly tooLong?: boolean;
}

/** A registration read from the input, or why a line is not one. */
export type InputItem = { readonly line: number; readonly value: Registration } | InvalidInput;

export interface PreparedInput {
  readonly registrations: OutgoingRegistration[];
  /** Line number of each registration, for failure reports. */
  readonly lines: number[];
  readonly invalid: InvalidInput[];
}

/** A UTF-8 byte order mark, which some editors (and PowerShell) put at the start of a file. */
const BOM = "\uFEFF";

/**
 * No line of NDJSON needs more than this: a registration is far smaller than SQS's largest
 * message (1 MiB). Longer lines are reported invalid without being held in memory.
 */
export const MAX_LINE_CHARS = 1_048_576;

async function loadFaker(): Promise<typeof import("@faker-js/faker")> {
  try {
    return await import("@faker-js/faker");
  } catch {
    throw new UserFacingError(
      "Generated registrations (--count) need the development dependency @faker-js/faker: run `npm ci` (not `npm ci --omit=dev`), or send real ones with --nome/--email or --file.",
    );
  }
}

/**
 * `count` registrations with realistic Brazilian names (the original system's users), the same
 * for the same seed, generated one at a time as they are asked for. Addresses are under the
 * example domains (RFC 2606) and made unique with a `+n` tag, so no real person is ever written to.
 *
 * Fake data is a development and demo feature: @faker-js/faker is a dev dependency, loaded only
 * here, so that a production install (the consumer image) goes without it.
 */
export async function* registrationStream(count: number, seed = 1): AsyncGenerator<Registration> {
  const { Faker, base, en, pt_BR } = await loadFaker();
  const faker = new Faker({ locale: [pt_BR, en, base] });
  faker.seed(seed);
  for (let i = 0; i < count; i++) {
    const firstName = faker.person.firstName();
    const lastName = faker.person.lastName();
    const email = faker.internet.exampleEmail({ firstName, lastName }).replace("@", `+${i + 1}@`);
    yield { nome: `${firstName} ${lastName}`, email: email.toLowerCase() };
  }
}

/** All of `registrationStream` at once, for tests and the demo (small counts). */
export async function generateRegistrations(count: number, seed = 1): Promise<Registration[]> {
  const all: Registration[] = [];
  for await (const registration of registrationStream(count, seed)) all.push(registration);
  return all;
}

/**
 * The lines of a byte stream (UTF-8; `\n` or `\r\n`), numbered from 1, with a leading BOM
 * removed. Pulls a chunk only when the consumer asks for a line past the current one, so the
 * stream's own backpressure bounds what is held.
 */
export async function* readLines(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): AsyncGenerator<InputLine> {
  const decoder = new StringDecoder("utf8");
  let pending = "";
  let tooLong = false;
  let line = 0;
  const finish = (text: string): InputLine => {
    line += 1;
    let clean = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (line === 1 && clean.startsWith(BOM)) clean = clean.slice(1);
    return { line, text: clean };
  };
  const tooLongLine = (): InputLine => {
    line += 1;
    tooLong = false;
    return { line, text: "", tooLong: true };
  };
  for await (const chunk of input) {
    let text = typeof chunk === "string" ? chunk : decoder.write(chunk);
    let newline = text.indexOf("\n");
    while (newline !== -1) {
      if (tooLong) yield tooLongLine();
      else yield finish(pending + text.slice(0, newline));
      pending = "";
      text = text.slice(newline + 1);
      newline = text.indexOf("\n");
    }
    if (tooLong) continue;
    pending += text;
    if (pending.length > MAX_LINE_CHARS) {
      tooLong = true;
      pending = "";
    }
  }
  pending += decoder.end();
  if (tooLong) yield tooLongLine();
  else if (pending !== "") yield finish(pending);
}

/** One NDJSON line: a registration, an invalid input, or undefined for a blank line. */
export function parseLine({ line, text, tooLong }: InputLine): InputItem | undefined {
  if (tooLong) {
    return { line, reason: `line is longer than ${MAX_LINE_CHARS} characters` };
  }
  if (text.trim() === "") return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { line, reason: "not JSON" };
  }
  try {
    return { line, value: toRegistration(json) };
  } catch (error) {
    return { line, reason: error instanceof WrongShapeError ? error.issues.join("; ") : String(error) };
  }
}

/** Parses NDJSON text: one registration object a line; blank lines are skipped. */
export function parseNdjson(text: string): {
  items: { line: number; value: Registration }[];
  invalid: InvalidInput[];
} {
  const items: { line: number; value: Registration }[] = [];
  const invalid: InvalidInput[] = [];
  const withoutBom = text.startsWith(BOM) ? text.slice(1) : text;
  withoutBom.split("\n").forEach((raw, i) => {
    const item = parseLine({ line: i + 1, text: raw.endsWith("\r") ? raw.slice(0, -1) : raw });
    if (!item) return;
    if ("value" in item) items.push(item);
    else invalid.push(item);
  });
  return { items, invalid };
}

/**
 * Adds the id and timestamp to one registration and checks its body against the queue's size
 * limit: an oversized body is reported as invalid input rather than failing inside a batch later.
 */
export function prepareOne(
  item: { line: number; value: Registration },
  maxMessageBytes: number,
  digestKey: DigestKey,
  now: () => Date = () => new Date(),
): NumberedRegistration | InvalidInput {
  const outgoing = toOutgoing(item.value, now, digestKey);
  const bytes = Buffer.byteLength(bodyOf(outgoing));
  if (bytes > maxMessageBytes) {
    return {
      line: item.line,
      reason: `body is ${bytes} bytes; the queue accepts at most ${maxMessageBytes} (drop extra fields)`,
    };
  }
  return { registration: outgoing, index: item.line };
}

/** `prepareOne` over a whole array (small inputs and tests). */
export function prepare(
  items: readonly { line: number; value: Registration }[],
  invalid: readonly InvalidInput[],
  maxMessageBytes: number,
  digestKey: DigestKey,
  now: () => Date = () => new Date(),
): PreparedInput {
  const registrations: OutgoingRegistration[] = [];
  const lines: number[] = [];
  const problems = [...invalid];
  for (const item of items) {
    const prepared = prepareOne(item, maxMessageBytes, digestKey, now);
    if ("reason" in prepared) {
      problems.push(prepared);
      continue;
    }
    registrations.push(prepared.registration);
    lines.push(item.line);
  }
  problems.sort((a, b) => a.line - b.line);
  return { registrations, lines, invalid: problems };
}

/**
 * Registrations ready to send, from any input items, numbered by line; each invalid one is
 * passed to `onInvalid` (and counted) instead. Lazy: nothing is read before the producer asks.
 */
export async function* preparedStream(
  items: AsyncIterable<InputItem | undefined>,
  maxMessageBytes: number,
  digestKey: DigestKey,
  onInvalid: (problem: InvalidInput) => void,
  now: () => Date = () => new Date(),
): AsyncGenerator<NumberedRegistration> {
  for await (const item of items) {
    if (!item) continue;
    if (!("value" in item)) {
      onInvalid(item);
      continue;
    }
    const prepared = prepareOne(item, maxMessageBytes, digestKey, now);
    if ("reason" in prepared) onInvalid(prepared);
    else yield prepared;
  }
}

/** Parsed items of an NDJSON byte stream. */
export async function* ndjsonItems(
  input: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
): AsyncGenerator<InputItem | undefined> {
  for await (const line of readLines(input)) yield parseLine(line);
}

/** Generated registrations as input items, numbered from 1. */
export async function* generatedItems(count: number, seed: number): AsyncGenerator<InputItem> {
  let line = 0;
  for await (const value of registrationStream(count, seed)) yield { line: ++line, value };
}
