/**
 * One benchmark run of one variant, in its own process (so CPU and peak RSS are its own).
 * Prints one JSON line: messages, seconds, requests by operation, CPU seconds, peak RSS.
 */
import {
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQS,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { Consumer as SqsConsumer } from "sqs-consumer";
import { Producer as SqsProducer } from "sqs-producer";
import { Squiss } from "squiss-ts";
import { Consumer } from "../../src/consumer/consumer.js";
import { Producer } from "../../src/producer/producer.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { countRequests } from "../../src/sqs/request-counter.js";

export interface WorkerTask {
  readonly variant: string;
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly count: number;
  /** Consumers: "20ms" or "mixed" (every 10th message 200 ms) or "none". */
  readonly handler?: "20ms" | "mixed" | "none";
  /** Stop after this long and report the rate so far (slow baselines). */
  readonly maxSeconds: number;
  /** A scratch queue for the warm-up round trip. */
  readonly warmupQueueUrl: string;
}

export interface WorkerResult {
  readonly messages: number;
  readonly seconds: number;
  readonly requests: Record<string, number>;
  readonly cpuSeconds: number;
  readonly peakRssMb: number;
  readonly timeBoxed: boolean;
}

const task = JSON.parse(process.argv[2] ?? "{}") as WorkerTask;
const credentials = { accessKeyId: "bench", secretAccessKey: "bench" };
/** The peers get the client their users would write: the SDK's defaults, pointed at the emulator. */
const plainClient = () => new SQSClient({ endpoint: task.endpoint, region: "us-east-1", credentials });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function handlerDelay(body: string | undefined): number {
  if (task.handler === "none") return 0;
  const i = Number(JSON.parse(body ?? "{}").i ?? 0);
  return task.handler === "mixed" && i % 10 === 9 ? 200 : 20;
}
async function handle(body: string | undefined): Promise<void> {
  const ms = handlerDelay(body);
  if (ms > 0) await sleep(ms);
}

function bodies(count: number): string[] {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      nome: `Pessoa Número ${i}`,
      email: `pessoa${i}@example.com`,
      id: `reg_${i}`,
      registeredAt: new Date(0).toISOString(),
      i,
    }),
  );
}

/**
 * One round trip of every operation on a scratch queue before the clock starts, so that no
 * variant pays for loading and compiling the SDK's code inside its measurement.
 */
async function warmUp(client: SQSClient): Promise<void> {
  const QueueUrl = task.warmupQueueUrl;
  await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }));
  await client.send(new SendMessageCommand({ QueueUrl, MessageBody: "warm-up" }));
  await client.send(
    new SendMessageBatchCommand({ QueueUrl, Entries: [{ Id: "1", MessageBody: "warm-up" }] }),
  );
  const { Messages = [] } = await client.send(
    new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }),
  );
  const [first, ...rest] = Messages;
  if (first) await client.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: first.ReceiptHandle }));
  if (rest.length > 0) {
    await client.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: rest.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

/** Runs `body` until `done` resolves or the time box ends; returns how many it finished. */
async function measure(
  client: SQSClient,
  run: (progress: { count: number }, stop: Promise<void>) => Promise<() => Promise<void>>,
): Promise<WorkerResult> {
  await warmUp(client);
  const requests = countRequests(client);
  const progress = { count: 0 };
  let timeBoxed = false;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const timer = setTimeout(() => {
    timeBoxed = true;
    finish();
  }, task.maxSeconds * 1000);
  const watcher = setInterval(() => progress.count >= task.count && finish(), 1);
  const stop = await run(progress, done);
  await done;
  const seconds = (performance.now() - started) / 1000;
  const messages = progress.count;
  const used = process.cpuUsage(cpu);
  clearTimeout(timer);
  clearInterval(watcher);
  await stop();
  return {
    messages,
    seconds,
    requests: { ...requests },
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    timeBoxed,
  };
}

async function ours(concurrency: number): Promise<WorkerResult> {
  const client = createSqsClient({ endpoint: task.endpoint });
  const all = bodies(task.count).map((body) => JSON.parse(body));
  return measure(client, async (progress) => {
    void new Producer({ client, queueUrl: task.queueUrl, concurrency }).send(all, ({ sent }) => {
      progress.count = sent;
    });
    return async () => {};
  });
}

const variants: Record<string, () => Promise<WorkerResult>> = {
  async "producer:one-per-request"() {
    const client = plainClient();
    const all = bodies(task.count);
    return measure(client, async (progress, done) => {
      let stopped = false;
      void done.then(() => {
        stopped = true;
      });
      void (async () => {
        for (const MessageBody of all) {
          if (stopped) break;
          await client.send(new SendMessageCommand({ QueueUrl: task.queueUrl, MessageBody }));
          progress.count += 1;
        }
      })();
      return async () => {};
    });
  },
  async "producer:sqs-producer"() {
    const client = plainClient();
    const producer = SqsProducer.create({ queueUrl: task.queueUrl, sqs: client });
    const all = bodies(task.count).map((body, i) => ({ id: String(i), body }));
    return measure(client, async (progress) => {
      void producer.send(all).then((sent) => {
        progress.count += sent.length;
      });
      return async () => {};
    });
  },
  "producer:ours": () => ours(8),
  async "consumer:naive"() {
    // The original system's loop: receive one, handle it, delete it.
    const client = plainClient();
    return measure(client, async (progress, done) => {
      let stopped = false;
      void done.then(() => {
        stopped = true;
      });
      const loop = (async () => {
        while (!stopped) {
          const { Messages = [] } = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: task.queueUrl,
              MaxNumberOfMessages: 1,
              WaitTimeSeconds: 1,
            }),
          );
          for (const m of Messages) {
            await handle(m.Body);
            await client.send(
              new DeleteMessageCommand({ QueueUrl: task.queueUrl, ReceiptHandle: m.ReceiptHandle }),
            );
            progress.count += 1;
          }
        }
      })();
      return () => loop;
    });
  },
  async "consumer:sqs-consumer"() {
    const client = plainClient();
    return measure(client, async (progress) => {
      const consumer = SqsConsumer.create({
        queueUrl: task.queueUrl,
        sqs: client,
        batchSize: 10,
        waitTimeSeconds: 1,
        handleMessageBatch: async (messages) => {
          await Promise.all(messages.map((m) => handle(m.Body)));
          return messages;
        },
      });
      consumer.on("message_processed", () => {
        progress.count += 1;
      });
      consumer.on("error", () => undefined);
      consumer.start();
      return async () => {
        consumer.stop({ abort: true });
      };
    });
  },
  async "consumer:squiss-ts"() {
    const sqs = new SQS({ endpoint: task.endpoint, region: "us-east-1", credentials });
    return measure(sqs, async (progress) => {
      const squiss = new Squiss({
        SQS: sqs,
        queueUrl: task.queueUrl,
        bodyFormat: "plain",
        receiveWaitTimeSecs: 1,
      });
      squiss.on("message", (message) => {
        void handle(message.body as string).then(() => message.del());
      });
      squiss.on("deleted", () => {
        progress.count += 1;
      });
      squiss.on("error", () => undefined);
      await squiss.start();
      return async () => {
        await squiss.stop(false, 1000);
      };
    });
  },
  async "consumer:ours-idle"() {
    // An empty queue: what the pollers cost in steady state while there is nothing to do.
    const client = createSqsClient({ endpoint: task.endpoint });
    const counts = countRequests(client);
    const consumer = new Consumer({
      client,
      queueUrl: task.queueUrl,
      deadLetterQueueUrl: task.queueUrl,
      concurrency: 100,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 30,
      handler: async () => {},
    });
    await consumer.start();
    await sleep(5_000); // past the first round of polls
    const before = counts.ReceiveMessage ?? 0;
    const started = performance.now();
    await sleep(task.maxSeconds * 1000);
    const receives = (counts.ReceiveMessage ?? 0) - before;
    const seconds = (performance.now() - started) / 1000;
    await consumer.stop();
    return {
      messages: 0,
      seconds,
      requests: { ReceiveMessage: receives },
      cpuSeconds: 0,
      peakRssMb: 0,
      timeBoxed: true,
    };
  },
  async "consumer:ours"() {
    const client = createSqsClient({ endpoint: task.endpoint }, { maxSockets: 128 });
    return measure(client, async (progress) => {
      const consumer = new Consumer({
        client,
        queueUrl: task.queueUrl,
        deadLetterQueueUrl: task.queueUrl,
        concurrency: 100,
        waitTimeSeconds: 1,
        visibilityTimeoutSeconds: 30,
        handler: (m) => handle(m.Body),
      });
      consumer.on("processed", () => {
        progress.count += 1;
      });
      await consumer.start();
      return async () => {
        await consumer.stop();
      };
    });
  },
};

const variant = variants[task.variant];
if (!variant) throw new Error(`unknown variant ${task.variant}`);
const result = await variant();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
