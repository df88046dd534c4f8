/**
 * Claims across the address fold (consumer/store/digest-transition.ts), on the reference store: a
 * record under the legacy digest is the same registration in each of its states; a record under
 * another registration's digest is still a conflict; new records get the current digest.
 */
import { describe, expect, it } from "vitest";
import { claimUnderAnyDigest } from "../../src/consumer/store/digest-transition.js";
import { registrationDigests } from "../../src/contract/digest.js";
import { testDigestKey } from "../support/digest-key.js";
import { memoryBackend } from "../support/memory-store.js";

const registration = { nome: "Lia Legacy", email: "Lia.Legacy@example.com" };
const [current, legacy] = registrationDigests(registration, testDigestKey);

function setup() {
  let now = 1_000_000;
  const backend = memoryBackend();
  const store = backend.makeStore({ leaseMs: 1_000, retentionMs: 60_000, now: () => now });
  const claim = (id: string) =>
    claimUnderAnyDigest(registrationDigests(registration, testDigestKey), (d) => store.claim(id, d));
  return { backend, store, claim, advance: (ms: number) => (now += ms) };
}

describe("claimUnderAnyDigest", () => {
  it("has two digests to try for an address with capitals in its local part", () => {
    expect(legacy).toBeDefined();
    expect(legacy).not.toBe(current);
  });

  it("a legacy record already sent is a duplicate, not a conflict", async () => {
    const { store, claim } = setup();
    const old = await store.claim("reg_1", legacy ?? "");
    if (old.outcome !== "claimed") throw new Error(old.outcome);
    await store.markSent(old.claim);
    expect(await claim("reg_1")).toEqual({ outcome: "already-sent" });
  });

  it("a legacy claim still leased is in progress; once lapsed it is taken over", async () => {
    const { backend, store, claim, advance } = setup();
    const old = await store.claim("reg_2", legacy ?? "");
    if (old.outcome !== "claimed") throw new Error(old.outcome);
    expect(await claim("reg_2")).toMatchObject({ outcome: "in-progress" });
    advance(2_000);
    expect(await claim("reg_2")).toMatchObject({ outcome: "claimed" });
    expect(backend.records.get("reg_2")?.state).toBe("sending");
  });

  it("another registration's record is still a conflict; a new record gets the current digest", async () => {
    const { backend, store, claim } = setup();
    await store.claim("reg_3", "f".repeat(64));
    expect(await claim("reg_3")).toEqual({ outcome: "conflict" });
    expect(await claim("reg_4")).toMatchObject({ outcome: "claimed" });
    expect(backend.records.get("reg_4")?.digest).toBe(current);
  });
});
