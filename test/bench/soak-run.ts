/**
 * The soak group: builds the consumer (`npm run build`), starts it as a container would
 * (`node dist/src/cli/consume.js`, not under tsx), sends it SOAK_RATE registrations a second on
 * the bench's emulator for the given minutes, and reads its RSS and heap every 30 s from its
 * /metrics (prom-client's process and heap gauges).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DeleteQueueCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { projectRoot } from "../../src/config/paths.js";
import { defaultQueueSettings } from "../../src/config/queue-settings.js";
import { PROMETHEUS_METRICS } from "../../src/contract/metrics.js";
import { provisionQueues } from "../../src/local/provision.js";
import { Producer } from "../../src/producer/producer.js";
import { queueCounts } from "../../src/sqs/queue-counts.js";
import { endWithBench } from "./children.js";
import {
  paced,
  SOAK_BACKLOG_MAX,
  SOAK_RATE,
  SOAK_SAMPLE_SECONDS,
  type SoakRun,
  type SoakSample,
} from "./soak.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Sends per tick: the rate in tenths of a second, so no burst is larger than 150 messages. */
const TICK_MS = 100;
/** How often the sender reads the queue's backlog. */
const BACKLOG_CHECK_MS = 1_000;
const CONCURRENCY = 100;

function run(command: string, args: readonly string[]): Promise<void> {
  const child = spawn(command, args, { cwd: projectRoot, stdio: ["ignore", "inherit", "inherit"] });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`${command} ${args.join(" ")} exited ${code}`)),
    );
  });
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** The value of one Prometheus sample line (summed over its labels when `label` is given). */
function metric(text: string, name: string, label?: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name) || (label !== undefined && !line.includes(label))) continue;
    if (line[name.length] !== " " && line[name.length] !== "{") continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/**
 * The consumer image's command without its `node`: the soak runs what the container runs, with
 * the same Node flags. The last exec-form CMD at the start of a line (HEALTHCHECK's is indented).
 */
export function containerCommand(dockerfile: string): string[] {
  const line = [...dockerfile.matchAll(/^CMD (\[.*\])\s*$/gm)].at(-1)?.[1];
  const command: unknown = line === undefined ? undefined : JSON.parse(line);
  if (
    !Array.isArray(command) ||
    command[0] !== "node" ||
    !command.every((word) => typeof word === "string")
  ) {
    throw new Error('Dockerfile.consumer: expected a last CMD of the form ["node", …, "dist/…/consume.js"]');
  }
  return command.slice(1);
}

export async function soak(options: {
  readonly admin: SQSClient;
  readonly endpoint: string;
  readonly minutes: number;
}): Promise<SoakRun> {
  const { admin, minutes } = options;
  process.stderr.write("soak: building the consumer (npm run build)\n");
  await run(process.execPath, [
    join(projectRoot, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    "tsconfig.build.json",
  ]);
  const dir = await mkdtemp(join(tmpdir(), "bench-soak-"));
  // The deployed pair's settings (dead-letter queue included: the consumer refuses a queue without).
  const pair = await provisionQueues(admin, {
    ...defaultQueueSettings,
    queueName: "bench-soak",
    deadLetterQueueName: "bench-soak-dlq",
  });
  const queueUrl = pair.queue.url;
  const port = await freePort();
  const image = containerCommand(await readFile(join(projectRoot, "Dockerfile.consumer"), "utf8"));
  const args = [
    ...image,
    "--queue-url",
    queueUrl,
    "--state-dir",
    dir,
    "--store",
    "sqlite",
    "--mailer",
    "outbox",
    "--concurrency",
    String(CONCURRENCY),
    "--health-port",
    String(port),
    "--log-level",
    "warn",
  ];
  const consumer: ChildProcess = spawn(process.execPath, args, {
    cwd: projectRoot,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const exited = once(consumer, "exit");
  const detach = endWithBench(consumer, { cleanUp: () => rm(dir, { recursive: true, force: true }) });
  const metrics = async () => {
    for (;;) {
      try {
        return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      } catch (error) {
        if (consumer.exitCode !== null)
          throw new Error(`the consumer exited ${consumer.exitCode}`, { cause: error });
        await sleep(100);
      }
    }
  };
  const samples: SoakSample[] = [];
  let stopped = false;
  /** The sender and the backlog reader: both ended before the queues go. */
  const running: Promise<unknown>[] = [];
  try {
    await metrics(); // up and receiving
    const started = performance.now();
    const progress = { sent: 0 };
    const totals = { heldMs: 0 };
    let waiting = 0;
    const readBacklog = (async () => {
      while (!stopped) {
        // A failed read keeps the last count: the next one comes a second later.
        waiting = await queueCounts(admin, queueUrl).then(
          (counts) => counts.visible,
          () => waiting,
        );
        await sleep(BACKLOG_CHECK_MS);
      }
    })();
    const pace = {
      rate: SOAK_RATE,
      tickMs: TICK_MS,
      stopped: () => stopped,
      held: () => waiting > SOAK_BACKLOG_MAX,
      // Monotonic, as the samples' times: a step of the wall clock neither stalls nor bursts it.
      clock: { now: () => performance.now(), sleep },
    };
    const producer = new Producer({ client: admin, queueUrl }).send(paced(pace, totals), ({ sent }) => {
      progress.sent = sent;
    });
    running.push(producer, readBacklog);
    for (let n = 1; n * SOAK_SAMPLE_SECONDS <= minutes * 60; n++) {
      await sleep(started + n * SOAK_SAMPLE_SECONDS * 1000 - performance.now());
      const text = await metrics();
      const sample: SoakSample = {
        seconds: (performance.now() - started) / 1000,
        rssMb: metric(text, "process_resident_memory_bytes") / 2 ** 20,
        heapUsedMb: metric(text, "nodejs_heap_size_used_bytes") / 2 ** 20,
        processed: metric(text, PROMETHEUS_METRICS.messages, 'event="processed"'),
        sent: progress.sent,
        heldSeconds: totals.heldMs / 1000,
      };
      samples.push(sample);
      process.stderr.write(
        `soak ${sample.seconds.toFixed(0)} s: RSS ${sample.rssMb.toFixed(0)} MB, heap ${sample.heapUsedMb.toFixed(0)} MB, sent ${sample.sent}, processed ${sample.processed}, sender held ${sample.heldSeconds.toFixed(0)} s\n`,
      );
    }
    stopped = true;
    await Promise.all(running);
  } finally {
    stopped = true;
    // A failure above (the consumer gone) must not leave a send to reject on a deleted queue.
    await Promise.allSettled(running);
    consumer.kill("SIGTERM");
    try {
      await exited;
    } finally {
      detach();
    }
    for (const { url } of [pair.queue, pair.deadLetterQueue]) {
      await admin.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    }
    await rm(dir, { recursive: true, force: true });
  }
  return {
    minutes,
    samples,
    consumer: `node ${image.join(" ")} (Dockerfile.consumer's CMD) --store sqlite --mailer outbox --concurrency ${CONCURRENCY}`,
  };
}
