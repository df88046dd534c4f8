/**
 * The embedded DynamoDB: dynalite (the DynamoDB protocol on LevelDB, no Java or Docker), in this
 * process, on 127.0.0.1 only, with durable data in a folder. And `ensureTable`, which creates
 * the sent-email table the same way on it and on AWS.
 *
 * dynalite 4 implements conditional writes but not TTL (`UpdateTimeToLive` answers
 * UnknownOperationException and items never expire), transactions, or
 * `ReturnValuesOnConditionCheckFailure`; the store is built so that none of these matter.
 */
import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { LOOPBACK_ADDRESS } from "../config/endpoint.js";
import {
  defaultSentEmailsTable,
  KEY_ATTRIBUTE,
  type SentEmailsTableSettings,
  TTL_ATTRIBUTE,
} from "../consumer/store/dynamodb.js";

export interface LocalDynamoDbOptions {
  /** TCP port; 0 picks a free one. */
  readonly port?: number;
  /** Folder for durable data (LevelDB). In memory when absent. */
  readonly dataDir?: string;
}

export interface LocalDynamoDb {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  stop(): Promise<void>;
}

/** Where `npm run local` keeps the table's data inside the state folder. */
export function dynamoDbDataDir(stateDir: string): string {
  return join(stateDir, "dynamodb-data");
}

export async function startLocalDynamoDb(options: LocalDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server: Server = dynalite({
    // Tables are ACTIVE at once; dynalite's default keeps them CREATING for 500 ms.
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.dataDir ? { path: options.dataDir } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Loopback only: the server takes any credentials.
    server.listen(options.port ?? 0, LOOPBACK_ADDRESS, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://${LOOPBACK_ADDRESS}:${port}`,
    port,
    region: "us-east-1",
    stop: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets of clients still open would hold close() back.
        server.closeIdleConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface EnsureTableResult {
  readonly tableName: string;
  readonly created: boolean;
  /** `unsupported` on dynalite, which has no TTL (the store's condition covers expiry). */
  readonly ttl: "enabled" | "unsupported";
}

/**
 * Creates the sent-email table when it is missing (key `id` string, on-demand billing) and turns
 * TTL on for `expiresAt` where the server supports it. Idempotent: an existing table with the
 * right key is left as it is; one with another key is an error that names it.
 */
export async function ensureTable(
  client: DynamoDBClient,
  settings: SentEmailsTableSettings = defaultSentEmailsTable,
  options: { readonly timeoutMs?: number } = {},
): Promise<EnsureTableResult> {
  const { tableName } = settings;
  let created = false;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: KEY_ATTRIBUTE, AttributeType: "S" }],
        KeySchema: [{ AttributeName: KEY_ATTRIBUTE, KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    created = true;
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitActive(client, tableName, options.timeoutMs ?? 30_000);
  return { tableName, created, ttl: await enableTtl(client, tableName) };
}

async function waitActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const key = Table?.KeySchema ?? [];
    const type = Table?.AttributeDefinitions?.find((a) => a.AttributeName === KEY_ATTRIBUTE)?.AttributeType;
    if (key.length !== 1 || key[0]?.AttributeName !== KEY_ATTRIBUTE || type !== "S") {
      throw new Error(
        `The table "${tableName}" exists with another key (${JSON.stringify(key)}); the sent-email store needs a string partition key "${KEY_ATTRIBUTE}" alone. Delete it or choose another table name.`,
      );
    }
    if (Table?.TableStatus === "ACTIVE") return;
    if (Date.now() > deadline)
      throw new Error(`The table "${tableName}" did not become ACTIVE in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function enableTtl(client: DynamoDBClient, tableName: string): Promise<EnsureTableResult["ttl"]> {
  const { TimeToLiveDescription } = await client.send(
    new DescribeTimeToLiveCommand({ TableName: tableName }),
  );
  const status = TimeToLiveDescription?.TimeToLiveStatus;
  if (
    (status === "ENABLED" || status === "ENABLING") &&
    TimeToLiveDescription?.AttributeName === TTL_ATTRIBUTE
  ) {
    return "enabled";
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
      }),
    );
    return "enabled";
  } catch (error) {
    // dynalite has no UpdateTimeToLive. No SDK class exists for an unknown operation.
    if ((error as { name?: string }).name === "UnknownOperationException") return "unsupported";
    throw error;
  }
}
