import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { describe, expect, it } from "vitest";
import { EnvironmentFaultError } from "../../src/consumer/errors.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import { contractTiming, describeStoreContract } from "../support/store-contract.js";
import { smallTmpfs } from "../support/tmpfs.js";

// Every store the suite opens shares one file, as the consumers on one machine share it.
const sharedFile = join(mkdtempSync(join(tmpdir(), "sent-contract-")), "sent.sqlite");
describeStoreContract("sqlite", async (timing) => new SqliteSentEmailStore(sharedFile, timing));

describe("SQLite sent-email store", () => {
  it("is durable and shared: a second connection to the file sees what the first recorded", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sent-")), "nested", "sent.sqlite");
    const first = new SqliteSentEmailStore(path, contractTiming);
    const claim = await first.claim("c", "d");
    if (claim.outcome === "claimed") await first.markSent(claim.claim);
    await first.close();
    const second = new SqliteSentEmailStore(path, contractTiming);
    expect(await second.claim("c", "d")).toEqual({ outcome: "already-sent" });
    await second.close();
  });

  it("reports a database locked beyond its busy timeout as a fault of the store's environment", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sent-")), "sent.sqlite");
    const store = new SqliteSentEmailStore(path, { ...contractTiming, busyTimeoutMs: 20 });
    const other = new DatabaseSync(path);
    other.exec("BEGIN EXCLUSIVE");
    try {
      const error = await store.claim("x", "d").catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnvironmentFaultError);
      expect(error).toMatchObject({ component: "store", message: expect.stringContaining("SQLITE_BUSY") });
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    expect((await store.claim("x", "d")).outcome).toBe("claimed"); // and recovers by itself
    await store.close();
  });

  it("reports a full disk as a fault of the store's environment (small tmpfs)", async (context) => {
    const mount = smallTmpfs("64k");
    if (!mount) return context.skip("mounting a tmpfs needs root; skipped");
    try {
      const store = new SqliteSentEmailStore(join(mount.dir, "sent.sqlite"), contractTiming);
      mkdirSync(join(mount.dir, "fill"));
      for (let i = 0; ; i++) {
        try {
          writeFileSync(join(mount.dir, "fill", String(i)), Buffer.alloc(4096));
        } catch {
          break;
        }
      }
      let error: unknown;
      for (let i = 0; i < 200 && error === undefined; i++) {
        error = await store.claim(`id-${i}-${"x".repeat(100)}`, "d".repeat(64)).then(
          () => undefined,
          (e: unknown) => e,
        );
      }
      expect(error).toBeInstanceOf(EnvironmentFaultError);
      expect(error).toMatchObject({ component: "store" });
      await store.close();
    } finally {
      mount.unmount();
    }
  });
});
