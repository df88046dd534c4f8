/**
 * The message contract: a user registration, as the original Python system sends it.
 *
 * Its producer sends exactly `{"nome": ..., "email": ...}` and its consumer reads `body["nome"]`
 * and `body["email"]`. Ours adds a stable `id` and `registeredAt`; both are optional on the way in
 * so that a message from the original producer is still accepted. Unknown fields pass through.
 *
 * Every value in a body is untrusted: the id names files and reaches a journal, the name and the
 * address reach email headers. So the contract is strict about each, and its errors say what was
 * wrong and where, never what the body contained (a body is personal data).
 */
import { domainToASCII } from "node:url";
import { z } from "zod";
import { type DigestKey, registrationIdFor } from "./digest.js";

/** Longest accepted name, in characters: generous for real names, small enough to stop garbage. */
export const MAX_NAME_LENGTH = 200;

/**
 * A registration id: 1–128 of `A–Z a–z 0–9 _ . : -`, not starting with a dot. Safe as a file
 * name, a header value and a log field as it is (no separators, no `..`, no CR/LF, no spaces).
 */
export const REGISTRATION_ID_PATTERN = /^[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,127}$/;

/** C0 and C1 controls (NUL, CR, LF, TAB, DEL, U+0080–U+009F) and the line/paragraph separators. */
const CONTROL = /[\p{Cc}\u2028\u2029]/u;
/** Bidi embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069): they reorder headers. */
const BIDI = /[\u202A-\u202E\u2066-\u2069]/u;
/** RFC 5322 dot-atom, ASCII only: quoted local parts and SMTPUTF8 (non-ASCII) local parts are refused. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** A host name in its ASCII form: letter-digit-hyphen labels, a letter TLD or an IDN (`xn--`) one. */
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;
/** Longest address SMTP carries (RFC 5321 §4.5.3.1.3: a 256-octet path, less the brackets). */
const MAX_EMAIL_LENGTH = 254;

type Check = (value: string) => string | undefined;

/** Runs checks in order; the first problem becomes the issue (its message only, never the value). */
function checked<T>(checks: readonly Check[], then: (value: string) => T) {
  return (value: string, context: z.core.$RefinementCtx<string>): T => {
    for (const check of checks) {
      const problem = check(value);
      if (problem !== undefined) {
        context.addIssue({ code: "custom", message: problem });
        return z.NEVER;
      }
    }
    return then(value);
  };
}

const nomeSchema = z
  .string({ error: "nome must be a string" })
  .transform(
    checked(
      [
        (v) =>
          CONTROL.test(v) ? "nome must not contain control characters (NUL, CR, LF, tab, C1)" : undefined,
        (v) =>
          BIDI.test(v)
            ? "nome must not contain bidirectional overrides or isolates (U+202A–U+202E, U+2066–U+2069)"
            : undefined,
        (v) => (v.trim() === "" ? "nome must not be empty" : undefined),
        (v) =>
          [...v.trim()].length > MAX_NAME_LENGTH
            ? `nome must be at most ${MAX_NAME_LENGTH} characters`
            : undefined,
      ],
      (v) => v.normalize("NFC").trim(),
    ),
  );

function splitAddress(value: string): { local: string; domain: string } | undefined {
  const at = value.lastIndexOf("@");
  if (at < 1 || at === value.length - 1) return undefined;
  return { local: value.slice(0, at), domain: value.slice(at + 1) };
}

/** What is wrong with a (trimmed, control-free) address, if anything. */
function emailProblem(value: string): string | undefined {
  if (value.length > MAX_EMAIL_LENGTH) return `email must be at most ${MAX_EMAIL_LENGTH} characters`;
  const parts = splitAddress(value);
  if (!parts) return "email must be a valid email address (local@domain)";
  if (/[^\x20-\x7e]/.test(parts.local)) {
    return "email must have an ASCII local part: internationalised (SMTPUTF8) addresses are not accepted";
  }
  if (parts.local.length > 64 || !LOCAL_PART.test(parts.local)) {
    return "email must be a valid email address (the part before @)";
  }
  if (!DOMAIN.test(domainToASCII(parts.domain))) return "email must be a valid email address (the domain)";
  return undefined;
}

/**
 * Internationalised domains are accepted and passed on in their ASCII form (`bücher.de` →
 * `xn--bcher-kva.de`), which every mail server understands. A non-ASCII local part
 * (`josé@exemplo.com.br`) needs SMTPUTF8 on every hop, which is not universal: refused, so that
 * it waits in the dead-letter queue with its reason instead of bouncing later.
 */
const emailSchema = z.string({ error: "email must be a string" }).transform(
  checked(
    [
      (v) => (CONTROL.test(v) ? "email must not contain control characters (CR, LF, NUL, tab)" : undefined),
      (v) => emailProblem(v.trim()),
    ],
    (v) => {
      const { local, domain } = splitAddress(v.trim()) as { local: string; domain: string };
      return `${local}@${domainToASCII(domain)}`;
    },
  ),
);

/**
 * Other producers send ids as JSON numbers (a database key): a safe integer is accepted as its
 * decimal string (`42` and `"42"` are the same id). Any other number is refused: its text form
 * is ambiguous (`1e21`, `0.1`) or JSON.parse has already rounded it (beyond 2^53).
 */
const idSchema = z
  .union([z.string(), z.number()], { error: "id must be a string or a whole number" })
  .transform((value, context) => {
    if (typeof value === "number" && !Number.isSafeInteger(value)) {
      context.addIssue({
        code: "custom",
        message: "id must be a whole number of at most 2^53 − 1, or a string",
      });
      return z.NEVER;
    }
    const id = String(value);
    if (!REGISTRATION_ID_PATTERN.test(id)) {
      context.addIssue({
        code: "custom",
        message: "id must be 1–128 characters of A–Z, a–z, 0–9, _ . : - and must not start with a dot",
      });
      return z.NEVER;
    }
    return id;
  });

/** A zone designator at the end of an ISO 8601 date-time: `Z`, `+02:00`, `-0300`. */
const ZONE = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

/**
 * ISO 8601 with a zone, or without one as Python's `datetime.isoformat()` writes a naive time
 * (`2024-05-01T12:30:45.123456`): read as UTC (the convention of `datetime.utcnow()` producers),
 * and passed on with an explicit `Z`.
 */
const registeredAtSchema = z.iso
  .datetime({ offset: true, local: true, error: "registeredAt must be an ISO 8601 date-time" })
  .transform((value) => (ZONE.test(value) ? value : `${value}Z`));

export const registrationSchema = z.looseObject({
  nome: nomeSchema,
  email: emailSchema,
  id: idSchema.optional(),
  registeredAt: registeredAtSchema.optional(),
});

/** A registration as read from a message: the two original fields are always present. */
export type Registration = z.infer<typeof registrationSchema>;

/** A registration as our producer sends it: with a stable id and a timestamp. */
export type OutgoingRegistration = Registration & { id: string; registeredAt: string };

/**
 * The body is not JSON. The message says where and how long, never what: V8's own message quotes
 * the body (an address sent as a body would reach logs and dead-letter attributes), so the
 * SyntaxError is not kept as the cause either.
 */
export class NotJsonError extends Error {
  override readonly name = "NotJsonError";
  readonly reason = "not-json";
  constructor(
    /** UTF-8 byte offset of the first syntax error, when it could be found. */
    readonly byteOffset: number | undefined,
    /** The body's length in UTF-8 bytes. */
    readonly byteLength: number,
  ) {
    super(
      byteOffset === undefined
        ? `body is not JSON (length ${byteLength} bytes)`
        : `body is not JSON: syntax error at byte ${byteOffset}, length ${byteLength} bytes`,
    );
  }
}

/** The body is JSON but not a registration: each issue names a field and the rule, never a value. */
export class WrongShapeError extends Error {
  override readonly name = "WrongShapeError";
  readonly reason = "wrong-shape";
  constructor(readonly issues: readonly string[]) {
    super(`body is not a registration: ${issues.join("; ")}`);
  }
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.join(".");
    return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
  });
}

/** Validates an already-parsed value. Throws WrongShapeError. */
export function toRegistration(value: unknown): Registration {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WrongShapeError([`expected a JSON object with nome and email, got ${describeJson(value)}`]);
  }
  const result = registrationSchema.safeParse(value);
  if (!result.success) throw new WrongShapeError(describeIssues(result.error));
  return result.data;
}

/** Parses a message body. Throws NotJsonError or WrongShapeError; they are different failures. */
export function parseRegistration(body: string): Registration {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    const offset = syntaxErrorOffset(body);
    throw new NotJsonError(
      offset === undefined ? undefined : Buffer.byteLength(body.slice(0, offset)),
      Buffer.byteLength(body),
    );
  }
  return toRegistration(value);
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

const NUMBER = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
const ESCAPE = /\\(["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/**
 * Where JSON.parse gave up, as a character offset: a small RFC 8259 scanner, because V8's
 * message has no position in most cases (and quotes the text instead). Undefined when the text is
 * too deeply nested to scan.
 */
export function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw new SyntaxErrorAt(i);
  };
  const space = () => {
    while (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r") i++;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      const code = text.charCodeAt(i);
      if (Number.isNaN(code) || code < 0x20) fail();
      if (code === 0x22) {
        i++;
        return;
      }
      if (code === 0x5c) {
        ESCAPE.lastIndex = i;
        if (!ESCAPE.test(text)) fail();
        i = ESCAPE.lastIndex;
      } else i++;
    }
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === "{") {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ":") fail();
          i++;
        }
        value();
        space();
        if (text[i] === ",") i++;
        else if (text[i] === close) {
          i++;
          return;
        } else fail();
      }
    }
    if (c === '"') {
      string();
      return;
    }
    for (const word of ["true", "false", "null"]) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    NUMBER.lastIndex = i;
    if (!NUMBER.test(text)) fail();
    i = NUMBER.lastIndex;
  };
  try {
    value();
    space();
    if (i < text.length) fail();
    return i; // valid JSON after all (should not happen): point past the end
  } catch (error) {
    if (error instanceof SyntaxErrorAt) return error.offset;
    if (error instanceof RangeError) return undefined; // nested too deeply for this scanner
    throw error;
  }
}

class SyntaxErrorAt {
  constructor(readonly offset: number) {}
}

/** Adds the id and timestamp our producer sends, keeping any the input already had. */
export function toOutgoing(
  registration: Registration,
  now: () => Date,
  key: DigestKey,
): OutgoingRegistration {
  return {
    ...registration,
    id: registration.id ?? registrationIdFor(registration, key),
    registeredAt: registration.registeredAt ?? now().toISOString(),
  };
}

/** The id under which a received registration is processed (and deduplicated). */
export function processingIdOf(registration: Registration, key: DigestKey): string {
  return registration.id ?? registrationIdFor(registration, key);
}

/** Masks an address for logs: `maria@example.com` → `m***@example.com`. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  return `${email[0]}***${email.slice(at)}`;
}
