/**
 * Claiming a registration whose record may carry the digest of before the address fold
 * (contract/digest.ts): such a record is the same registration, not another one reusing the id.
 *
 * The stores compare one digest in their claim (a known id with another digest is a conflict).
 * So the claim is made under the current digest first, and only when that meets a conflict, again
 * under the legacy one: a record written before the upgrade then answers `already-sent` (no second
 * email) or `in-progress`, or a lapsed claim of it is taken over, and a true conflict is still one.
 * Each claim is atomic on its own; a record that changes between the two is judged by the second.
 * New records are written under the current digest only.
 */
import type { ClaimResult } from "./contract.js";

export async function claimUnderAnyDigest(
  digests: readonly [string, ...string[]],
  claim: (digest: string) => Promise<ClaimResult>,
): Promise<ClaimResult> {
  const [current, ...legacy] = digests;
  let result = await claim(current);
  for (const digest of legacy) {
    if (result.outcome !== "conflict") return result;
    result = await claim(digest);
  }
  return result;
}
