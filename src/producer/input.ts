/**
 * Where registrations come from: flags, generated fake data, or NDJSON. Every input is
 * validated in full before anything is sent, so a bad line is reported with its number while
 * nothing has left yet.
 */
import type { DigestKey } from "../contract/digest.js";
import {
  type OutgoingRegistration,
  type Registration,
  toOutgoing,
  toRegistration,
  WrongShapeError,
} from "../contract/registration.js";
import { UserFacingError } from "../errors.js";
import { bodyOf } from "./producer.js";

export interface InvalidInput {
  /** 1-based line number (NDJSON) or position (other inputs). */
  readonly line: number;
  readonly reason: string;
}

export interface PreparedInput {
  readonly registrations: OutgoingRegistration[];
  /** Line number of each registration, for failure reports. */
  readonly lines: number[];
  readonly invalid: InvalidInput[];
}

/**
 * `count` registrations with realistic Brazilian names (the original system's users), the same
 * for the same seed. Addresses are under the example domains (RFC 2606) and made unique with a
 * `+n` tag, so no real person is ever written to.
 *
 * Fake data is a development and demo feature: @faker-js/faker is a dev dependency, loaded only
 * here, so that a production install (the consumer image) goes without it.
 */
export async function generateRegistrations(count: number, seed = 1): Promise<Registration[]> {
  let library: typeof import("@faker-js/faker");
  try {
    library = await import("@faker-js/faker");
  } catch {
    throw new UserFacingError(
      "Generated registrations (--count) need the development dependency @faker-js/faker: run `npm ci` (not `npm ci --omit=dev`), or send real ones with --nome/--email or --file.",
    );
  }
  const { Faker, base, en, pt_BR } = library;
  const faker = new Faker({ locale: [pt_BR, en, base] });
  faker.seed(seed);
  return Array.from({ length: count }, (_, i) => {
    const firstName = faker.person.firstName();
    const lastName = faker.person.lastName();
    const email = faker.internet.exampleEmail({ firstName, lastName }).replace("@", `+${i + 1}@`);
    return { nome: `${firstName} ${lastName}`, email: email.toLowerCase() };
  });
}

/** Parses NDJSON: one registration object a line; blank lines are skipped. */
export function parseNdjson(text: string): {
  items: { line: number; value: Registration }[];
  invalid: InvalidInput[];
} {
  const items: { line: number; value: Registration }[] = [];
  const invalid: InvalidInput[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === "") return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      invalid.push({ line, reason: "not JSON" });
      return;
    }
    try {
      items.push({ line, value: toRegistration(json) });
    } catch (error) {
      invalid.push({
        line,
        reason: error instanceof WrongShapeError ? error.issues.join("; ") : String(error),
      });
    }
  });
  return { items, invalid };
}

/**
 * Adds ids and timestamps and checks each body against the queue's size limit: an oversized body
 * is reported as invalid input here rather than failing inside a batch later.
 */
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
  for (const { line, value } of items) {
    const outgoing = toOutgoing(value, now, digestKey);
    const bytes = Buffer.byteLength(bodyOf(outgoing));
    if (bytes > maxMessageBytes) {
      problems.push({
        line,
        reason: `body is ${bytes} bytes; the queue accepts at most ${maxMessageBytes} (drop extra fields)`,
      });
      continue;
    }
    registrations.push(outgoing);
    lines.push(line);
  }
  problems.sort((a, b) => a.line - b.line);
  return { registrations, lines, invalid: problems };
}
