/**
 * The DynamoDB sent-email store on a real DynamoDB-protocol server (dynalite, in process on
 * 127.0.0.1:0): the shared contract, twice (the old item read back as dynalite needs, and
 * returned in the error as DynamoDB does), then what only this store has: its failure modes and
 * what it costs.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvironmentFaultError } from "../../src/consumer/errors.js";
import type { StoreTiming } from "../../src/consumer/store/contract.js";
import { DynamoDbSentEmailStore, expirySeconds } from "../../src/consumer/store/dynamodb.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { StoreUnavailableError } from "../../src/errors.js";
import { ensureTable, type LocalDynamoDb, startLocalDynamoDb } from "../../src/local/dynamodb.js";
import { type DynamoDbProxy, startDynamoDbProxy } from "../support/dynamodb-proxy.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { contractTiming, describeStoreContract } from "../support/store-contract.js";

const TABLE = { tableName: "sent-emails-test" };
const DIGEST = "d".repeat(64);

let dynamo: LocalDynamoDb;
let direct: DynamoDBClient;
let emulating: DynamoDbProxy;
let viaProxy: DynamoDBClient;

beforeAll(async () => {
  dynamo = await startLocalDynamoDb({ port: 0 });
  direct = createDynamoDbClient({ endpoint: dynamo.endpoint });
  await ensureTable(direct, TABLE);
  emulating = await startDynamoDbProxy(dynamo.endpoint);
  emulating.returnOldItem = true;
  viaProxy = createDynamoDbClient({ endpoint: emulating.endpoint });
});

afterAll(async () => {
  direct?.destroy();
  viaProxy?.destroy();
  await emulating?.close();
  await dynamo?.stop();
});

// Each store with its own client and connections, as each consumer of a fleet has; close()
// destroys it.
describeStoreContract("DynamoDB on dynalite (old item read back)", async (timing) => {
  const client = createDynamoDbClient({ endpoint: dynamo.endpoint });
  return new DynamoDbSentEmailStore({ client, table: TABLE, timing, ownsClient: true });
});

describeStoreContract(
  "DynamoDB on dynalite, old item in the error as DynamoDB returns it",
  async (timing) => {
    return new DynamoDbSentEmailStore({ client: viaProxy, table: TABLE, timing });
  },
);

describe("DynamoDB store", () => {
  const at = (now: number): StoreTiming => ({ ...contractTiming, now: () => now });
  const T0 = Date.UTC(2030, 0, 1);

  it("binds 127.0.0.1 only", () => {
    const listening = execFileSync("ss", ["-Hltn", `sport = :${dynamo.port}`], { encoding: "utf8" });
    // One listening socket, and its local address (the 4th column) is loopback.
    const locals = listening
      .trim()
      .split("\n")
      .map((line) => line.trim().split(/\s+/)[3]);
    expect(locals).toEqual([`127.0.0.1:${dynamo.port}`]);
  });

  it("writes the item layout: TTL in epoch seconds (rounded up), lease in milliseconds", async () => {
    const store = new DynamoDbSentEmailStore({ client: direct, table: TABLE, timing: at(T0 + 123) });
    const result = await store.claim("layout-1", DIGEST);
    expect(result.outcome).toBe("claimed");
    const { Item } = await direct.send(
      new GetItemCommand({
        TableName: TABLE.tableName,
        Key: { id: { S: "layout-1" } },
        ConsistentRead: true,
      }),
    );
    expect(Item).toEqual({
      id: { S: "layout-1" },
      digest: { S: DIGEST },
      state: { S: "sending" },
      owner: { S: expect.any(String) },
      leaseUntil: { N: String(T0 + 123 + contractTiming.leaseMs) },
      expiresAt: { N: String(Math.ceil((T0 + 123 + contractTiming.retentionMs) / 1000)) },
    });
    expect(expirySeconds(1_001)).toBe(2);
  });

  it("decides a failed claim from the old item in the error, without a read (DynamoDB)", async () => {
    const store = new DynamoDbSentEmailStore({ client: viaProxy, table: TABLE, timing: at(T0) });
    const claim = await store.claim("returned-1", DIGEST);
    if (claim.outcome !== "claimed") throw new Error("not claimed");
    const before = { ...emulating.requests };
    expect(await store.claim("returned-1", DIGEST)).toEqual({
      outcome: "in-progress",
      leaseUntil: claim.claim.leaseUntil,
      owner: claim.claim.owner,
    });
    expect(await store.claim("returned-1", "e".repeat(64))).toEqual({ outcome: "conflict" });
    expect((emulating.requests.PutItem ?? 0) - (before.PutItem ?? 0)).toBe(2);
    expect((emulating.requests.GetItem ?? 0) - (before.GetItem ?? 0)).toBe(0);
    expect(store.capacity.requests).toMatchObject({ PutItem: 3, GetItem: 0 });
  });

  it("falls back to one consistent read when the error has no item (dynalite)", async () => {
    const store = new DynamoDbSentEmailStore({ client: direct, table: TABLE, timing: at(T0) });
    const claim = await store.claim("fallback-1", DIGEST);
    if (claim.outcome !== "claimed") throw new Error("not claimed");
    await store.markSent(claim.claim);
    expect(await store.claim("fallback-1", DIGEST)).toEqual({ outcome: "already-sent" });
    expect(store.capacity.requests).toMatchObject({ PutItem: 2, UpdateItem: 1, GetItem: 1 });
  });

  it("costs 2 write units per new registration and 1 per duplicate (+1 read unit on dynalite)", async () => {
    const n = 20;
    const measure = async (client: DynamoDBClient, prefix: string) => {
      const store = new DynamoDbSentEmailStore({ client, table: TABLE, timing: at(T0) });
      for (let i = 0; i < n; i += 1) {
        const result = await store.claim(`${prefix}-${i}`, DIGEST);
        if (result.outcome !== "claimed") throw new Error(`not claimed: ${result.outcome}`);
        await store.markSent(result.claim);
      }
      const fresh = store.capacity;
      for (let i = 0; i < n; i += 1)
        expect((await store.claim(`${prefix}-${i}`, DIGEST)).outcome).toBe("already-sent");
      const total = store.capacity;
      return {
        newMessage: { write: fresh.writeUnits / n, read: fresh.readUnits / n },
        duplicate: {
          write: (total.writeUnits - fresh.writeUnits) / n,
          read: (total.readUnits - fresh.readUnits) / n,
          estimatedWrite: (total.estimatedWriteUnits - fresh.estimatedWriteUnits) / n,
        },
      };
    };
    const returned = await measure(viaProxy, "cost-returned");
    const readBack = await measure(direct, "cost-read");
    // Claim (PutItem, reported) + markSent (UpdateItem, reported); items are ~180 bytes.
    expect(returned.newMessage).toEqual({ write: 2, read: 0 });
    expect(readBack.newMessage).toEqual({ write: 2, read: 0 });
    // A failed conditional PutItem is billed 1 unit but not reported: computed by DynamoDB's rule.
    expect(returned.duplicate).toEqual({ write: 1, read: 0, estimatedWrite: 1 });
    expect(readBack.duplicate).toEqual({ write: 1, read: 1, estimatedWrite: 1 });
    // us-east-1 on-demand, standard table class: $0.625 per million WRU, $0.125 per million RRU.
    const perMillion = (units: { write: number; read: number }) => units.write * 0.625 + units.read * 0.125;
    console.log(
      `DynamoDB store cost per million: new $${perMillion(returned.newMessage)}, duplicate $${perMillion(returned.duplicate)} (DynamoDB) / $${perMillion(readBack.duplicate)} (read fallback)`,
    );
  });

  it("keeps its claim when the answer was lost and the SDK's retry found its own item", async () => {
    const lossy = await startDynamoDbProxy(dynamo.endpoint);
    const client = createDynamoDbClient({ endpoint: lossy.endpoint }, { maxAttempts: 3 });
    try {
      const store = new DynamoDbSentEmailStore({ client, table: TABLE, timing: at(T0) });
      lossy.dropAnswers = 1;
      const result = await store.claim("lost-answer-1", DIGEST);
      expect(lossy.requests.PutItem).toBe(2); // the SDK retried the applied write
      expect(result.outcome).toBe("claimed");
      if (result.outcome !== "claimed") return;
      lossy.dropAnswers = 1; // the markSent's answer is lost too: its retry must not be "stale"
      await store.markSent(result.claim);
      expect(lossy.requests.UpdateItem).toBe(2);
      expect(await store.claim("lost-answer-1", DIGEST)).toEqual({ outcome: "already-sent" });
    } finally {
      client.destroy();
      await lossy.close();
    }
  });

  it("stops with one clear line naming the table when it is missing", async () => {
    const store = new DynamoDbSentEmailStore({
      client: direct,
      table: { tableName: "no-such-table" },
      timing: at(T0),
    });
    const error = await store.claim("x", DIGEST).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ tableName: "no-such-table", reason: "missing-table", exitCode: 1 });
    expect((error as Error).message).toMatch(/"no-such-table" does not exist.*npm run infra:up/);
    expect((error as Error).message).not.toContain("\n");
  });

  it("stops with one clear line when access is denied", async () => {
    const denying = await startDynamoDbProxy(dynamo.endpoint);
    denying.fault = { status: 400, type: "AccessDeniedException", message: "User is not authorized" };
    const client = createDynamoDbClient({ endpoint: denying.endpoint });
    try {
      const store = new DynamoDbSentEmailStore({ client, table: TABLE, timing: at(T0) });
      const error = await store.claim("x", DIGEST).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreUnavailableError);
      expect(error).toMatchObject({ tableName: TABLE.tableName, reason: "access-denied" });
      expect((error as Error).message).toMatch(/AccessDeniedException.*PutItem/);
      expect(denying.requests.PutItem).toBe(1); // not retried
    } finally {
      client.destroy();
      await denying.close();
    }
  });

  it.each([
    ["ProvisionedThroughputExceededException", 400],
    ["ThrottlingException", 400],
    ["RequestLimitExceeded", 400],
    ["InternalServerError", 500],
    ["ServiceUnavailable", 503],
  ])("reports %s as an environment fault of the store, after bounded retries", async (type, status) => {
    const failing = await startDynamoDbProxy(dynamo.endpoint);
    failing.fault = { status, type };
    const client = createDynamoDbClient({ endpoint: failing.endpoint }, { maxAttempts: 2 });
    try {
      const store = new DynamoDbSentEmailStore({ client, table: TABLE, timing: at(T0) });
      const error = await store.claim("throttled", DIGEST).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnvironmentFaultError);
      expect(error).toMatchObject({ component: "store", cause: { name: type } });
      expect(failing.requests.PutItem).toBe(2);
    } finally {
      client.destroy();
      await failing.close();
    }
  });

  it("reports throttling and 503 from the shared fault proxy as environment faults", async () => {
    const proxy = await startFaultProxy(dynamo.endpoint);
    proxy.failEvery = 1;
    const client = createDynamoDbClient({ endpoint: proxy.endpoint }, { maxAttempts: 2 });
    try {
      const store = new DynamoDbSentEmailStore({ client, table: TABLE, timing: at(T0) });
      await expect(store.claim("faulty", DIGEST)).rejects.toBeInstanceOf(EnvironmentFaultError);
      expect(proxy.faults).toEqual({ throttled: 1, unavailable: 1 });
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it("reports an unreachable server as an environment fault", async () => {
    const gone = await startLocalDynamoDb({ port: 0 });
    await gone.stop();
    const client = createDynamoDbClient({ endpoint: gone.endpoint }, { maxAttempts: 1 });
    try {
      const store = new DynamoDbSentEmailStore({ client, table: TABLE, timing: at(T0) });
      await expect(store.claim("x", DIGEST)).rejects.toMatchObject({
        name: "EnvironmentFaultError",
        component: "store",
      });
    } finally {
      client.destroy();
    }
  });

  it("reports a server that never answers as an environment fault, within the request timeout", async () => {
    const silent = createServer(() => {}); // accepts, reads, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const client = createDynamoDbClient({ endpoint }, { maxAttempts: 2, requestTimeoutMs: 300 });
    try {
      const store = new DynamoDbSentEmailStore({ client, table: TABLE, timing: at(T0) });
      const started = performance.now();
      await expect(store.claim("x", DIGEST)).rejects.toMatchObject({
        name: "EnvironmentFaultError",
        component: "store",
      });
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      client.destroy();
      silent.closeAllConnections();
      silent.close();
    }
  });

  it("keeps its data in the folder across a restart, and ensureTable is idempotent", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "dynalite-"));
    try {
      let server = await startLocalDynamoDb({ port: 0, dataDir });
      let client = createDynamoDbClient({ endpoint: server.endpoint });
      expect(await ensureTable(client)).toEqual({
        tableName: "user-registrations-sent-emails",
        created: true,
        ttl: "unsupported",
      });
      const store = new DynamoDbSentEmailStore({ client, timing: at(T0) });
      const claim = await store.claim("durable-1", DIGEST);
      if (claim.outcome !== "claimed") throw new Error("not claimed");
      await store.markSent(claim.claim);
      client.destroy();
      await server.stop();

      server = await startLocalDynamoDb({ port: 0, dataDir });
      client = createDynamoDbClient({ endpoint: server.endpoint });
      expect((await ensureTable(client)).created).toBe(false);
      const again = new DynamoDbSentEmailStore({ client, timing: at(T0) });
      expect(await again.claim("durable-1", DIGEST)).toEqual({ outcome: "already-sent" });
      client.destroy();
      await server.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
