/**
 * Which welcome emails were sent, so that a duplicate delivery (SQS is at-least-once) does not
 * send a second one. A sender first claims a registration id, sends, then marks it sent; the
 * message is deleted only after that. A claim whose holder died (a killed consumer) is taken over
 * once its lease has run out — keep the lease shorter than the queue's visibility timeout, so
 * that the message's next delivery finds the claim free.
 *
 * One process or several on one machine: SQLite (built into Node). A fleet of consumers on
 * several machines: implement the same three calls on a shared store, e.g. DynamoDB with a
 * conditional write (`attribute_not_exists(id) OR (#state = :sending AND claimedAt < :cutoff)`).
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

export type ClaimResult = "claimed" | "already-sent" | "in-progress";

export interface SentEmailStore {
  claim(id: string): Promise<ClaimResult>;
  markSent(id: string): Promise<void>;
  /** Gives a claim back after a failed send, so that a retry can claim it again. */
  release(id: string): Promise<void>;
  close(): void;
}

export interface StoreOptions {
  /** How long a claim protects a send in progress. Default 30 s (half the default visibility). */
  readonly leaseMs?: number;
  readonly now?: () => number;
}

export class SqliteSentEmailStore implements SentEmailStore {
  private readonly db: DatabaseSync;
  private readonly leaseMs: number;
  private readonly now: () => number;
  private readonly claimStatement;
  private readonly stateStatement;
  private readonly sentStatement;
  private readonly releaseStatement;

  constructor(path: string, options: StoreOptions = {}) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new DatabaseSync(path);
    // WAL lets several consumer processes share the file; busy_timeout makes them wait, not fail.
    this.db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA busy_timeout = 5000;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS sent_emails (
        id TEXT PRIMARY KEY,
        state TEXT NOT NULL CHECK (state IN ('sending', 'sent')),
        updated_at INTEGER NOT NULL
      ) STRICT;
    `);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.now = options.now ?? Date.now;
    // One statement: insert a new claim, or take over a claim whose lease ran out.
    this.claimStatement = this.db.prepare(`
      INSERT INTO sent_emails (id, state, updated_at) VALUES (?, 'sending', ?)
      ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at
        WHERE sent_emails.state = 'sending' AND sent_emails.updated_at < ?
      RETURNING id`);
    this.stateStatement = this.db.prepare("SELECT state FROM sent_emails WHERE id = ?");
    this.sentStatement = this.db.prepare(
      "UPDATE sent_emails SET state = 'sent', updated_at = ? WHERE id = ?",
    );
    this.releaseStatement = this.db.prepare("DELETE FROM sent_emails WHERE id = ? AND state = 'sending'");
  }

  async claim(id: string): Promise<ClaimResult> {
    const now = this.now();
    if (this.claimStatement.get(id, now, now - this.leaseMs)) return "claimed";
    const row = this.stateStatement.get(id) as { state: string } | undefined;
    return row?.state === "sent" ? "already-sent" : "in-progress";
  }

  async markSent(id: string): Promise<void> {
    this.sentStatement.run(this.now(), id);
  }

  async release(id: string): Promise<void> {
    this.releaseStatement.run(id);
  }

  close(): void {
    this.db.close();
  }
}
