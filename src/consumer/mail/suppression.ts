/**
 * Addresses never to mail again: hard bounces and complaints (SES suspends an account whose
 * bounce or complaint rate stays high). Keyed by the keyed address digest (`addressDigest`, over
 * the case-folded address), so the list holds no address; look an address up with
 * `isAddressSuppressed`, which also finds entries written before the fold. Implementations: in
 * memory (tests, one-shot runs), SQLite (one machine) and DynamoDB (the fleet's sent-email table: suppression-dynamodb.ts). No retention: an address
 * stays suppressed until `forget` removes it (`npm run forget`, docs/personal-data.md).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { addressDigests, type DigestKey } from "../../contract/digest.js";
import { EnvironmentFaultError } from "../errors.js";

export const suppressionReasons = ["bounce", "complaint"] as const;
export type SuppressionReason = (typeof suppressionReasons)[number];

export interface SuppressionList {
  isSuppressed(addressDigest: string): Promise<boolean>;
  /** Idempotent: a second bounce for the same address keeps the first record. */
  suppress(addressDigest: string, reason: SuppressionReason): Promise<void>;
  /** Removes the entry (an erasure request); how many there were, 0 or 1. */
  forget(addressDigest: string): Promise<number>;
  close?(): Promise<void> | void;
}

/**
 * Whether the address is on the list under any of its digests: the current (case-folded) one, or
 * an entry written before the fold under the spelling the bounce reported (contract/digest.ts).
 */
export async function isAddressSuppressed(
  list: Pick<SuppressionList, "isSuppressed">,
  email: string,
  key: DigestKey,
): Promise<boolean> {
  for (const digest of addressDigests(email, key)) {
    if (await list.isSuppressed(digest)) return true;
  }
  return false;
}

export class MemorySuppressionList implements SuppressionList {
  readonly entries = new Map<string, SuppressionReason>();

  async isSuppressed(addressDigest: string): Promise<boolean> {
    return this.entries.has(addressDigest);
  }

  async suppress(addressDigest: string, reason: SuppressionReason): Promise<void> {
    if (!this.entries.has(addressDigest)) this.entries.set(addressDigest, reason);
  }

  async forget(addressDigest: string): Promise<number> {
    return this.entries.delete(addressDigest) ? 1 : 0;
  }
}

/** On SQLite, in WAL mode: the consumers and the bounce handler of one machine share the file. */
export class SqliteSuppressionList implements SuppressionList {
  private readonly db: DatabaseSync;
  private readonly readStatement;
  private readonly writeStatement;
  private readonly deleteStatement;

  constructor(
    path: string,
    private readonly now: () => number = Date.now,
  ) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    // secure_delete: a removed entry's bytes are overwritten, not left in a free page (forget).
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA busy_timeout = 5000;
      PRAGMA secure_delete = ON;
      CREATE TABLE IF NOT EXISTS suppressed_addresses (
        address_digest TEXT PRIMARY KEY,
        reason TEXT NOT NULL CHECK (reason IN ('bounce', 'complaint')),
        since INTEGER NOT NULL
      ) STRICT;
    `);
    this.readStatement = this.db.prepare(
      "SELECT 1 AS found FROM suppressed_addresses WHERE address_digest = ?",
    );
    this.writeStatement = this.db.prepare(
      "INSERT INTO suppressed_addresses (address_digest, reason, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    );
    this.deleteStatement = this.db.prepare("DELETE FROM suppressed_addresses WHERE address_digest = ?");
  }

  async isSuppressed(addressDigest: string): Promise<boolean> {
    return this.run("read", () => this.readStatement.get(addressDigest) !== undefined);
  }

  async suppress(addressDigest: string, reason: SuppressionReason): Promise<void> {
    this.run("write", () => this.writeStatement.run(addressDigest, reason, this.now()));
  }

  async forget(addressDigest: string): Promise<number> {
    return this.run("forget", () => {
      const changes = Number(this.deleteStatement.run(addressDigest).changes);
      // The WAL still holds the page as it was before: copy back and empty it (a no-op while
      // another process reads; forget is run with the consumers stopped).
      if (changes > 0) this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return changes;
    });
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** A failing database is the environment's fault (disk, lock), never the message's. */
  private run<T>(doing: string, operation: () => T): T {
    try {
      return operation();
    } catch (error) {
      if ((error as { code?: string }).code !== "ERR_SQLITE_ERROR") throw error;
      throw new EnvironmentFaultError(
        "store",
        `suppression list cannot ${doing}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }
}
