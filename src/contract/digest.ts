/**
 * Addresses compared as mail providers compare them, and the keyed digests built on that.
 *
 * - `normaliseAddress` is the one comparison form of an address: Unicode NFC, trimmed, the domain
 *   in its ASCII form and lower case (IDN domains as `xn--`, as the contract delivers them), and
 *   the local part's case folded. RFC 5321 §2.4 lets a server treat `Maria@` and `maria@` as two
 *   mailboxes; none of the providers people register with do, and a bounce reported as
 *   `Maria@example.com` must stop a registration for `maria@example.com`. Suppression, the
 *   registration digest (deduplication) and `forget` all compare through it.
 * - Digests are over `nome` and that form only (never timestamps or trace attributes: a resend
 *   must match), keyed (HMAC-SHA256 with a deployment secret): a plain hash of a name and an
 *   address is personal data that a dictionary of likely addresses reverses.
 * - The transition: before the fold, digests kept the local part's case. Records written then
 *   (sent-email records, suppression entries) are keyed by that *legacy* form; `…Digests` return
 *   the current digest and, when it differs, the legacy one, and every reader accepts either
 *   (docs/personal-data.md, "Address case"). The labels did not change: for an address written
 *   in lower case (most of them) the two digests are one.
 * - The default registration id is not folded (see registrationIdFor).
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

/** An address's two parts, NFC and trimmed, the domain in ASCII lower case; undefined without an `@`. */
function addressParts(email: string): { local: string; domain: string } | undefined {
  const trimmed = email.normalize("NFC").trim();
  const at = trimmed.lastIndexOf("@");
  if (at < 0) return undefined;
  const domain = trimmed.slice(at + 1);
  return { local: trimmed.slice(0, at), domain: domainToASCII(domain) || domain.toLowerCase() };
}

/**
 * The one comparison form of an address (see the module's comment): `Maria.C@Bücher.DE` →
 * `maria.c@xn--bcher-kva.de`. Text without an `@` is only NFC-normalised, trimmed and lower-cased.
 */
export function normaliseAddress(email: string): string {
  const parts = addressParts(email);
  if (!parts) return email.normalize("NFC").trim().toLowerCase();
  return `${parts.local.toLowerCase()}@${parts.domain}`;
}

/** The form digests had before the fold: the local part's case kept. Read-only, for the transition. */
function legacyAddressForm(email: string): string {
  const parts = addressParts(email);
  return parts ? `${parts.local}@${parts.domain}` : email.normalize("NFC").trim();
}

function normaliseName(nome: string): string {
  return nome.normalize("NFC").trim();
}

/** What the registration digest covers, normalised. */
export function normaliseForDigest(registration: { nome: string; email: string }): [string, string] {
  return [normaliseName(registration.nome), normaliseAddress(registration.email)];
}

/** The current digest first, then the legacy one when it differs. */
function withLegacy(current: string, legacy: string): readonly [string, ...string[]] {
  return current === legacy ? [current] : [current, legacy];
}

/** The digest a sent-email record is bound to (64 hex characters). */
export function registrationDigest(registration: { nome: string; email: string }, key: DigestKey): string {
  return key.hmac(["registration-digest/v1", ...normaliseForDigest(registration)]);
}

/**
 * Every digest a record of this registration may carry: the current one (what new records are
 * written with) and the legacy, case-keeping one while records from before the fold may exist.
 */
export function registrationDigests(
  registration: { nome: string; email: string },
  key: DigestKey,
): readonly [string, ...string[]] {
  return withLegacy(
    registrationDigest(registration, key),
    key.hmac([
      "registration-digest/v1",
      normaliseName(registration.nome),
      legacyAddressForm(registration.email),
    ]),
  );
}

/**
 * The id of a registration that carries none: the same every time the same input is sent again
 * (so a resend sends no second email), and keyed, so nobody without the key can compute another
 * person's id to suppress their email.
 *
 * Its address keeps the local part's case, as it did before the fold: the id is the store's key,
 * and a changed id would find no record of a registration sent before an upgrade and mail it
 * again. (Two spellings of one address sent without ids are two ids; each is mailed once.)
 */
export function registrationIdFor(registration: { nome: string; email: string }, key: DigestKey): string {
  const form = [normaliseName(registration.nome), legacyAddressForm(registration.email)];
  return `reg_${key.hmac(["registration-id/v1", ...form]).slice(0, 32)}`;
}

/**
 * The digest of an address alone (64 hex characters): the suppression list's key, so that a
 * bounced or complaining address is recognised in any registration, whatever its case, without
 * the list holding the address.
 */
export function addressDigest(email: string, key: DigestKey): string {
  return key.hmac(["address-digest/v1", normaliseAddress(email)]);
}

/** The address's current digest, then its legacy (case-keeping) one when it differs: what a lookup checks. */
export function addressDigests(email: string, key: DigestKey): readonly [string, ...string[]] {
  return withLegacy(addressDigest(email, key), key.hmac(["address-digest/v1", legacyAddressForm(email)]));
}
