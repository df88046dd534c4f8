/**
 * The whole job on the embedded default, in one process: start the local SQS, provision the
 * queue pair, produce registrations, consume them all, and count what happened.
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { buildRegistrationConsumer } from "../consumer/registrations.js";
import { DigestKey } from "../contract/digest.js";
import { toOutgoing } from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { generateRegistrations } from "../producer/input.js";
import { Producer } from "../producer/producer.js";
import { createSqsClient } from "../sqs/client.js";
import { queueCounts, total } from "../sqs/queue-counts.js";
import { countRequests, totalRequests } from "../sqs/request-counter.js";
import { startLocalStack } from "./stack.js";

export interface DemoOptions {
  readonly count: number;
  readonly outboxDir: string;
  readonly concurrency?: number;
  readonly logger?: Logger;
}

export interface DemoSummary {
  sent: number;
  sendFailed: number;
  processed: number;
  deadLettered: number;
  /** Second copies: sends after an ambiguous one, once the mail server was seen healthy (docs/email-delivery.md). */
  secondSends: number;
  /** Messages still on the main queue or the dead-letter queue at the end. */
  leftInQueue: number;
  leftInDeadLetterQueue: number;
  seconds: number;
  messagesPerSecond: number;
  requests: number;
  outbox: string;
}

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const logger = options.logger ?? silentLogger;
  const started = performance.now();
  await rm(options.outboxDir, { recursive: true, force: true });
  // One process, one run: an in-memory store and a key of its own.
  const digestKey = new DigestKey(randomBytes(32).toString("hex"));
  const stack = await startLocalStack({ port: 0 });
  const client = createSqsClient(stack.outputs);
  const counts = countRequests(client);
  let closeStore = async () => {};
  try {
    const { queueUrl, deadLetterQueueUrl } = stack.outputs;
    const registrations = (await generateRegistrations(options.count)).map((r) =>
      toOutgoing(r, () => new Date(), digestKey),
    );
    const sent = await new Producer({ client, queueUrl, logger }).send(registrations);
    const built = await buildRegistrationConsumer({
      client,
      queueUrl,
      deadLetterQueueUrl,
      store: { kind: "sqlite", path: ":memory:" },
      outboxDir: options.outboxDir,
      digestKey,
      logger,
      consumer: { concurrency: options.concurrency ?? 50, waitTimeSeconds: 1, stopWhenEmpty: true },
    });
    closeStore = () => built.close();
    const { consumer } = built;
    await consumer.start();
    const stats = await consumer.finished;
    const seconds = (performance.now() - started) / 1000;
    return {
      sent: sent.sent,
      sendFailed: sent.failed.length,
      processed: stats.processed,
      deadLettered: stats.deadLettered,
      secondSends: built.emails.secondSends ?? 0,
      leftInQueue: total(await queueCounts(client, queueUrl)),
      leftInDeadLetterQueue: total(await queueCounts(client, deadLetterQueueUrl)),
      seconds: Number(seconds.toFixed(3)),
      messagesPerSecond: Math.round(stats.processed / seconds),
      requests: totalRequests(counts),
      outbox: options.outboxDir,
    };
  } finally {
    client.destroy();
    await closeStore();
    await stack.stop();
  }
}
