/**
 * The message attribute that carries "the mail server accepted this registration's email; its
 * record is not written yet" from one consumer to whichever receives the message next, defined
 * once: the Lambda function writes it on a copy of the message it sends back to its own queue when
 * an invocation must end with such a send unrecorded (src/lambda/accepted-copy.ts), the
 * registration handler reads it, and the dead-letter tools show and keep it (a redriven copy then
 * writes the record instead of mailing again).
 *
 * The fact is what `markSent` is fenced on (the registration id, its keyed digest, the claim's
 * owner token and lease) and when the send was accepted: no name or address. It is signed with
 * HMAC under the registration digest key, so a producer, or anyone else allowed to send to the
 * queue, cannot make a consumer record a registration as mailed without mailing it. A signed fact
 * only ever states something true (that email left), so it does not expire: replaying it writes a
 * record that should be written anyway.
 */
import { timingSafeEqual } from "node:crypto";
import type { MessageAttributeValue } from "@aws-sdk/client-sqs";
import { z } from "zod";
import type { DigestKey } from "./digest.js";
import { REGISTRATION_ID_PATTERN } from "./registration.js";

export const ACCEPTED_SEND_ATTRIBUTE = "accepted-send";

/** What the attribute states: the claim `markSent` is fenced on, and when the send was accepted. */
export interface AcceptedSendFact {
  readonly id: string;
  readonly digest: string;
  readonly owner: string;
  readonly leaseUntil: number;
  /** Epoch ms of the mail server's acceptance. */
  readonly acceptedAt: number;
}

const HEX_64 = /^[0-9a-f]{64}$/;

/** Bounded, so a forged value cannot make the reader hash or allocate much. */
const signedFactSchema = z.strictObject({
  v: z.literal(1),
  id: z.string().regex(REGISTRATION_ID_PATTERN),
  digest: z.string().regex(HEX_64),
  owner: z.string().min(1).max(128),
  leaseUntil: z.number().int().nonnegative(),
  acceptedAt: z.number().int().nonnegative(),
  sig: z.string().regex(HEX_64),
});

/** Longest value the reader parses (a signed fact is about 330 characters). */
const VALUE_MAX_LENGTH = 1_024;

function signature(fact: AcceptedSendFact, key: DigestKey): string {
  // Its own label: no other keyed digest of this project can be passed off as a signature.
  return key.hmac([
    "accepted-send/v1",
    fact.id,
    fact.digest,
    fact.owner,
    String(fact.leaseUntil),
    String(fact.acceptedAt),
  ]);
}

/** The attribute's value for `fact`, signed with `key`. */
export function acceptedSendAttribute(fact: AcceptedSendFact, key: DigestKey): MessageAttributeValue {
  const value = {
    v: 1,
    id: fact.id,
    digest: fact.digest,
    owner: fact.owner,
    leaseUntil: fact.leaseUntil,
    acceptedAt: fact.acceptedAt,
    sig: signature(fact, key),
  };
  return { DataType: "String", StringValue: JSON.stringify(value) };
}

/** Why an attribute present on a message was not taken as a fact (logged; never its content). */
export type IgnoredReason = "malformed" | "signature" | "other-registration";

export type AcceptedSendReading =
  | { readonly kind: "absent" }
  | { readonly kind: "valid"; readonly fact: AcceptedSendFact }
  | { readonly kind: "ignored"; readonly reason: IgnoredReason };

/**
 * Reads the attribute of a received message for the registration its body holds (`id`, and every
 * digest a record of it may carry): valid only when signed with `key` and stating this very
 * registration, so a signed fact moved onto another body is ignored as well.
 */
export function readAcceptedSend(
  attributes: Readonly<Record<string, MessageAttributeValue>> | undefined,
  key: DigestKey,
  registration: { readonly id: string; readonly digests: readonly string[] },
): AcceptedSendReading {
  const attribute = attributes?.[ACCEPTED_SEND_ATTRIBUTE];
  if (attribute === undefined) return { kind: "absent" };
  const text = attribute.StringValue;
  if (attribute.DataType !== "String" || text === undefined || text.length > VALUE_MAX_LENGTH) {
    return { kind: "ignored", reason: "malformed" };
  }
  let parsed: z.infer<typeof signedFactSchema>;
  try {
    const result = signedFactSchema.safeParse(JSON.parse(text));
    if (!result.success) return { kind: "ignored", reason: "malformed" };
    parsed = result.data;
  } catch {
    return { kind: "ignored", reason: "malformed" };
  }
  const { v: _version, sig, ...fact } = parsed;
  const expected = Buffer.from(signature(fact, key), "hex");
  if (!timingSafeEqual(expected, Buffer.from(sig, "hex"))) return { kind: "ignored", reason: "signature" };
  if (fact.id !== registration.id || !registration.digests.includes(fact.digest)) {
    return { kind: "ignored", reason: "other-registration" };
  }
  return { kind: "valid", fact };
}
