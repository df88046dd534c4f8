/**
 * The registration digest: what binds a sent-email record to the registration's content, and
 * what a default registration id is made from.
 *
 * - Over `nome` and `email` only (never timestamps or trace attributes: a resend must match).
 * - Normalised: Unicode NFC and trimmed; the email's domain lower-cased (and IDN domains in their
 *   ASCII form, as the contract delivers them). The local part keeps its case (RFC 5321 §2.4).
 * - Keyed (HMAC-SHA256 with a deployment secret): a plain hash of a name and an address is
 *   personal data that a dictionary of likely addresses reverses.
 */
import { createHmac } from "node:crypto";
import { domainToASCII } from "node:url";
import { inspect } from "node:util";

/** Shortest accepted secret, in characters (e.g. `openssl rand -hex 32` gives 64). */
export const MIN_DIGEST_KEY_LENGTH = 32;

export class DigestKeyError extends Error {
  override readonly name = "DigestKeyError";
}

/** The deployment secret. Prints as `[digest key]`, so it cannot leak through a log line. */
export class DigestKey {
  readonly #secret: string;

  constructor(secret: string) {
    if (secret.length < MIN_DIGEST_KEY_LENGTH) {
      throw new DigestKeyError(
        `the registration digest key must be at least ${MIN_DIGEST_KEY_LENGTH} characters (e.g. \`openssl rand -hex 32\`)`,
      );
    }
    this.#secret = secret;
  }

  /** HMAC-SHA256 of `parts` (JSON-encoded, so that no two part lists share an input), hex. */
  hmac(parts: readonly string[]): string {
    return createHmac("sha256", this.#secret).update(JSON.stringify(parts)).digest("hex");
  }

  toString(): string {
    return "[digest key]";
  }

  toJSON(): string {
    return "[digest key]";
  }

  [inspect.custom](): string {
    return "[digest key]";
  }
}

/** What the digest covers, normalised. */
export function normaliseForDigest(registration: { nome: string; email: string }): [string, string] {
  const nome = registration.nome.normalize("NFC").trim();
  const email = registration.email.normalize("NFC").trim();
  const at = email.lastIndexOf("@");
  if (at < 0) return [nome, email];
  const domain = email.slice(at + 1);
  return [nome, `${email.slice(0, at)}@${domainToASCII(domain) || domain.toLowerCase()}`];
}

/** The digest a sent-email record is bound to (64 hex characters). */
export function registrationDigest(registration: { nome: string; email: string }, key: DigestKey): string {
  return key.hmac(["registration-digest/v1", ...normaliseForDigest(registration)]);
}

/**
 * The id of a registration that carries none: the same every time the same input is sent again
 * (so a resend sends no second email), and keyed, so nobody without the key can compute another
 * person's id to suppress their email.
 */
export function registrationIdFor(registration: { nome: string; email: string }, key: DigestKey): string {
  return `reg_${key.hmac(["registration-id/v1", ...normaliseForDigest(registration)]).slice(0, 32)}`;
}

/**
 * The digest of an address alone (64 hex characters): the suppression list's key, so that a
 * bounced or complaining address is recognised in any registration without the list holding the
 * address. Normalised as the registration digest normalises it.
 */
export function addressDigest(email: string, key: DigestKey): string {
  return key.hmac(["address-digest/v1", normaliseForDigest({ nome: "", email })[1]]);
}
