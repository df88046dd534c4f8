/**
 * The local stack: the embedded SQS plus the queue pair, provisioned from the settings module,
 * with its outputs written where the producer and consumer look for them.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { bounceQueueSettings } from "../config/bounce-queue.js";
import { defaultQueueSettings, type QueueSettings } from "../config/queue-settings.js";
import { settings as sharedSettings } from "../config/settings.js";
import { createDynamoDbClient } from "../consumer/store/dynamodb-client.js";
import { createSqsClient } from "../sqs/client.js";
import type { StackOutputs } from "../stack/outputs.js";
import { ensureTable, type LocalDynamoDb, startLocalDynamoDb } from "./dynamodb.js";
import { type Emulator, startEmulator } from "./emulator.js";
import { type ProvisionResult, provisionQueues, toStackOutputs } from "./provision.js";

export interface LocalStackOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** Durable emulator state; in memory when absent. */
  readonly dataDir?: string;
  /** Where to write the stack outputs; not written when absent. */
  readonly outputsPath?: string;
  readonly settings?: QueueSettings;
  /**
   * Also start the DynamoDB-protocol server (dynalite) on 127.0.0.1 with the sent-email table,
   * and name both in the outputs: `true` in memory, or the folder of its durable data.
   */
  readonly dynamoDb?: true | { readonly dataDir: string };
  /** The table's name; default from the settings data. */
  readonly tableName?: string;
}

export interface LocalStack {
  readonly emulator: Emulator;
  readonly outputs: StackOutputs;
  readonly provisioned: ProvisionResult;
  readonly dynamoDb?: LocalDynamoDb;
  stop(): Promise<void>;
}

export function emulatorDataDir(stateDir: string): string {
  return join(stateDir, "sqs-data");
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const emulator = await startEmulator({
    port: options.port,
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  let dynamoDb: LocalDynamoDb | undefined;
  const stop = async () => {
    await dynamoDb?.stop();
    await emulator.stop();
  };
  try {
    const client = createSqsClient({ endpoint: emulator.endpoint, region: emulator.region });
    const queueSettings = options.settings ?? defaultQueueSettings;
    const provisioned = await provisionQueues(client, queueSettings);
    // The bounce pair, as the stacks with SES have it (no SNS here: tests and demos put SES
    // events on the bounce queue themselves, in SNS's envelope).
    const bounces = await provisionQueues(client, bounceQueueSettings(sharedSettings.email, queueSettings));
    client.destroy();
    let outputs = rebase(
      {
        ...toStackOutputs(provisioned, emulator.region, emulator.endpoint),
        bounceQueueUrl: bounces.queue.url,
      },
      emulator.endpoint,
    );
    if (options.dynamoDb) {
      dynamoDb = await startLocalDynamoDb(
        options.dynamoDb === true ? {} : { dataDir: options.dynamoDb.dataDir },
      );
      const tables = createDynamoDbClient({ endpoint: dynamoDb.endpoint, region: dynamoDb.region });
      try {
        const { tableName } = await ensureTable(tables, {
          tableName: options.tableName ?? sharedSettings.table.sentEmailsTableName,
        });
        outputs = { ...outputs, sentEmailsTableName: tableName, dynamoDbEndpoint: dynamoDb.endpoint };
      } finally {
        tables.destroy();
      }
    }
    if (options.outputsPath) await writeOutputs(options.outputsPath, outputs);
    return { emulator, outputs, provisioned, ...(dynamoDb ? { dynamoDb } : {}), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * fauxqs keeps the URL a queue was created with, port included; after a restart on another port
 * that URL would point nowhere. It finds queues by name, so the current endpoint serves them.
 */
function rebase(outputs: StackOutputs, endpoint: string): StackOutputs {
  const onEndpoint = (url: string) => `${endpoint}${new URL(url).pathname}`;
  return {
    ...outputs,
    queueUrl: onEndpoint(outputs.queueUrl),
    deadLetterQueueUrl: onEndpoint(outputs.deadLetterQueueUrl),
    ...(outputs.bounceQueueUrl ? { bounceQueueUrl: onEndpoint(outputs.bounceQueueUrl) } : {}),
  };
}

export async function writeOutputs(path: string, outputs: StackOutputs): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(outputs, null, 2)}\n`);
  await rename(temporary, path);
}
