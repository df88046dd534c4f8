/**
 * `npm run bench`: producer and consumer throughput and cost per message against the embedded
 * SQS (in its own process), ours against the libraries people use, all in one run on this
 * machine, medians of several runs, printed as ratios and written as JSON. Not a test: the
 * machine is shared and noisy, so only ratios within one run mean anything.
 */
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { CreateQueueCommand, DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { runCli } from "../../src/cli/shared.js";
import { Producer } from "../../src/producer/producer.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { type BenchFlags, groupWanted, parseBenchFlags, SOAK } from "./flags.js";
import { benchReport } from "./report.js";
import { soak } from "./soak-run.js";
import type { WorkerResult, WorkerTask } from "./worker.js";

let parsed: BenchFlags | undefined;
// Usage errors as for every command: one line, exit 2 (and --help exits 0).
await runCli(async () => {
  parsed = parseBenchFlags(process.argv.slice(2));
  return 0;
});
if (parsed === undefined) process.exit();
const options = parsed;
const wanted = (group: string) => groupWanted(options, group);

const tsx = ["--import", "tsx"];
const here = import.meta.dirname;

function startEmulator(): Promise<{ endpoint: string; stop(): void }> {
  const child = spawn(process.execPath, [...tsx, join(here, "emulator.ts")], {
    // stdin stays open for the emulator's life: it ends when this process does, however it ends.
    stdio: ["pipe", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    createInterface({ input: child.stdout }).once("line", (line) => {
      resolve({ endpoint: JSON.parse(line).endpoint, stop: () => child.kill("SIGTERM") });
    });
  });
}

function runWorker(task: WorkerTask): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...tsx, join(here, "worker.ts"), JSON.stringify(task)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1) ?? "{}"))
        : reject(new Error(`${task.variant} exited ${code}`)),
    );
  });
}

interface Row {
  readonly group: string;
  readonly variant: string;
  readonly handler?: WorkerTask["handler"];
  readonly maxSeconds: number;
  readonly label: string;
  readonly concurrency?: number;
  readonly batchingWindowMs?: number;
  /** A trickle of this many messages a second (no preload). */
  readonly rate?: number;
}

const allRows: Row[] = [
  {
    group: "producer",
    variant: "producer:one-per-request",
    maxSeconds: 20,
    label: "one SendMessage at a time",
  },
  { group: "producer", variant: "producer:sqs-producer", maxSeconds: 60, label: "sqs-producer 8" },
  { group: "producer", variant: "producer:ours", maxSeconds: 60, label: "ours (batch 10, 8 in flight)" },
  {
    group: "drain",
    variant: "consumer:ours",
    handler: "none",
    maxSeconds: 60,
    label: "ours, no handler (drain ceiling)",
  },
  {
    group: "drain",
    variant: "consumer:bare-sdk",
    handler: "none",
    maxSeconds: 60,
    label: "bare SDK: 8 loops, receive 10 / delete batch",
  },
  {
    group: "c1000",
    variant: "consumer:ours",
    handler: "5ms",
    concurrency: 1000,
    maxSeconds: 60,
    label: "ours, concurrency 1000, 5 ms handler",
  },
  {
    group: "c1000",
    variant: "consumer:squiss-ts",
    handler: "5ms",
    concurrency: 1000,
    maxSeconds: 60,
    label: "squiss-ts, maxInFlight 1000, 5 ms handler",
  },
  ...(["20ms", "mixed"] as const).flatMap((handler): Row[] => [
    {
      group: handler,
      variant: "consumer:naive",
      handler,
      maxSeconds: 10,
      label: "naive loop: receive 1, delete 1",
    },
    {
      group: handler,
      variant: "consumer:sqs-consumer",
      handler,
      maxSeconds: 20,
      label: "sqs-consumer 15, batch 10",
    },
    {
      group: handler,
      variant: "consumer:squiss-ts",
      handler,
      maxSeconds: 60,
      label: "squiss-ts 5.6, defaults",
    },
    { group: handler, variant: "consumer:ours", handler, maxSeconds: 60, label: "ours, concurrency 100" },
  ]),
  ...[20, 200].flatMap((rate): Row[] => {
    const group = `trickle-${rate}`;
    const common = { group, rate, handler: "none" as const, maxSeconds: 0 };
    return [
      { ...common, variant: "consumer:ours", label: "ours, defaults" },
      { ...common, variant: "consumer:ours", batchingWindowMs: 1_000, label: "ours, --batching-window 1000" },
      { ...common, variant: "consumer:squiss-ts", label: "squiss-ts 5.6, defaults" },
      { ...common, variant: "consumer:sqs-consumer", label: "sqs-consumer 15, batch 10" },
      { ...common, variant: "consumer:naive", label: "naive loop: receive 1, delete 1" },
    ];
  }),
];
const rows = allRows.filter((row) => wanted(row.group));

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

const emulator = await startEmulator();
const admin = createSqsClient({ endpoint: emulator.endpoint });
const results = new Map<Row, WorkerResult[]>();
const { QueueUrl: warmupQueueUrl = "" } = await admin.send(
  new CreateQueueCommand({ QueueName: "bench-warmup" }),
);
let queueNumber = 0;

async function freshQueue(preload: number): Promise<string> {
  const { QueueUrl = "" } = await admin.send(
    new CreateQueueCommand({ QueueName: `bench-${queueNumber++}`, Attributes: { VisibilityTimeout: "30" } }),
  );
  if (preload > 0) {
    const registrations = Array.from({ length: preload }, (_, i) => ({
      nome: `Pessoa Número ${i}`,
      email: `pessoa${i}@example.com`,
      id: `reg_${i}`,
      registeredAt: new Date(0).toISOString(),
      i,
    }));
    const report = await new Producer({ client: admin, queueUrl: QueueUrl }).send(registrations);
    if (report.sent !== preload) throw new Error(`preload sent ${report.sent} of ${preload}`);
  }
  return QueueUrl;
}

try {
  for (let run = 1; run <= options.runs; run++) {
    for (const row of rows) {
      const consumer = row.variant.startsWith("consumer:");
      const queueUrl = await freshQueue(consumer && row.rate === undefined ? options.count : 0);
      const result = await runWorker({
        variant: row.variant,
        endpoint: emulator.endpoint,
        queueUrl,
        count: options.count,
        ...(row.handler ? { handler: row.handler } : {}),
        ...(row.concurrency ? { concurrency: row.concurrency } : {}),
        ...(row.batchingWindowMs ? { batchingWindowMs: row.batchingWindowMs } : {}),
        ...(row.rate ? { trickle: { rate: row.rate, seconds: options.trickleSeconds } } : {}),
        maxSeconds: row.maxSeconds,
        warmupQueueUrl,
      }).catch((error: unknown) => {
        // One variant failing (a peer crashing on a timeout) must not lose the other rows.
        process.stderr.write(
          `run ${run}/${options.runs} ${row.group} ${row.label}: FAILED (${String(error)})\n`,
        );
        return undefined;
      });
      if (!result) continue;
      results.set(row, [...(results.get(row) ?? []), result]);
      process.stderr.write(
        `run ${run}/${options.runs} ${row.group.padEnd(8)} ${row.label.padEnd(34)} ${Math.round(result.messages / result.seconds)} msg/s\n`,
      );
      await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    }
  }
  const idle = wanted("idle")
    ? await runWorker({
        variant: "consumer:ours-idle",
        endpoint: emulator.endpoint,
        queueUrl: await freshQueue(0),
        count: Number.MAX_SAFE_INTEGER,
        maxSeconds: options.idleSeconds,
        warmupQueueUrl,
      })
    : undefined;

  const soakRun = wanted(SOAK)
    ? await soak({ admin, endpoint: emulator.endpoint, minutes: options.soakMinutes })
    : undefined;

  // Only what ran: a row whose every run failed (said on stderr above) has no medians.
  const summary = rows.flatMap((row) => {
    const runs = results.get(row) ?? [];
    if (runs.length === 0) return [];
    const rate = median(runs.map((r) => r.messages / r.seconds));
    const requestsPerMessage = median(
      runs.map((r) => Object.values(r.requests).reduce((a, b) => a + b, 0) / Math.max(1, r.messages)),
    );
    const receiveDeletePerMessage = median(
      runs.map(
        (r) =>
          ((r.requests.ReceiveMessage ?? 0) +
            (r.requests.DeleteMessage ?? 0) +
            (r.requests.DeleteMessageBatch ?? 0)) /
          Math.max(1, r.messages),
      ),
    );
    return [
      {
        group: row.group,
        label: row.label,
        variant: row.variant,
        messagesPerSecond: Math.round(rate),
        requestsPerMessage: Number(requestsPerMessage.toFixed(3)),
        receiveDeletePerMessage: Number(receiveDeletePerMessage.toFixed(3)),
        cpuSecondsPer1000: Number(
          median(runs.map((r) => (r.cpuSeconds / Math.max(1, r.messages)) * 1000)).toFixed(3),
        ),
        peakRssMb: Math.round(median(runs.map((r) => r.peakRssMb))),
        timeBoxed: runs.some((r) => r.timeBoxed),
        ...(row.rate
          ? {
              p50Ms: Math.round(median(runs.map((r) => r.latencyMs?.p50 ?? Number.NaN))),
              p99Ms: Math.round(median(runs.map((r) => r.latencyMs?.p99 ?? Number.NaN))),
            }
          : {}),
      },
    ];
  });
  const report = benchReport({
    summary,
    idle: idle ? { receives: idle.requests.ReceiveMessage ?? 0, seconds: idle.seconds } : undefined,
    count: options.count,
    runs: options.runs,
    trickleSeconds: options.trickleSeconds,
    soak: soakRun,
    date: new Date().toISOString(),
  });
  const { lines, ratios, targets, bound, mixedBound, idleReceivesPerMinute } = report;
  process.stdout.write(`${lines.join("\n")}\n`);
  await mkdir(join(options.out, ".."), { recursive: true });
  await writeFile(
    options.out,
    `${JSON.stringify({ options, summary, bound, mixedBound, idle: idle ? { ...idle, receivesPerMinute: idleReceivesPerMinute } : null, soak: soakRun ?? null, ratios, targets }, null, 2)}\n`,
  );
  process.stdout.write(`\nwritten to ${options.out}\n`);
} finally {
  admin.destroy();
  emulator.stop();
}
