/**
 * The suppression list on DynamoDB (dynalite in process on 127.0.0.1:0), in the same table as the
 * sent-email records: idempotent, permanent until forgotten, apart from the records (no claim or
 * forget of a registration touches it), and faults sorted as the store sorts them.
 */
import { type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbSuppressionList, suppressionKey } from "../../src/consumer/mail/suppression-dynamodb.js";
import { DynamoDbSentEmailStore } from "../../src/consumer/store/dynamodb.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { ensureTable, type LocalDynamoDb, startLocalDynamoDb } from "../../src/local/dynamodb.js";
import { startFaultProxy } from "../support/fault-proxy.js";

const TABLE = "sent-emails-suppression-test";
const A = "a".repeat(64);
const B = "b".repeat(64);

let dynamo: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb({ port: 0 });
  client = createDynamoDbClient({ endpoint: dynamo.endpoint });
  await ensureTable(client, { tableName: TABLE });
});

afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

describe("DynamoDbSuppressionList", () => {
  it("suppresses once: a repeat keeps the first reason and time", async () => {
    let now = 1_000;
    const list = new DynamoDbSuppressionList({ client, tableName: TABLE, now: () => now });
    expect(await list.isSuppressed(A)).toBe(false);
    await list.suppress(A, "bounce");
    now = 2_000;
    await list.suppress(A, "complaint");
    expect(await list.isSuppressed(A)).toBe(true);
    expect(await list.isSuppressed(B)).toBe(false);
    const { Item } = await client.send(
      new GetItemCommand({ TableName: TABLE, Key: { id: { S: suppressionKey(A) } }, ConsistentRead: true }),
    );
    expect(Item).toEqual({
      id: { S: `suppress#${A}` },
      addressDigest: { S: A },
      reason: { S: "bounce" },
      since: { N: "1000" },
    });
    // Permanent: no TTL attribute for the table to expire it by.
    expect(Item).not.toHaveProperty("expiresAt");
  });

  it("is seen by every consumer sharing the table, and forgotten by forget", async () => {
    const writer = new DynamoDbSuppressionList({ client, tableName: TABLE });
    const reader = new DynamoDbSuppressionList({
      client: createDynamoDbClient({ endpoint: dynamo.endpoint }),
      tableName: TABLE,
      ownsClient: true,
    });
    try {
      await writer.suppress(B, "complaint");
      expect(await reader.isSuppressed(B)).toBe(true);
      expect(await reader.forget(B)).toBe(1);
      expect(await writer.isSuppressed(B)).toBe(false);
      expect(await writer.forget(B)).toBe(0);
    } finally {
      await reader.close();
    }
  });

  it("lives beside the sent-email records without touching them", async () => {
    const store = new DynamoDbSentEmailStore({
      client,
      table: { tableName: TABLE },
      timing: { leaseMs: 10_000, retentionMs: 60_000 },
    });
    const list = new DynamoDbSuppressionList({ client, tableName: TABLE });
    const digest = "c".repeat(64);
    await list.suppress(digest, "bounce");
    const claimed = await store.claim("reg-1", digest);
    expect(claimed.outcome).toBe("claimed");
    // The records' erasure scans their `digest`: a suppression (keyed by `addressDigest`) stays.
    expect(await store.forget(digest)).toBe(1);
    expect(await list.isSuppressed(digest)).toBe(true);
  });

  it("reports a missing table as unavailable, and throttling as an environment fault", async () => {
    const missing = new DynamoDbSuppressionList({ client, tableName: "no-such-table" });
    await expect(missing.isSuppressed(A)).rejects.toBeInstanceOf(StoreUnavailableError);

    const proxy = await startFaultProxy(dynamo.endpoint);
    proxy.failEvery = 1;
    const faulty = createDynamoDbClient({ endpoint: proxy.endpoint }, { maxAttempts: 2 });
    try {
      const list = new DynamoDbSuppressionList({ client: faulty, tableName: TABLE });
      await expect(list.suppress(A, "bounce")).rejects.toMatchObject({
        name: "EnvironmentFaultError",
        component: "store",
      });
    } finally {
      faulty.destroy();
      await proxy.close();
    }
  });
});
