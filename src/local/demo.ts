/**
 * The whole job on the embedded default, in one process: start the local SQS, provision the
 * queue pair, produce registrations, consume them all, and count what happened. Two runtimes
 * consume: the long-running consumer, or the Lambda handler behind the local event source mapping
 * (with the local DynamoDB, the function's store); the summary is the same.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../config/limits.js";
import { settings } from "../config/settings.js";
import { journalIds, OutboxMailer } from "../consumer/mail/outbox.js";
import { buildRegistrationConsumer, openSentEmailStore } from "../consumer/registrations.js";
import { DigestKey } from "../contract/digest.js";
import { toOutgoing } from "../contract/registration.js";
import { startLambdaRuntime } from "../lambda/runtime.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { generateRegistrations } from "../producer/input.js";
import { Producer } from "../producer/producer.js";
import { createSqsClient } from "../sqs/client.js";
import { queueCounts, total } from "../sqs/queue-counts.js";
import { countRequests, totalRequests } from "../sqs/request-counter.js";
import { EventSourceMapping } from "./event-source-mapping.js";
import { type LocalStack, startLocalStack } from "./stack.js";

/** What consumes in the demo: the long-running consumer, or the Lambda handler. */
export const demoRuntimes = ["consumer", "lambda"] as const;
export type DemoRuntime = (typeof demoRuntimes)[number];

export interface DemoOptions {
  readonly count: number;
  /** Default `consumer`. */
  readonly runtime?: DemoRuntime;
  readonly outboxDir: string;
  readonly concurrency?: number;
  readonly logger?: Logger;
}

export interface DemoSummary {
  runtime: DemoRuntime;
  sent: number;
  sendFailed: number;
  processed: number;
  deadLettered: number;
  /** Second copies: sends after an ambiguous one, once the mail server was seen healthy (docs/email-delivery.md). */
  secondSends: number;
  /** Emails written twice for one registration, from the outbox journal. */
  duplicates: number;
  /** Registrations with no email and in neither queue, counted from the outbox and the queues. */
  lost: number;
  /** Messages still on the main queue or the dead-letter queue at the end. */
  leftInQueue: number;
  leftInDeadLetterQueue: number;
  seconds: number;
  messagesPerSecond: number;
  requests: number;
  outbox: string;
}

/** What one runtime did with the queue: how many it processed, dead-lettered and sent twice. */
interface Consumed {
  readonly processed: number;
  readonly deadLettered: number;
  readonly secondSends: number;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const logger = options.logger ?? silentLogger;
  const runtime = options.runtime ?? "consumer";
  const started = performance.now();
  await rm(options.outboxDir, { recursive: true, force: true });
  // One process, one run: a store of its own and a key of its own.
  const digestKey = new DigestKey(randomBytes(32).toString("hex"));
  // The function records in DynamoDB only: the Lambda run gets the local one.
  const stack = await startLocalStack({
    port: 0,
    ...(runtime === "lambda" ? { dynamoDb: true as const } : {}),
  });
  const client = createSqsClient(stack.outputs);
  const counts = countRequests(client);
  try {
    const { queueUrl, deadLetterQueueUrl } = stack.outputs;
    const registrations = (await generateRegistrations(options.count)).map((r) =>
      toOutgoing(r, () => new Date(), digestKey),
    );
    const sent = await new Producer({ client, queueUrl, logger }).send(registrations);
    const run = { ...options, logger, digestKey, stack, client };
    const consumed = runtime === "lambda" ? await consumeWithLambda(run) : await consumeWithConsumer(run);
    const seconds = (performance.now() - started) / 1000;
    const emailed = await journalIds(options.outboxDir, { written: true });
    const unique = new Set(emailed);
    const leftInQueue = total(await queueCounts(client, queueUrl));
    const leftInDeadLetterQueue = total(await queueCounts(client, deadLetterQueueUrl));
    return {
      runtime,
      sent: sent.sent,
      sendFailed: sent.failed.length,
      processed: consumed.processed,
      deadLettered: consumed.deadLettered,
      secondSends: consumed.secondSends,
      duplicates: emailed.length - unique.size,
      lost: Math.max(0, sent.sent - unique.size - leftInQueue - leftInDeadLetterQueue),
      leftInQueue,
      leftInDeadLetterQueue,
      seconds: Number(seconds.toFixed(3)),
      messagesPerSecond: Math.round(consumed.processed / seconds),
      requests: totalRequests(counts),
      outbox: options.outboxDir,
    };
  } finally {
    client.destroy();
    await stack.stop();
  }
}

interface DemoRun extends DemoOptions {
  readonly logger: Logger;
  readonly digestKey: DigestKey;
  readonly stack: LocalStack;
  /** The demo's client: its requests are the summary's. */
  readonly client: SQSClient;
}

async function consumeWithConsumer(run: DemoRun): Promise<Consumed> {
  const { queueUrl, deadLetterQueueUrl } = run.stack.outputs;
  const built = await buildRegistrationConsumer({
    client: run.client,
    queueUrl,
    deadLetterQueueUrl,
    store: { kind: "sqlite", path: ":memory:" },
    outboxDir: run.outboxDir,
    digestKey: run.digestKey,
    logger: run.logger,
    consumer: { concurrency: run.concurrency ?? 50, waitTimeSeconds: 1, stopWhenEmpty: true },
  });
  try {
    await built.consumer.start();
    const stats = await built.consumer.finished;
    return {
      processed: stats.processed,
      deadLettered: stats.deadLettered,
      secondSends: built.emails.secondSends ?? 0,
    };
  } finally {
    await built.close();
  }
}

/**
 * The handler behind the local event source mapping: batches of ten, as many invocations at once
 * as fill the demo's concurrency (ten records each), one warm container per invocation lane.
 */
async function consumeWithLambda(run: DemoRun): Promise<Consumed> {
  const { queueUrl, sentEmailsTableName, dynamoDbEndpoint } = run.stack.outputs;
  const sendTimeoutMs = MAIL_SEND_TIMEOUT_DEFAULT_MS;
  const store = await openSentEmailStore(
    { kind: "dynamodb", tableName: sentEmailsTableName ?? "", endpoint: dynamoDbEndpoint },
    sendTimeoutMs,
  );
  const mailer = new OutboxMailer({ outboxDir: run.outboxDir, logger: run.logger });
  const containers: Awaited<ReturnType<typeof startLambdaRuntime>>[] = [];
  const mapping = new EventSourceMapping({
    client: run.client,
    queueUrl,
    batchSize: 10,
    maximumConcurrency: Math.max(2, Math.ceil((run.concurrency ?? 50) / 10)),
    // The stack's function timeout: the settings check it against the queue's visibility timeout
    // and the claim lease, as the deployed function's is.
    functionTimeoutMs: settings.lambda.functionTimeoutSeconds * 1000,
    waitTimeSeconds: 1,
    stopWhenEmpty: true,
    logger: run.logger,
    openContainer: async () => {
      const container = await startLambdaRuntime({
        client: run.client,
        queueUrl,
        store,
        mailer,
        digestKey: run.digestKey,
        sendTimeoutMs,
        logger: run.logger,
      });
      containers.push(container);
      return container;
    },
  });
  try {
    await mapping.start();
    await mapping.finished;
  } finally {
    await store.close();
  }
  const sum = (pick: (c: (typeof containers)[number]) => number) =>
    containers.reduce((n, c) => n + pick(c), 0);
  return {
    processed: mapping.stats.deleted - sum((c) => c.stats.deadLettered),
    deadLettered: sum((c) => c.stats.deadLettered),
    secondSends: sum((c) => c.emails.secondSends ?? 0),
  };
}
