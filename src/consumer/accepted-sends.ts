/**
 * Sends the mail server accepted (a 250, an SES 200) whose record in the store is not written yet.
 * Between the acceptance and `markSent` is the one window in which a store outage turns into a
 * second email: the claim lapses, a redelivery claims it again and sends. So the fact is kept
 * here first — in memory, and, when the consumer has a state folder, as one small file per
 * registration (`<dir>/<id>.json`: the id, the content digest and the claim's owner token, no
 * address) — and dropped only once the record is written. A consumer restarted on the same
 * folder writes the record for what its predecessor sent, instead of sending again.
 *
 * Files are written with a rename (a reader never sees half of one); not fsynced: they guard
 * against a process killed or restarted, not a machine losing power.
 *
 * A fact whose message never comes back (deleted by hand, purged, expired) would wait forever: a
 * consumer starting on the folder removes facts older than the store's record retention — by then
 * the message has outlived both queues' retention and the redrive margin, so no delivery can need
 * the fact — and temporary files as old. `forget` removes the person's facts (`forgetAcceptedSends`).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { recordRetentionMs } from "../config/derived.js";
import { REGISTRATION_ID_PATTERN } from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";
import type { Claim } from "./store/contract.js";

/** One accepted send whose record is pending: the claim that `markSent` is fenced on. */
export interface AcceptedSend {
  readonly id: string;
  readonly digest: string;
  readonly owner: string;
  readonly leaseUntil: number;
  /** Epoch ms of the acceptance. */
  readonly acceptedAt: number;
}

const SUFFIX = ".json";
/** `<id>.json.<pid>.tmp`: a fact written by a process killed before its rename. */
const TEMPORARY = /^[^/]+\.json\.\d+\.tmp$/;

export interface AcceptedSendsOptions {
  /** Facts (and temporary files) older than this are removed at start; default: the record retention. */
  readonly maxAgeMs?: number;
  /** Epoch ms; `Date.now` by default. */
  readonly now?: () => number;
}

export class AcceptedSends {
  private readonly byId = new Map<string, AcceptedSend>();
  private readonly logger: Logger;
  private readonly dir: string | undefined;

  /** `dir`: where the facts outlive the process (the state folder's `accepted/`); none: memory only. */
  constructor(dir?: string, logger?: Logger, options: AcceptedSendsOptions = {}) {
    this.logger = logger ?? silentLogger;
    this.dir = dir;
    if (dir === undefined) return;
    let names: string[];
    try {
      mkdirSync(dir, { recursive: true });
      names = readdirSync(dir);
    } catch (error) {
      // The memory copy still covers this process; say once that a restart would not.
      this.logger.warn({ err: error }, "cannot keep accepted sends on disk; keeping them in memory only");
      this.dir = undefined;
      return;
    }
    const oldest = (options.now ?? Date.now)() - (options.maxAgeMs ?? recordRetentionMs());
    let expired = 0;
    const remove = (name: string) => {
      try {
        rmSync(join(dir, name), { force: true });
        expired += 1;
      } catch (error) {
        this.logger.warn({ err: error }, "could not remove an expired accepted send");
      }
    };
    for (const name of names) {
      if (TEMPORARY.test(name)) {
        try {
          if (statSync(join(dir, name)).mtimeMs < oldest) remove(name);
        } catch {
          // Renamed or removed since the listing.
        }
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      try {
        const fact = parseFact(JSON.parse(readFileSync(join(dir, name), "utf8")));
        if (!fact || `${fact.id}${SUFFIX}` !== name) continue;
        if (fact.acceptedAt < oldest) remove(name);
        else this.byId.set(fact.id, fact);
      } catch {
        // A file that is not one of ours (or cut short by a crash before its rename): skipped.
      }
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
    const path = this.pathOf(fact.id);
    if (path === undefined) return;
    const temp = `${path}.${process.pid}.tmp`;
    try {
      writeFileSync(temp, JSON.stringify(fact));
      renameSync(temp, path);
    } catch (error) {
      // The memory copy still covers this process; only a restart would forget it.
      this.logger.warn({ registrationId: fact.id, err: error }, "could not keep an accepted send on disk");
    }
  }

  /** The record is written (or no longer this consumer's to write): forget the fact. */
  delete(id: string): void {
    if (!this.byId.delete(id)) return;
    const path = this.pathOf(id);
    if (path === undefined) return;
    try {
      rmSync(path, { force: true });
    } catch (error) {
      // Left behind, it only makes a restart write a record that is written already (a no-op).
      this.logger.warn({ registrationId: id, err: error }, "could not remove a recorded accepted send");
    }
  }

  private pathOf(id: string): string | undefined {
    if (this.dir === undefined || !REGISTRATION_ID_PATTERN.test(id)) return undefined;
    return join(this.dir, `${id}${SUFFIX}`);
  }
}

/**
 * Removes the facts (and temporary files of interrupted writes) whose digest is one of `digests`:
 * `forget`'s sweep of the folder. Returns how many files it removed; a missing folder is none.
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
  for (const name of names) {
    if (!name.endsWith(SUFFIX) && !TEMPORARY.test(name)) continue;
    const text = await readFile(join(dir, name), "utf8").catch(() => undefined);
    if (text === undefined) continue; // renamed or removed since the listing
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
  return removed;
}

/** The claim a fact stands for: `markSent` with it succeeds while nobody has taken the record over. */
export function claimOf(fact: AcceptedSend): Claim {
  return { id: fact.id, digest: fact.digest, owner: fact.owner, leaseUntil: fact.leaseUntil };
}

function parseFact(value: unknown): AcceptedSend | undefined {
  const v = value as Partial<AcceptedSend> | null;
  if (typeof v !== "object" || v === null) return undefined;
  if (typeof v.id !== "string" || !REGISTRATION_ID_PATTERN.test(v.id)) return undefined;
  if (typeof v.digest !== "string" || typeof v.owner !== "string") return undefined;
  if (typeof v.leaseUntil !== "number" || typeof v.acceptedAt !== "number") return undefined;
  return { id: v.id, digest: v.digest, owner: v.owner, leaseUntil: v.leaseUntil, acceptedAt: v.acceptedAt };
}
