/**
 * Accepted sends waiting for their record (row S9/S10 of docs/email-delivery.md): kept in memory
 * and in a folder that a restarted consumer reads back.
 */
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AcceptedSends, claimOf } from "../../src/consumer/accepted-sends.js";

const claim = { id: "reg-1", digest: "d".repeat(64), owner: "owner-1", leaseUntil: 5_000 };

describe("accepted sends", () => {
  it("S10: a fact written by one consumer is read back by the next, with no address in it, and removed once recorded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    new AcceptedSends(dir).add(claim, 1_000);
    expect(await readdir(dir)).toEqual(["reg-1.json"]);
    expect(await readFile(join(dir, "reg-1.json"), "utf8")).not.toContain("@");
    const next = new AcceptedSends(dir);
    const fact = next.get("reg-1");
    expect(fact && claimOf(fact)).toEqual(claim);
    next.delete("reg-1");
    expect(await readdir(dir)).toEqual([]);
  });

  it("skips files that are not its own facts (another name, a broken or foreign body)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    await writeFile(join(dir, "reg-2.json"), "{not json");
    await writeFile(join(dir, "reg-3.json"), JSON.stringify({ ...claim, id: "reg-1", acceptedAt: 1 }));
    await writeFile(join(dir, "notes.txt"), "hello");
    expect(new AcceptedSends(dir).size).toBe(0);
  });

  it("keeps facts in memory when the folder cannot be used", async () => {
    const dir = await mkdtemp(join(tmpdir(), "accepted-"));
    await writeFile(join(dir, "file"), "a file where the folder should be");
    const accepted = new AcceptedSends(join(dir, "file", "accepted"));
    accepted.add(claim, 1_000);
    expect(accepted.get("reg-1")?.owner).toBe("owner-1");
  });
});
