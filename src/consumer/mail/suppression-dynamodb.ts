/**
 * The suppression list on DynamoDB, in the fleet's sent-email table: every consumer task
 * and the bounce handler share it, and the stack needs no second table, no second policy (the
 * consumer's GetItem/PutItem/DeleteItem on that table cover it) and no second thing to back up.
 *
 * Item layout, beside the sent-email records (store/dynamodb.ts):
 *
 * | attribute       | type | meaning                                                        |
 * |-----------------|------|----------------------------------------------------------------|
 * | `id`            | S    | `suppress#<address digest>` (the table's partition key)        |
 * | `addressDigest` | S    | the keyed digest of the normalised address (64 hex characters) |
 * | `reason`        | S    | `bounce` or `complaint` (the first one recorded)               |
 * | `since`         | N    | epoch milliseconds of the first suppression                    |
 *
 * Why a key prefix and not a second key attribute: the table's key is `id` alone, and a
 * registration id is 1–128 of `A–Z a–z 0–9 _ . : -` (contract/registration.ts), so no registration
 * id contains `#`: the two kinds of item can never collide, and a claim's condition never meets a
 * suppression. No `expiresAt`: the table's TTL never deletes these (suppression is permanent until
 * `forget`), and the attribute name differs from the records' `digest`, which `forget` scans.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from "@aws-sdk/client-dynamodb";
import { KEY_ATTRIBUTE } from "../../contract/sent-email-table.js";
import { classifyStoreError } from "../store/dynamodb-client.js";
import type { SuppressionList, SuppressionReason } from "./suppression.js";

/** Registration ids cannot contain `#` (contract/registration.ts): no collision is possible. */
export const SUPPRESSION_KEY_PREFIX = "suppress#";

export function suppressionKey(addressDigest: string): string {
  return `${SUPPRESSION_KEY_PREFIX}${addressDigest}`;
}

export interface DynamoDbSuppressionListOptions {
  readonly client: DynamoDBClient;
  /** The sent-email table (settings `table.sentEmailsTableName`, output `sentEmailsTableName`). */
  readonly tableName: string;
  /** Destroy the client on close (when it was built for this list). Default false. */
  readonly ownsClient?: boolean;
  readonly now?: () => number;
}

export class DynamoDbSuppressionList implements SuppressionList {
  readonly tableName: string;
  private readonly client: DynamoDBClient;
  private readonly ownsClient: boolean;
  private readonly now: () => number;
  private closed = false;

  constructor(options: DynamoDbSuppressionListOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.ownsClient = options.ownsClient ?? false;
    this.now = options.now ?? Date.now;
  }

  /**
   * Eventually consistent (half the read cost): a suppression is written when SES reports the
   * bounce, seconds to days after the email; a read a few milliseconds stale changes nothing.
   */
  async isSuppressed(addressDigest: string): Promise<boolean> {
    const output = await this.send("check the suppression list", () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [KEY_ATTRIBUTE]: { S: suppressionKey(addressDigest) } },
          ProjectionExpression: "#id",
          ExpressionAttributeNames: { "#id": KEY_ATTRIBUTE },
        }),
      ),
    );
    return output.Item !== undefined;
  }

  /** A conditional put: the first record stays (its reason and time); a repeat is a success. */
  async suppress(addressDigest: string, reason: SuppressionReason): Promise<void> {
    try {
      await this.send("add to the suppression list", () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: {
              [KEY_ATTRIBUTE]: { S: suppressionKey(addressDigest) },
              addressDigest: { S: addressDigest },
              reason: { S: reason },
              since: { N: String(this.now()) },
            },
            ConditionExpression: "attribute_not_exists(#id)",
            ExpressionAttributeNames: { "#id": KEY_ATTRIBUTE },
          }),
        ),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Removes the entry (`npm run forget`); 1 when there was one, else 0. */
  async forget(addressDigest: string): Promise<number> {
    const output = await this.send("forget a suppression", () =>
      this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: { [KEY_ATTRIBUTE]: { S: suppressionKey(addressDigest) } },
          ReturnValues: "ALL_OLD",
        }),
      ),
    );
    return output.Attributes ? 1 : 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.client.destroy();
  }

  /** Conditional failures pass through; the rest are sorted like the sent-email store's. */
  private async send<T>(action: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw error;
      throw classifyStoreError(error, this.tableName, action);
    }
  }
}
