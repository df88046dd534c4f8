/**
 * The sent-email store on DynamoDB: one item per registration id, shared by every consumer of a
 * fleet. Learnt from Powertools for AWS Lambda's idempotency DynamoDB persistence layer (one
 * conditional PutItem that treats an expired record as absent, the old item returned on a failed
 * condition), and built against what its users hit:
 *
 * - records stuck "in progress": Powertools takes the in-progress expiry from Lambda's remaining
 *   time and has none outside Lambda; here every claim carries its own `leaseUntil` (the mail
 *   transport's timeout plus a margin, from StoreTiming), and a lapsed lease is taken over;
 * - its later writes are unconditional: a holder paused past its expiry overwrites the record of
 *   the one that took over. Here markSent and release are fenced on the claimant's `owner`;
 * - the payload check happens after the claim; here the digest is part of the condition, so a
 *   lapsed lease is never taken over by another registration reusing the id.
 *
 * Item layout (table key `id`, string):
 *
 * | attribute    | type | meaning                                                             |
 * |--------------|------|---------------------------------------------------------------------|
 * | `id`         | S    | registration id (partition key)                                     |
 * | `digest`     | S    | keyed digest of the registration's content (hex)                    |
 * | `state`      | S    | `sending` or `sent`                                                 |
 * | `owner`      | S    | random token of the claimant (the fence)                            |
 * | `leaseUntil` | N    | epoch **milliseconds**: a `sending` record may be taken over after  |
 * | `expiresAt`  | N    | epoch **seconds**, rounded up: the table's TTL attribute            |
 *
 * `expiresAt` is in seconds because DynamoDB's TTL reads only epoch seconds (in milliseconds
 * every item would look 50,000 years away and never be deleted). It is rounded up, so a record
 * lives at least `retentionMs`; the claim compares it with the current time in (fractional)
 * seconds, at most one second late on a retention of weeks. `leaseUntil` keeps milliseconds:
 * leases are seconds long, and the contract reports it to the runtime, which turns the rest of
 * it into a visibility timeout.
 *
 * DynamoDB's TTL deletes expired items days late, and the local server (dynalite) never does, so
 * the claim's condition treats `expiresAt < now` as absent itself.
 *
 * Writes: claim = PutItem under CLAIM_CONDITION (then the old item decides already-sent,
 * in-progress or conflict); markSent = UpdateItem `state = sent`, `expiresAt` renewed from the
 * send, under `owner = :owner`; release = DeleteItem under `owner = :owner AND state = sending`,
 * so a released id is absent and free at once. A failed fence is StaleClaimError.
 *
 * Capacity: every request asks for `ReturnConsumedCapacity: TOTAL` and adds it to `capacity`.
 * A failed conditional write is billed (the existing item's size, at least 1 WRU) but DynamoDB
 * returns no ConsumedCapacity with the error, so that case is computed by DynamoDB's rule from
 * the item's size and counted apart (`estimatedWriteUnits`).
 */
import { randomUUID } from "node:crypto";
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type ConsumedCapacity,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { settings } from "../../config/settings.js";
import { KEY_ATTRIBUTE, TTL_ATTRIBUTE } from "../../contract/sent-email-table.js";
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
import { classifyStoreError, unreachableStoreError } from "./dynamodb-client.js";

/** The table the store uses, and what `ensureTable` creates. */
export interface SentEmailsTableSettings {
  readonly tableName: string;
}

/** The table's default name, from the settings data (infra-terraform/settings.json, `table`). */
export const defaultSentEmailsTable: SentEmailsTableSettings = {
  tableName: settings.table.sentEmailsTableName,
};

export { KEY_ATTRIBUTE, TTL_ATTRIBUTE };

/** Request units this store has used, as DynamoDB bills them. */
export interface CapacityUsage {
  /** Write request units: reported by DynamoDB plus `estimatedWriteUnits`. */
  readonly writeUnits: number;
  /** Read request units, as reported (strongly consistent reads). */
  readonly readUnits: number;
  /** Write units of failed conditional writes, which DynamoDB bills but does not report. */
  readonly estimatedWriteUnits: number;
  /** Requests sent, by operation (SDK retries not counted). */
  readonly requests: Readonly<Record<"PutItem" | "GetItem" | "UpdateItem" | "DeleteItem" | "Scan", number>>;
}

export interface DynamoDbStoreOptions {
  readonly client: DynamoDBClient;
  readonly table?: SentEmailsTableSettings;
  readonly timing: StoreTiming;
  /** Destroy the client on close (when the store built it). Default false: the caller owns it. */
  readonly ownsClient?: boolean;
  /** The owner token of each claim; random by default. */
  readonly newOwner?: () => string;
}

/** How often a claim is tried again when the record changed between the write and the read. */
const CLAIM_ATTEMPTS = 3;

/** Names in expressions go through placeholders: `state` and `owner` are DynamoDB reserved words. */
const CLAIM_NAMES = {
  "#id": KEY_ATTRIBUTE,
  "#digest": "digest",
  "#state": "state",
  "#leaseUntil": "leaseUntil",
  "#expiresAt": TTL_ATTRIBUTE,
};

/**
 * Claimable: the id is absent; or its record expired (TTL lags); or it is a `sending` record of
 * the same registration whose lease lapsed (its holder died or hung). A different digest never
 * takes over: that is another registration reusing the id.
 */
const CLAIM_CONDITION =
  "attribute_not_exists(#id) OR #expiresAt < :nowSeconds OR (#state = :sending AND #leaseUntil < :now AND #digest = :digest)";

/** Release is fenced: only the claimant, and only while the record is still its send in progress. */
const RELEASE_CONDITION = "#owner = :owner AND #state = :sending";
/**
 * markSent is fenced on the owner alone: each claim has its own token, so a `sent` record with it
 * is this claim's own earlier markSent (its answer lost, the SDK's retry here) — idempotent.
 */
const MARK_SENT_CONDITION = "#owner = :owner";

interface StoredRecord {
  readonly digest: string;
  readonly owner: string;
  readonly state: string;
  readonly leaseUntil: number;
  /** Epoch seconds. */
  readonly expiresAt: number;
}

export class DynamoDbSentEmailStore implements SentEmailStore {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly timing: StoreTiming;
  private readonly now: () => number;
  private readonly newOwner: () => string;
  private readonly ownsClient: boolean;
  private closed = false;
  private usage = {
    writeUnits: 0,
    readUnits: 0,
    estimatedWriteUnits: 0,
    requests: { PutItem: 0, GetItem: 0, UpdateItem: 0, DeleteItem: 0, Scan: 0 },
  };

  constructor(options: DynamoDbStoreOptions) {
    this.client = options.client;
    this.tableName = (options.table ?? defaultSentEmailsTable).tableName;
    this.timing = options.timing;
    this.now = options.timing.now ?? Date.now;
    this.newOwner = options.newOwner ?? randomUUID;
    this.ownsClient = options.ownsClient ?? false;
  }

  /** Request units used so far (a copy). */
  get capacity(): CapacityUsage {
    return { ...this.usage, requests: { ...this.usage.requests } };
  }

  async claim(id: string, digest: string): Promise<ClaimResult> {
    let seen: StoredRecord | undefined;
    for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt += 1) {
      const now = this.now();
      const claim: Claim = { id, digest, owner: this.newOwner(), leaseUntil: now + this.timing.leaseMs };
      const item = {
        [KEY_ATTRIBUTE]: { S: id },
        digest: { S: digest },
        state: { S: "sending" },
        owner: { S: claim.owner },
        leaseUntil: { N: String(claim.leaseUntil) },
        [TTL_ATTRIBUTE]: { N: String(expirySeconds(now + this.timing.retentionMs)) },
      } satisfies Record<string, AttributeValue>;
      let old: Record<string, AttributeValue> | undefined;
      try {
        const output = await this.send("PutItem", "claim", () =>
          this.client.send(
            new PutItemCommand({
              TableName: this.tableName,
              Item: item,
              ConditionExpression: CLAIM_CONDITION,
              ExpressionAttributeNames: CLAIM_NAMES,
              ExpressionAttributeValues: {
                ":nowSeconds": { N: String(now / 1000) },
                ":now": { N: String(now) },
                ":sending": { S: "sending" },
                ":digest": { S: digest },
              },
              // DynamoDB returns the item that failed the condition inside the error, saving a
              // read; dynalite ignores the option (then `read` below fetches it).
              ReturnValuesOnConditionCheckFailure: "ALL_OLD",
              // The record taken over: its ambiguous attempts go to the new holder, who writes
              // them back if it releases the claim or its send ends ambiguously too.
              ReturnValues: "ALL_OLD",
              ReturnConsumedCapacity: "TOTAL",
            }),
          ),
        );
        this.count(output.ConsumedCapacity, "write");
        const ambiguous = carriedAttempts(output.Attributes, digest, now);
        return { outcome: "claimed", claim: ambiguous ? { ...claim, ambiguous } : claim };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        old = error.Item;
        this.chargeFailedWrite(old);
      }
      seen = parseRecord(old ?? (await this.read(id)));
      // Absent, expired or lapsed-with-our-digest by now: it changed since the write (a release,
      // another takeover); try again.
      if (seen === undefined || seen.expiresAt < now / 1000) continue;
      // Our own write: it succeeded, its answer was lost, and the SDK's retry failed the condition.
      if (seen.owner === claim.owner) {
        return { outcome: "claimed", claim };
      }
      if (seen.digest !== digest) return { outcome: "conflict" };
      if (seen.state === "sent") return { outcome: "already-sent" };
      if (seen.leaseUntil >= now) {
        return { outcome: "in-progress", leaseUntil: seen.leaseUntil, owner: seen.owner };
      }
    }
    // Contended beyond reason: hand the message back briefly rather than risk a second email.
    return {
      outcome: "in-progress",
      leaseUntil: Math.max(seen?.leaseUntil ?? 0, this.now()),
      owner: seen?.owner ?? "",
    };
  }

  async markSent(claim: Claim): Promise<void> {
    const now = this.now();
    await this.fenced(claim, "markSent", () =>
      this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [KEY_ATTRIBUTE]: { S: claim.id } },
          // Retention counts from the send: a message can come back that long after it.
          UpdateExpression: "SET #state = :sent, #expiresAt = :expiresAt",
          ConditionExpression: MARK_SENT_CONDITION,
          ExpressionAttributeNames: { "#owner": "owner", "#state": "state", "#expiresAt": TTL_ATTRIBUTE },
          ExpressionAttributeValues: {
            ":sent": { S: "sent" },
            ":owner": { S: claim.owner },
            ":expiresAt": { N: String(expirySeconds(now + this.timing.retentionMs)) },
          },
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  async release(claim: Claim): Promise<void> {
    if (claim.ambiguous !== undefined) return this.lapse(claim, RELEASED_OWNER, claim.ambiguous, "release");
    await this.fenced(claim, "release", () =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [KEY_ATTRIBUTE]: { S: claim.id } },
          ConditionExpression: RELEASE_CONDITION,
          ExpressionAttributeNames: { "#owner": "owner", "#state": "state" },
          ExpressionAttributeValues: { ":sending": { S: "sending" }, ":owner": { S: claim.owner } },
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
  }

  async recordAmbiguous(claim: Claim, attempts: AmbiguousAttempts): Promise<void> {
    await this.lapse(claim, claim.owner, attempts, "recordAmbiguous");
  }

  /** The lease lapses now; the attempts stay on the item for whoever claims next. */
  private async lapse(
    claim: Claim,
    newOwner: string,
    attempts: AmbiguousAttempts,
    action: "release" | "recordAmbiguous",
  ): Promise<void> {
    await this.fenced(
      claim,
      action,
      () =>
        this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { [KEY_ATTRIBUTE]: { S: claim.id } },
            UpdateExpression:
              "SET #owner = :newOwner, #leaseUntil = :zero, #attempts = :attempts, #lastAt = :lastAt",
            ConditionExpression: RELEASE_CONDITION,
            ExpressionAttributeNames: {
              "#owner": "owner",
              "#state": "state",
              "#leaseUntil": "leaseUntil",
              "#attempts": "ambiguousAttempts",
              "#lastAt": "lastAmbiguousAt",
            },
            ExpressionAttributeValues: {
              ":sending": { S: "sending" },
              ":owner": { S: claim.owner },
              ":newOwner": { S: newOwner },
              ":zero": { N: "0" },
              ":attempts": { N: String(attempts.attempts) },
              ":lastAt": { N: String(Math.round(attempts.lastAt)) },
            },
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      "UpdateItem",
    );
  }

  /**
   * Erases one person's records: a Scan filtered on the digest (the table has no index on it, and
   * the table's infrastructure is not this tool's to change), then a DeleteItem per match,
   * conditional on the digest still being the same. A Scan reads, and bills, the whole table
   * (about 1 read unit per 8 KB eventually consistent, filter or not): fine for an operator's
   * erasure request, never for the hot path.
   */
  async forget(digest: string): Promise<number> {
    const ids: string[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.send("Scan", "forget (scan)", () =>
        this.client.send(
          new ScanCommand({
            TableName: this.tableName,
            FilterExpression: "#digest = :digest",
            ProjectionExpression: "#id",
            ExpressionAttributeNames: { "#id": KEY_ATTRIBUTE, "#digest": "digest" },
            ExpressionAttributeValues: { ":digest": { S: digest } },
            ...(start ? { ExclusiveStartKey: start } : {}),
            ReturnConsumedCapacity: "TOTAL",
          }),
        ),
      );
      this.count(page.ConsumedCapacity, "read");
      for (const item of page.Items ?? []) if (item[KEY_ATTRIBUTE]?.S) ids.push(item[KEY_ATTRIBUTE].S);
      start = page.LastEvaluatedKey;
    } while (start);
    let deleted = 0;
    for (const id of ids) {
      try {
        const output = await this.send("DeleteItem", "forget", () =>
          this.client.send(
            new DeleteItemCommand({
              TableName: this.tableName,
              Key: { [KEY_ATTRIBUTE]: { S: id } },
              ConditionExpression: "#digest = :digest",
              ExpressionAttributeNames: { "#digest": "digest" },
              ExpressionAttributeValues: { ":digest": { S: digest } },
              ReturnConsumedCapacity: "TOTAL",
            }),
          ),
        );
        this.count(output.ConsumedCapacity, "write");
        deleted += 1;
      } catch (error) {
        // Taken over by another registration since the scan: not this person's any more.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        this.chargeFailedWrite(undefined);
      }
    }
    return deleted;
  }

  /**
   * Fails fast with StoreUnavailableError (missing table, access denied, nothing answering)
   * before any message is received: one eventually consistent GetItem of a key no registration
   * uses, an action the consumer policy already grants (DescribeTable would need one more).
   */
  async check(): Promise<void> {
    try {
      await this.send("GetItem", "check the table", () =>
        this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: { [KEY_ATTRIBUTE]: { S: "-" } } }),
        ),
      );
    } catch (error) {
      if (!(error instanceof EnvironmentFaultError)) throw error;
      throw await unreachableStoreError(error, this.tableName, this.client);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  private async fenced(
    claim: Claim,
    action: "markSent" | "release" | "recordAmbiguous",
    call: () => Promise<{ ConsumedCapacity?: ConsumedCapacity }>,
    operation: "UpdateItem" | "DeleteItem" = action === "release" ? "DeleteItem" : "UpdateItem",
  ): Promise<void> {
    try {
      const output = await this.send(operation, action, call);
      this.count(output.ConsumedCapacity, "write");
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.chargeFailedWrite(undefined);
      throw new StaleClaimError(claim.id);
    }
  }

  /** A consistent read of the item that failed the claim's condition. */
  private async read(id: string): Promise<Record<string, AttributeValue> | undefined> {
    const output = await this.send("GetItem", "claim (read)", () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [KEY_ATTRIBUTE]: { S: id } },
          // Eventually consistent could miss the write that just beat ours.
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
      ),
    );
    this.count(output.ConsumedCapacity, "read");
    return output.Item;
  }

  /** Sends one request, counting it; conditional failures pass through, the rest are sorted. */
  private async send<T>(
    operation: keyof CapacityUsage["requests"],
    action: string,
    call: () => Promise<T>,
  ): Promise<T> {
    this.usage.requests[operation] += 1;
    try {
      return await call();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      throw classifyStoreError(error, this.tableName, `${action} (${operation})`);
    }
  }

  private count(consumed: ConsumedCapacity | undefined, kind: "read" | "write"): void {
    const units = consumed?.CapacityUnits ?? 0;
    if (kind === "read") this.usage.readUnits += units;
    else this.usage.writeUnits += units;
  }

  /**
   * "If a ConditionExpression evaluates to false, DynamoDB still consumes write capacity: the
   * size of the existing item, or 1 when there is none" (DynamoDB developer guide, condition
   * expressions). Our items are far below 1 KB, so this is 1 unless the item is unknown and huge.
   */
  private chargeFailedWrite(existing: Record<string, AttributeValue> | undefined): void {
    const units = Math.max(1, Math.ceil(itemSize(existing ?? {}) / 1024));
    this.usage.writeUnits += units;
    this.usage.estimatedWriteUnits += units;
  }
}

/** Epoch seconds for TTL, rounded up so a record never expires early. */
export function expirySeconds(epochMs: number): number {
  return Math.ceil(epochMs / 1000);
}

/** The attempts of a record a claim took over: not expired, same registration, still sending. */
function carriedAttempts(
  item: Record<string, AttributeValue> | undefined,
  digest: string,
  now: number,
): AmbiguousAttempts | undefined {
  const old = parseRecord(item);
  const attempts = Number(item?.ambiguousAttempts?.N ?? 0);
  if (old === undefined || attempts <= 0) return undefined;
  if (old.expiresAt < now / 1000 || old.digest !== digest || old.state !== "sending") return undefined;
  return { attempts, lastAt: Number(item?.lastAmbiguousAt?.N ?? 0) };
}

function parseRecord(item: Record<string, AttributeValue> | undefined): StoredRecord | undefined {
  if (item === undefined) return undefined;
  return {
    digest: item.digest?.S ?? "",
    owner: item.owner?.S ?? "",
    state: item.state?.S ?? "",
    leaseUntil: Number(item.leaseUntil?.N ?? 0),
    expiresAt: Number(item[TTL_ATTRIBUTE]?.N ?? Number.POSITIVE_INFINITY),
  };
}

/**
 * An item's size as DynamoDB bills it, for the attribute types this store writes: each
 * attribute's name in UTF-8 bytes plus its value (a string's UTF-8 bytes; a number's significant
 * digits / 2 + 1 bytes).
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name);
    if (value.S !== undefined) size += Buffer.byteLength(value.S);
    else if (value.N !== undefined) size += Math.ceil(value.N.replace(/[-.]|^0+/g, "").length / 2) + 1;
    else size += 1;
  }
  return size;
}
