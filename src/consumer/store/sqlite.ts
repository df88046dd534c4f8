/**
 * The sent-email store on SQLite (built into Node): one process, or several sharing a file on one
 * machine. Implements the committed contract (`./contract.ts`); each call is one statement or one
 * write transaction, so it is atomic across processes too (WAL, busy timeout).
 *
 * A failure of the database's own environment (disk full, I/O error, locked beyond the busy
 * timeout, read-only, cannot open) becomes EnvironmentFaultError("store"): not the message's
 * fault, so the runtime pauses instead of spending the message's retries.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { EnvironmentFaultError } from "../errors.js";
import {
  type AmbiguousAttempts,
  type Claim,
  type ClaimResult,
  RELEASED_OWNER,
  type SentEmailStore,
  StaleClaimError,
  type StoreTiming,
} from "./contract.js";
import { type WriteTransaction, writeTransaction } from "./sqlite-transaction.js";

export interface SqliteStoreOptions extends StoreTiming {
  /** How long a statement waits for another process's lock. Default 5 s. */
  readonly busyTimeoutMs?: number;
}

/** SQLite primary result codes that mean "the environment", not "this record". */
const ENVIRONMENT_CODES: Readonly<Record<number, string>> = {
  3: "SQLITE_PERM",
  5: "SQLITE_BUSY",
  6: "SQLITE_LOCKED",
  7: "SQLITE_NOMEM",
  8: "SQLITE_READONLY",
  10: "SQLITE_IOERR",
  11: "SQLITE_CORRUPT",
  13: "SQLITE_FULL",
  14: "SQLITE_CANTOPEN",
  26: "SQLITE_NOTADB",
};

function environmentFault(error: unknown, doing: string): unknown {
  const { code, errcode, errstr } = error as { code?: string; errcode?: number; errstr?: string };
  if (code !== "ERR_SQLITE_ERROR" || typeof errcode !== "number") return error;
  // Extended result codes carry the primary code in their low byte (SQLITE_IOERR_WRITE = 778).
  const name = ENVIRONMENT_CODES[errcode & 0xff];
  if (!name) return error;
  return new EnvironmentFaultError("store", `sent-email store cannot ${doing}: ${errstr ?? name} (${name})`, {
    cause: error,
  });
}

/** The attempts the claim's upsert kept from the record it took over. */
interface Carried {
  ambiguous_attempts: number;
  last_ambiguous_at: number;
}

interface Row {
  digest: string;
  state: "sending" | "sent";
  owner: string;
  lease_until: number;
  expires_at: number;
}

export class SqliteSentEmailStore implements SentEmailStore {
  private readonly db: DatabaseSync;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly now: () => number;
  private readonly claimStatement;
  private readonly readStatement;
  private readonly sentStatement;
  private readonly releaseStatement;
  private readonly lapseStatement;
  private readonly forgetStatement;
  private readonly transaction: WriteTransaction;

  constructor(path: string, options: SqliteStoreOptions) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    // WAL lets several consumer processes share the file; busy_timeout makes them wait, not fail.
    // secure_delete: a deleted record's bytes are overwritten, not left in a free page (forget).
    // The table has a new name: records of the old one carry no digest and cannot be honoured.
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA busy_timeout = ${Math.round(options.busyTimeoutMs ?? 5_000)};
      PRAGMA synchronous = NORMAL;
      PRAGMA secure_delete = ON;
      CREATE TABLE IF NOT EXISTS sent_email_records (
        id TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
        owner TEXT NOT NULL,
        lease_until INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      ) STRICT;
    `);
    // Files made before ambiguous attempts were recorded get the columns (0: none recorded).
    const columns = this.db.prepare("PRAGMA table_info(sent_email_records)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "ambiguous_attempts")) {
      this.db.exec(`
        ALTER TABLE sent_email_records ADD COLUMN ambiguous_attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sent_email_records ADD COLUMN last_ambiguous_at INTEGER NOT NULL DEFAULT 0;
      `);
    }
    // Expired records count as absent anyway; dropping them keeps the file from growing forever.
    this.db.prepare("DELETE FROM sent_email_records WHERE expires_at < ?").run((options.now ?? Date.now)());
    this.leaseMs = options.leaseMs;
    this.retentionMs = options.retentionMs;
    this.now = options.now ?? Date.now;
    // A new claim, or a takeover of an expired record (any digest: it counts as
    // absent, its ambiguous attempts too) or of a lapsed "sending" lease on the same registration
    // (its ambiguous attempts stay, and are returned to the new holder).
    this.claimStatement = this.db.prepare(`
      INSERT INTO sent_email_records (id, digest, state, owner, lease_until, expires_at)
        VALUES (:id, :digest, 'sending', :owner, :leaseUntil, :expiresAt)
      ON CONFLICT (id) DO UPDATE SET
          digest = excluded.digest, state = 'sending', owner = excluded.owner,
          lease_until = excluded.lease_until, expires_at = excluded.expires_at,
          ambiguous_attempts = CASE WHEN sent_email_records.expires_at < :now THEN 0
            ELSE sent_email_records.ambiguous_attempts END,
          last_ambiguous_at = CASE WHEN sent_email_records.expires_at < :now THEN 0
            ELSE sent_email_records.last_ambiguous_at END
        WHERE sent_email_records.expires_at < :now
          OR (sent_email_records.state = 'sending' AND sent_email_records.lease_until < :now
              AND sent_email_records.digest = excluded.digest)
      RETURNING ambiguous_attempts, last_ambiguous_at`);
    this.readStatement = this.db.prepare(
      "SELECT digest, state, owner, lease_until, expires_at FROM sent_email_records WHERE id = ?",
    );
    // Fenced by the owner alone: the holder's own retried markSent succeeds again.
    this.sentStatement = this.db.prepare(`
      UPDATE sent_email_records SET state = 'sent', expires_at = :expiresAt
        WHERE id = :id AND owner = :owner`);
    this.releaseStatement = this.db.prepare(
      "DELETE FROM sent_email_records WHERE id = :id AND owner = :owner AND state = 'sending'",
    );
    // An ambiguous end (or the release of a claim that carries attempts): the lease lapses now and
    // the attempts stay on the record for whoever claims next.
    this.lapseStatement = this.db.prepare(`
      UPDATE sent_email_records SET owner = :newOwner, lease_until = 0,
          ambiguous_attempts = :attempts, last_ambiguous_at = :lastAt
        WHERE id = :id AND owner = :owner AND state = 'sending'`);
    // No index on digest: a full scan, for an operator's erasure request only.
    this.forgetStatement = this.db.prepare("DELETE FROM sent_email_records WHERE digest = ?");
    this.transaction = writeTransaction(this.db);
  }

  async claim(id: string, digest: string): Promise<ClaimResult> {
    const now = this.now();
    const claim: Claim = { id, digest, owner: randomUUID(), leaseUntil: now + this.leaseMs };
    // One write transaction: no other process changes the record between the claim and the read.
    const result: { taken: Carried } | { row: Row } = this.run("claim a registration", () =>
      this.transaction(() => {
        const taken = this.claimStatement.get({
          id,
          digest,
          owner: claim.owner,
          leaseUntil: claim.leaseUntil,
          expiresAt: now + this.retentionMs,
          now,
        });
        if (taken) return { taken: taken as unknown as Carried };
        return { row: this.readStatement.get(id) as unknown as Row };
      }),
    );
    if ("taken" in result) {
      const { ambiguous_attempts: attempts, last_ambiguous_at: lastAt } = result.taken;
      return {
        outcome: "claimed",
        claim: attempts > 0 ? { ...claim, ambiguous: { attempts, lastAt } } : claim,
      };
    }
    const { row } = result;
    if (row.digest !== digest) return { outcome: "conflict" };
    if (row.state === "sent") return { outcome: "already-sent" };
    return { outcome: "in-progress", leaseUntil: row.lease_until, owner: row.owner };
  }

  async markSent(claim: Claim): Promise<void> {
    const { changes } = this.run("mark an email sent", () =>
      this.sentStatement.run({ id: claim.id, owner: claim.owner, expiresAt: this.now() + this.retentionMs }),
    );
    if (changes === 0) throw new StaleClaimError(claim.id);
  }

  async release(claim: Claim): Promise<void> {
    const { changes } = this.run("release a claim", () =>
      claim.ambiguous === undefined
        ? this.releaseStatement.run({ id: claim.id, owner: claim.owner })
        : this.lapse(claim, RELEASED_OWNER, claim.ambiguous),
    );
    if (changes === 0) throw new StaleClaimError(claim.id);
  }

  async recordAmbiguous(claim: Claim, attempts: AmbiguousAttempts): Promise<void> {
    const { changes } = this.run("record an ambiguous send", () => this.lapse(claim, claim.owner, attempts));
    if (changes === 0) throw new StaleClaimError(claim.id);
  }

  private lapse(claim: Claim, newOwner: string, attempts: AmbiguousAttempts) {
    return this.lapseStatement.run({
      id: claim.id,
      owner: claim.owner,
      newOwner,
      attempts: attempts.attempts,
      lastAt: Math.round(attempts.lastAt),
    });
  }

  async forget(digest: string): Promise<number> {
    return this.run("erase a person's records", () => {
      const changes = Number(this.forgetStatement.run(digest).changes);
      // The WAL still holds the pages as they were before: copy back and empty it (a no-op while
      // another process reads; forget is run with the consumers stopped).
      if (changes > 0) this.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
      return changes;
    });
  }

  async close(): Promise<void> {
    if (this.db.isOpen) this.db.close();
  }

  private run<T>(doing: string, statement: () => T): T {
    try {
      return statement();
    } catch (error) {
      throw environmentFault(error, doing);
    }
  }
}
