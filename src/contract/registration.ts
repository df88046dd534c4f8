/**
 * The message contract: a user registration, as the original Python system sends it.
 *
 * Its producer sends exactly `{"nome": ..., "email": ...}` and its consumer reads `body["nome"]`
 * and `body["email"]`. Ours adds a stable `id` and `registeredAt`; both are optional on the way in
 * so that a message from the original producer is still accepted. Unknown fields pass through.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

/** Longest accepted name, in characters: generous for real names, small enough to stop garbage. */
export const MAX_NAME_LENGTH = 200;

export const registrationSchema = z.looseObject({
  nome: z
    .string({ error: "nome must be a string" })
    .trim()
    .min(1, "nome must not be empty")
    .max(MAX_NAME_LENGTH, `nome must be at most ${MAX_NAME_LENGTH} characters`),
  email: z.email({ error: "email must be a valid email address" }),
  id: z.string().trim().min(1).max(128).optional(),
  registeredAt: z.iso.datetime({ offset: true }).optional(),
});

/** A registration as read from a message: the two original fields are always present. */
export type Registration = z.infer<typeof registrationSchema>;

/** A registration as our producer sends it: with a stable id and a timestamp. */
export type OutgoingRegistration = Registration & { id: string; registeredAt: string };

export class NotJsonError extends Error {
  override readonly name = "NotJsonError";
  readonly reason = "not-json";
  constructor(cause: unknown) {
    super(`body is not JSON (${cause instanceof Error ? cause.message : String(cause)})`, { cause });
  }
}

export class WrongShapeError extends Error {
  override readonly name = "WrongShapeError";
  readonly reason = "wrong-shape";
  constructor(readonly issues: readonly string[]) {
    super(`body is not a registration: ${issues.join("; ")}`);
  }
}

export type ContractError = NotJsonError | WrongShapeError;

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
  } catch (error) {
    throw new NotJsonError(error);
  }
  return toRegistration(value);
}

function describeJson(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * A registration id that is the same every time the same input is sent again, so that a resend
 * (or SQS's at-least-once delivery) cannot send a second welcome email.
 */
export function registrationIdFor(registration: Pick<Registration, "nome" | "email">): string {
  const digest = createHash("sha256")
    .update(`${registration.email.toLowerCase()}\n${registration.nome}`)
    .digest("hex");
  return `reg_${digest.slice(0, 32)}`;
}

/** Adds the id and timestamp our producer sends, keeping any the input already had. */
export function toOutgoing(registration: Registration, now: () => Date): OutgoingRegistration {
  return {
    ...registration,
    id: registration.id ?? registrationIdFor(registration),
    registeredAt: registration.registeredAt ?? now().toISOString(),
  };
}

/** The id under which a received registration is processed (and deduplicated). */
export function processingIdOf(registration: Registration): string {
  return registration.id ?? registrationIdFor(registration);
}

/** Masks an address for logs: `maria@example.com` → `m***@example.com`. */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  return `${email[0]}***${email.slice(at)}`;
}
