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
import { consumerSocketPool } from "../../src/consumer/runtime/options.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { Producer } from "../../src/producer/producer.js";
import { createSqsClient, DEFAULT_MAX_SOCKETS, sqsClientConfig } from "../../src/sqs/client.js";
import { countRequests } from "../../src/sqs/request-counter.js";

export interface WorkerTask {
  readonly variant: string;
  readonly endpoint: string;
  readonly queueUrl: string;
  readonly count: number;
  /** Consumers: "20ms", "5ms", "mixed" (every 10th message 200 ms) or "none". */
  readonly handler?: "20ms" | "5ms" | "mixed" | "none";
  /** Ours: handlers at once (default 100). */
  readonly concurrency?: number;
  /** Ours: the batching window (ms). */
  readonly batchingWindowMs?: number;
  /**
   * A trickle instead of a preloaded backlog: the worker produces `rate` messages a second, one
   * SendMessage each on a client of its own (not counted), for `seconds`, and the consumer
   * long-polls 20 s. The result then carries the latency from send to handler start.
   */
  readonly trickle?: { readonly rate: number; readonly seconds: number };
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
  /** Trickle runs: sends that failed (the emulator overloaded), not counted against anyone. */
  readonly lostSends?: number;
  /** Trickle runs: send → handler start, ms. */
  readonly latencyMs?: { readonly p50: number; readonly p99: number };
}

const task = JSON.parse(process.argv[2] ?? "{}") as WorkerTask;
/**
 * Every variant, ours and the peers, gets the same client settings: createSqsClient's (keep-alive
 * agent, MD5 off on loopback, 3 SDK attempts), and the peers the largest socket pool any of ours
 * gets (the producer's default, the consumer's at concurrency 1000), so the comparison is of the
 * consumers and not of their HTTP settings.
 */
const PEER_SOCKETS = Math.max(DEFAULT_MAX_SOCKETS, consumerSocketPool(1_000));
const clientConfig = () => sqsClientConfig({ endpoint: task.endpoint }, { maxSockets: PEER_SOCKETS });
const plainClient = () => new SQSClient(clientConfig());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const latencies: number[] = [];

function handlerDelay(body: string | undefined): number {
  if (task.handler === "none" || task.handler === undefined) return 0;
  if (task.handler === "5ms") return 5;
  const i = Number(JSON.parse(body ?? "{}").i ?? 0);
  return task.handler === "mixed" && i % 10 === 9 ? 200 : 20;
}
async function handle(body: string | undefined): Promise<void> {
  if (task.trickle) latencies.push(Date.now() - Number(JSON.parse(body ?? "{}").sentAt));
  const ms = handlerDelay(body);
  if (ms > 0) await sleep(ms);
}

/** Long-poll wait of the consumers: 1 s on a backlog (as before), 20 s (the default) at a trickle. */
const waitSeconds = () => (task.trickle ? 20 : 1);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};

/**
 * A trickle: sends one message every 1/rate s for `seconds` on its own client, waits (up to 10 s)
 * until the consumer has finished them all, then reports the consumer client's requests.
 */
async function trickle(
  client: SQSClient,
  run: (progress: { count: number }) => Promise<() => Promise<void>>,
): Promise<WorkerResult> {
  const { rate, seconds } = task.trickle ?? { rate: 1, seconds: 1 };
  await warmUp(client);
  const sender = createSqsClient({ endpoint: task.endpoint });
  const requests = countRequests(client);
  const progress = { count: 0 };
  const cpu = process.cpuUsage();
  const stop = await run(progress);
  await sleep(1_000); // the consumer's first receive is under way
  const before = { ...requests };
  const started = performance.now();
  const total = Math.round(rate * seconds);
  let lost = 0;
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    // Not awaited (a trickle does not wait for the previous send), but never unhandled.
    sender
      .send(
        new SendMessageCommand({
          QueueUrl: task.queueUrl,
          MessageBody: JSON.stringify({ i, sentAt: Date.now() }),
        }),
      )
      .catch(() => {
        lost += 1;
      });
  }
  const deadline = performance.now() + 10_000;
  while (progress.count < total - lost && performance.now() < deadline) await sleep(20);
  const elapsed = (performance.now() - started) / 1000;
  const counted: Record<string, number> = {};
  for (const [name, n] of Object.entries(requests)) counted[name] = n - (before[name] ?? 0);
  const used = process.cpuUsage(cpu);
  await stop();
  sender.destroy();
  return {
    messages: progress.count,
    seconds: elapsed,
    requests: counted,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    timeBoxed: progress.count < total,
    ...(lost > 0 ? { lostSends: lost } : {}),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
  };
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
  async "consumer:bare-sdk"() {
    // The floor: 8 loops of receive 10 → handle → one DeleteMessageBatch, nothing else.
    const client = plainClient();
    return drive(client, async (progress) => {
      let stopped = false;
      const loops = Array.from({ length: 8 }, async () => {
        while (!stopped) {
          const { Messages = [] } = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: task.queueUrl,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: waitSeconds(),
            }),
          );
          await Promise.all(Messages.map((m) => handle(m.Body)));
          if (Messages.length > 0) {
            await client.send(
              new DeleteMessageBatchCommand({
                QueueUrl: task.queueUrl,
                Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
              }),
            );
          }
          progress.count += Messages.length;
        }
      });
      return async () => {
        stopped = true;
        await Promise.race([Promise.all(loops), sleep(1_500)]);
      };
    });
  },
  async "consumer:naive"() {
    // The original system's loop: receive one, handle it, delete it.
    const client = plainClient();
    return drive(client, async (progress) => {
      let stopped = false;
      const loop = (async () => {
        while (!stopped) {
          const { Messages = [] } = await client.send(
            new ReceiveMessageCommand({
              QueueUrl: task.queueUrl,
              MaxNumberOfMessages: 1,
              WaitTimeSeconds: waitSeconds(),
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
      return async () => {
        stopped = true;
        await Promise.race([loop, sleep(1_500)]);
      };
    });
  },
  async "consumer:sqs-consumer"() {
    const client = plainClient();
    return drive(client, async (progress) => {
      const consumer = SqsConsumer.create({
        queueUrl: task.queueUrl,
        sqs: client,
        batchSize: 10,
        waitTimeSeconds: waitSeconds(),
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
    const sqs = new SQS(clientConfig());
    return drive(sqs, async (progress) => {
      const squiss = new Squiss({
        SQS: sqs,
        queueUrl: task.queueUrl,
        bodyFormat: "plain",
        receiveWaitTimeSecs: waitSeconds(),
        ...(task.concurrency ? { maxInFlight: task.concurrency } : {}),
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
    const concurrency = task.concurrency ?? 100;
    const client = createSqsClient(
      { endpoint: task.endpoint },
      { maxSockets: consumerSocketPool(concurrency) },
    );
    return drive(client, async (progress) => {
      const consumer = new Consumer({
        client,
        queueUrl: task.queueUrl,
        deadLetterQueueUrl: task.queueUrl,
        concurrency,
        waitTimeSeconds: waitSeconds(),
        visibilityTimeoutSeconds: 30,
        ...(task.batchingWindowMs ? { batchingWindowMs: task.batchingWindowMs } : {}),
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

/** A consumer variant on a preloaded backlog (measure) or on a trickle. */
function drive(
  client: SQSClient,
  run: (progress: { count: number }) => Promise<() => Promise<void>>,
): Promise<WorkerResult> {
  return task.trickle ? trickle(client, run) : measure(client, (progress) => run(progress));
}

const variant = variants[task.variant];
if (!variant) throw new Error(`unknown variant ${task.variant}`);
const result = await variant();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
