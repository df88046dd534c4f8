/**
 * Sends the mail server accepted (a 250, an SES 200) whose record in the store is not written yet.
 * Between the acceptance and `markSent` is the one window in which a store outage turns into a
 * second email: the claim lapses, a redelivery claims it again and sends. So the fact is kept
 * here first — in memory, and, when the consumer has a state folder, as one row of a SQLite file
 * (`<dir>/accepted.sqlite`: the id, the content digest and the claim's owner token, no address) —
 * and dropped only once the record is written. A consumer restarted on the same folder writes the
 * record for what its predecessor sent, instead of sending again.
 *
 * The file is written once a turn of the event loop is over, with everything that turn added and
 * removed in one commit, before the answer to any of the turn's store requests is read (a remote
 * store, DynamoDB). A store that records in the same turn (SQLite) has the fact removed by then:
 * nothing reaches the disk. A process killed inside that turn, a few microseconds, leaves no fact,
 * as if it had been killed before the 250 was read. WAL and
 * `synchronous = NORMAL`: a committed row outlives the process being killed; it is not fsynced
 * against the machine losing power. Consumers sharing the folder share the file
 * (a short busy timeout: a statement that would wait longer fails, and memory covers the fact).
 *
 * A fact whose message never comes back (deleted by hand, purged, expired) would wait forever: a
 * consumer starting on the folder removes facts older than the store's record retention — by then
 * the message has outlived both queues' retention and the redrive margin, so no delivery can need
 * the fact. `forget` removes the person's facts (`forgetAcceptedSends`). Facts an earlier version
 * kept as one file each (`<id>.json`, and `<id>.json.<pid>.tmp` of a write cut off) are read at
 * start, moved into the file and removed.
 */
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import { recordRetentionMs } from "../config/derived.js";
import { REGISTRATION_ID_PATTERN } from "../contract/registration.js";
import { UserFacingError } from "../errors.js";
import { type Logger, silentLogger } from "../log/logger.js";
import type { Claim } from "./store/contract.js";
import { type WriteTransaction, writeTransaction } from "./store/sqlite-transaction.js";

/** One accepted send whose record is pending: the claim that `markSent` is fenced on. */
export interface AcceptedSend {
  readonly id: string;
  readonly digest: string;
  readonly owner: string;
  readonly leaseUntil: number;
  /** Epoch ms of the acceptance. */
  readonly acceptedAt: number;
}

/** The file of facts in the folder. */
export const ACCEPTED_SENDS_FILE = "accepted.sqlite";
/** How long a statement waits for another process's lock before memory alone keeps the fact. */
const BUSY_TIMEOUT_MS = 250;
/** An earlier version's fact: `<id>.json`. */
const LEGACY_SUFFIX = ".json";
/** `<id>.json.<pid>.tmp`: an earlier version's fact written by a process killed before its rename. */
const LEGACY_TEMPORARY = /^[^/]+\.json\.\d+\.tmp$/;
/** Far above a fact's size (about 200 bytes): anything larger in the folder is not one of ours. */
const FACT_MAX_BYTES = 4_096;
/**
 * An earlier version's file is opened without blocking and checked before it is read: a FIFO named
 * like a fact would block the synchronous read (and the whole consumer) forever, a device or a
 * huge file would be read whole. Never through a link: that version renamed regular files into place.
 */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

export interface AcceptedSendsOptions {
  /** Facts (and temporary files) older than this are removed at start; default: the record retention. */
  readonly maxAgeMs?: number;
  /** Epoch ms; `Date.now` by default. */
  readonly now?: () => number;
}

/** The database of facts, opened (and its table made) in `dir`. */
function openFacts(dir: string): DatabaseSync {
  const db = new DatabaseSync(join(dir, ACCEPTED_SENDS_FILE));
  try {
    // secure_delete: a forgotten fact's bytes are overwritten, not left in a free page. The busy
    // timeout first: switching a new file to WAL takes a lock that a second consumer starting on
    // the folder at the same moment would otherwise meet with an immediate "database is locked".
    db.exec(`
      PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS};
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      PRAGMA secure_delete = ON;
      CREATE TABLE IF NOT EXISTS accepted_sends (
        id TEXT PRIMARY KEY,
        digest TEXT NOT NULL,
        owner TEXT NOT NULL,
        lease_until INTEGER NOT NULL,
        accepted_at INTEGER NOT NULL
      ) STRICT;
    `);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

export class AcceptedSends {
  private readonly byId = new Map<string, AcceptedSend>();
  private readonly logger: Logger;
  private db: DatabaseSync | undefined;
  private insert: StatementSync | undefined;
  private remove: StatementSync | undefined;
  private transaction: WriteTransaction | undefined;
  /** Facts added since the last write, and ids whose row is to go: written together (flush). */
  private readonly unwritten = new Map<string, AcceptedSend>();
  private readonly gone = new Set<string>();
  /** Ids with a row in the file (read at start or written since). */
  private readonly onDisk = new Set<string>();
  private flushing: NodeJS.Immediate | undefined;

  /** `dir`: where the facts outlive the process (the state folder's `accepted/`); none: memory only. */
  constructor(dir?: string, logger?: Logger, options: AcceptedSendsOptions = {}) {
    this.logger = logger ?? silentLogger;
    if (dir === undefined) return;
    const oldest = (options.now ?? Date.now)() - (options.maxAgeMs ?? recordRetentionMs());
    let db: DatabaseSync;
    try {
      mkdirSync(dir, { recursive: true });
      db = openFacts(dir);
    } catch (error) {
      // The memory copy still covers this process; say once that a restart would not. An earlier
      // version's files are still facts: read into memory, and left for a start that can move them.
      this.logger.warn({ err: error }, "cannot keep accepted sends on disk; keeping them in memory only");
      this.readRowsReadOnly(dir, oldest);
      this.moveLegacyFiles(dir, oldest, undefined);
      return;
    }
    this.db = db;
    this.insert = db.prepare("INSERT OR REPLACE INTO accepted_sends VALUES (?, ?, ?, ?, ?)");
    this.remove = db.prepare("DELETE FROM accepted_sends WHERE id = ?");
    this.transaction = writeTransaction(db);
    const legacy = this.moveLegacyFiles(dir, oldest, db);
    let expired = legacy.expired;
    try {
      expired += Number(db.prepare("DELETE FROM accepted_sends WHERE accepted_at < ?").run(oldest).changes);
    } catch (error) {
      // A write lock held past the busy timeout: the old rows wait for the next start. The read
      // below still runs (a reader never waits for a writer in WAL mode): a fact it skipped would
      // be a second email.
      this.logger.warn({ err: error }, "could not remove old accepted sends kept on disk");
    }
    try {
      this.loadRows(db, oldest);
    } catch (error) {
      this.logger.warn({ err: error }, "could not read the accepted sends kept on disk");
    }
    if (expired > 0) this.logger.info({ expired }, "removed accepted sends older than the record retention");
  }

  /** Accepted sends waiting for their record. */
  get size(): number {
    return this.byId.size;
  }

  get(id: string): AcceptedSend | undefined {
    return this.byId.get(id);
  }

  /** The facts waiting for their record, oldest acceptance first. */
  pending(): AcceptedSend[] {
    return [...this.byId.values()].sort((a, b) => a.acceptedAt - b.acceptedAt);
  }

  /** Keeps the fact: call right after the server accepted, before writing the record. */
  add(claim: Claim, acceptedAt: number): void {
    const fact: AcceptedSend = {
      id: claim.id,
      digest: claim.digest,
      owner: claim.owner,
      leaseUntil: claim.leaseUntil,
      acceptedAt,
    };
    this.byId.set(fact.id, fact);
    if (this.db === undefined || !REGISTRATION_ID_PATTERN.test(fact.id)) return;
    this.unwritten.set(fact.id, fact);
    this.gone.delete(fact.id);
    this.flushSoon();
  }

  /** The record is written (or no longer this consumer's to write): forget the fact. */
  delete(id: string): void {
    if (!this.byId.delete(id) || this.db === undefined) return;
    // A fact never written needs no delete; one on disk (written, or read at start) does.
    this.unwritten.delete(id);
    if (!this.onDisk.has(id)) return;
    this.gone.add(id);
    this.flushSoon();
  }

  /**
   * Writes what changed since the last write, in one transaction. Normally run by itself once the
   * current turn of the event loop is over (before it waits for I/O again); `close` runs it too.
   */
  flush(): void {
    if (this.flushing !== undefined) clearImmediate(this.flushing);
    this.flushing = undefined;
    if (this.db === undefined || (this.unwritten.size === 0 && this.gone.size === 0)) return;
    try {
      this.transaction?.(() => {
        for (const fact of this.unwritten.values()) {
          this.insert?.run(
            fact.id,
            fact.digest,
            fact.owner,
            Math.round(fact.leaseUntil),
            Math.round(fact.acceptedAt),
          );
        }
        for (const id of this.gone) this.remove?.run(id);
      });
      for (const id of this.unwritten.keys()) this.onDisk.add(id);
      for (const id of this.gone) this.onDisk.delete(id);
    } catch (error) {
      // The memory copy still covers this process; only a restart would forget the facts. A
      // removal left behind only makes a restart write a record that is written already (a no-op).
      this.logger.warn(
        { accepted: this.unwritten.size, recorded: this.gone.size, err: error },
        "could not write accepted sends to disk",
      );
    } finally {
      this.unwritten.clear();
      this.gone.clear();
    }
  }

  /** Writes what is pending and closes the file (the facts stay in it); memory alone keeps what comes after. */
  close(): void {
    this.flush();
    this.insert = undefined;
    this.remove = undefined;
    this.transaction = undefined;
    this.db?.close();
    this.db = undefined;
  }

  /**
   * One write per turn of the event loop. A store that records synchronously (SQLite) has written
   * the record, and deleted the fact, before this runs: nothing reaches the disk. A remote store
   * (DynamoDB) is still waiting for its answer: the fact is written before that answer can be read.
   */
  private flushSoon(): void {
    this.flushing ??= setImmediate(() => this.flush());
  }

  private loadRows(db: DatabaseSync, oldest: number): void {
    const rows = db.prepare("SELECT id, digest, owner, lease_until, accepted_at FROM accepted_sends").all();
    for (const row of rows) {
      const fact = parseFact({
        id: row.id,
        digest: row.digest,
        owner: row.owner,
        leaseUntil: row.lease_until,
        acceptedAt: row.accepted_at,
      });
      if (fact && fact.acceptedAt >= oldest) {
        this.byId.set(fact.id, fact);
        this.onDisk.add(fact.id);
      }
    }
  }

  /**
   * The file could not be opened for writing (a full disk cannot take the shared-memory file, a
   * read-only folder): its facts are still read, or a restart would mail them again. Read-only
   * first (sees a killed writer's log); else as immutable, which needs no file beside it.
   */
  private readRowsReadOnly(dir: string, oldest: number): void {
    const path = join(dir, ACCEPTED_SENDS_FILE);
    if (!existsSync(path)) return;
    for (const location of [path, `${pathToFileURL(path).href}?immutable=1`]) {
      try {
        const db = new DatabaseSync(location, { readOnly: true });
        try {
          this.loadRows(db, oldest);
          return;
        } finally {
          db.close();
        }
      } catch {
        // Not readable this way either (or not a database): memory alone, as warned.
      }
    }
  }

  /**
   * An earlier version's facts, one file each: valid ones younger than `oldest` go into the file,
   * and every fact file or cut-off write older than `oldest` is removed. Files that are not facts
   * stay. Returns how many expired. Without `db` (the file cannot be opened) the valid ones are
   * only read into memory and every file is left.
   */
  private moveLegacyFiles(dir: string, oldest: number, db: DatabaseSync | undefined): { expired: number } {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return { expired: 0 };
    }
    let expired = 0;
    const removeFile = (name: string, counted: boolean) => {
      try {
        rmSync(join(dir, name), { force: true });
        if (counted) expired += 1;
      } catch (error) {
        this.logger.warn({ err: error }, "could not remove an accepted send's old file");
      }
    };
    // A row for the same id is newer than any file (files predate the rows): it is kept.
    const insertOlder = db?.prepare("INSERT OR IGNORE INTO accepted_sends VALUES (?, ?, ?, ?, ?)");
    const move = (name: string, fact: AcceptedSend) => {
      if (insertOlder === undefined) {
        this.byId.set(fact.id, fact);
        return;
      }
      try {
        insertOlder.run(
          fact.id,
          fact.digest,
          fact.owner,
          Math.round(fact.leaseUntil),
          Math.round(fact.acceptedAt),
        );
        removeFile(name, false);
      } catch (error) {
        // Left as a file: the next start moves it.
        this.byId.set(fact.id, fact);
        this.logger.warn(
          { registrationId: fact.id, err: error },
          "could not move an accepted send into the file",
        );
      }
    };
    const temporaries: string[] = [];
    const moved = new Set<string>();
    for (const name of names) {
      if (LEGACY_TEMPORARY.test(name)) {
        temporaries.push(name);
        continue;
      }
      if (!name.endsWith(LEGACY_SUFFIX)) continue;
      const fact = readFact(join(dir, name));
      // Not one of ours (a foreign or broken body, another name): skipped, and left.
      if (!fact || `${fact.id}${LEGACY_SUFFIX}` !== name) continue;
      if (fact.acceptedAt < oldest) {
        if (db !== undefined) removeFile(name, true);
      } else {
        move(name, fact);
        moved.add(fact.id);
      }
    }
    for (const name of temporaries) {
      // Whole, but its writer was killed before the rename: the fact is true all the same (it was
      // written right after the server accepted); a part of one is removed once old.
      const fact = readFact(join(dir, name));
      if (
        fact &&
        name.startsWith(`${fact.id}${LEGACY_SUFFIX}.`) &&
        !moved.has(fact.id) &&
        fact.acceptedAt >= oldest
      ) {
        move(name, fact);
        moved.add(fact.id);
        continue;
      }
      if (db === undefined) continue;
      try {
        if (statSync(join(dir, name)).mtimeMs < oldest) removeFile(name, true);
      } catch {
        // Renamed or removed since the listing.
      }
    }
    return { expired };
  }
}

/** `forget` deleted the rows but another process kept the write-ahead log (and its copies) from being emptied. */
export class AcceptedSendsLogBusyError extends UserFacingError {
  override readonly name = "AcceptedSendsLogBusyError";
  constructor(readonly path: string) {
    super(
      `could not empty the write-ahead log of ${path} (a consumer is using it): stop the consumers on the state folder and run forget again`,
    );
  }
}

/** `forget` could not search the facts' file: locked past the busy timeout, or not a database. */
export class AcceptedSendsUnreadableError extends UserFacingError {
  override readonly name = "AcceptedSendsUnreadableError";
  constructor(
    readonly path: string,
    options: ErrorOptions,
  ) {
    const cause = options.cause as { errstr?: unknown; message?: unknown } | undefined;
    const why = typeof cause?.errstr === "string" ? cause.errstr : String(cause?.message ?? "unknown");
    super(
      `could not search ${path} for the person's accepted sends (SQLite: ${why}): stop the consumers on the state folder and run forget again; if the file is damaged, move it aside first`,
      options,
    );
  }
}

/**
 * Removes the facts whose digest is one of `digests` — rows of the file, and an earlier version's
 * files (cut-off writes of them too): `forget`'s sweep of the folder. Returns how many it removed;
 * a missing folder is none.
 */
export async function forgetAcceptedSends(dir: string, digests: ReadonlySet<string>): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  let removed = 0;
  const path = join(dir, ACCEPTED_SENDS_FILE);
  let failure: UserFacingError | undefined;
  if (existsSync(path) && digests.size > 0) {
    try {
      removed += forgetRows(dir, digests);
    } catch (error) {
      failure =
        error instanceof UserFacingError ? error : new AcceptedSendsUnreadableError(path, { cause: error });
    }
  }

  for (const name of names) {
    if (!name.endsWith(LEGACY_SUFFIX) && !LEGACY_TEMPORARY.test(name)) continue;
    const text = readSmallFileSync(join(dir, name));
    if (text === undefined) continue; // renamed or removed since the listing, or not a fact's file
    let digest: unknown;
    try {
      digest = (JSON.parse(text) as { digest?: unknown } | null)?.digest;
    } catch {
      // Cut short before its rename: theirs if a digest of theirs is anywhere in it.
    }
    const theirs =
      typeof digest === "string" ? digests.has(digest) : [...digests].some((d) => text.includes(d));
    if (!theirs) continue;
    await rm(join(dir, name), { force: true });
    removed += 1;
  }
  // An earlier version's files are swept all the same; the rows' failure is said after.
  if (failure) throw failure;
  return removed;
}

/** Deletes the rows under `digests` and empties the write-ahead log; returns how many it deleted. */
function forgetRows(dir: string, digests: ReadonlySet<string>): number {
  let removed = 0;
  const db = openFacts(dir);
  try {
    const statement = db.prepare("DELETE FROM accepted_sends WHERE digest = ?");
    for (const digest of digests) removed += Number(statement.run(digest).changes);
    // The rows' bytes leave the write-ahead log too, and not only the ones deleted here: a fact a
    // consumer recorded (and deleted) already is still in the frames of its insert until a
    // checkpoint. A reader in another process can keep the log from being emptied: say so.
    const checkpoint = db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get();
    if (checkpoint !== undefined && Number(checkpoint.busy) !== 0) {
      throw new AcceptedSendsLogBusyError(join(dir, ACCEPTED_SENDS_FILE));
    }
  } finally {
    db.close();
  }
  return removed;
}

/** The claim a fact stands for: `markSent` with it succeeds while nobody has taken the record over. */
export function claimOf(fact: AcceptedSend): Claim {
  return { id: fact.id, digest: fact.digest, owner: fact.owner, leaseUntil: fact.leaseUntil };
}

/** A regular file's text if it is small enough to be a fact; otherwise (or unreadable) undefined. */
function readSmallFileSync(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, READ_FLAGS);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    return stat.isFile() && stat.size <= FACT_MAX_BYTES ? readFileSync(fd, "utf8") : undefined;
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function readFact(path: string): AcceptedSend | undefined {
  const text = readSmallFileSync(path);
  if (text === undefined) return undefined;
  try {
    return parseFact(JSON.parse(text));
  } catch {
    return undefined; // cut short, or not JSON
  }
}

function parseFact(value: unknown): AcceptedSend | undefined {
  const v = value as Partial<AcceptedSend> | null;
  if (typeof v !== "object" || v === null) return undefined;
  if (typeof v.id !== "string" || !REGISTRATION_ID_PATTERN.test(v.id)) return undefined;
  if (typeof v.digest !== "string" || typeof v.owner !== "string") return undefined;
  if (typeof v.leaseUntil !== "number" || typeof v.acceptedAt !== "number") return undefined;
  return { id: v.id, digest: v.digest, owner: v.owner, leaseUntil: v.leaseUntil, acceptedAt: v.acceptedAt };
}
