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
import { Command } from "commander";
import { defaultStateDir } from "../../src/config/paths.js";
import { Producer } from "../../src/producer/producer.js";
import { createSqsClient } from "../../src/sqs/client.js";
import type { WorkerResult, WorkerTask } from "./worker.js";

const program = new Command("bench")
  .option("--count <n>", "messages per run", (v) => Number.parseInt(v, 10), 5000)
  .option("--runs <n>", "runs per variant (medians)", (v) => Number.parseInt(v, 10), 3)
  .option("--idle-seconds <n>", "how long to watch an idle consumer", (v) => Number.parseInt(v, 10), 60)
  .option("--trickle-seconds <n>", "how long each trickle row produces", (v) => Number.parseInt(v, 10), 30)
  .option(
    "--groups <list>",
    "only these groups (comma-separated: producer,drain,20ms,mixed,c1000,trickle-20,trickle-200,idle)",
  )
  .option("--out <file>", "where to write the JSON results", join(defaultStateDir, "bench", "results.json"));
program.parse();
const options = program.opts<{
  count: number;
  runs: number;
  idleSeconds: number;
  trickleSeconds: number;
  groups?: string;
  out: string;
}>();
const only = options.groups ? new Set(options.groups.split(",")) : undefined;
const wanted = (group: string) => only === undefined || only.has(group);

const tsx = ["--import", "tsx"];
const here = import.meta.dirname;

function startEmulator(): Promise<{ endpoint: string; stop(): void }> {
  const child = spawn(process.execPath, [...tsx, join(here, "emulator.ts")], {
    stdio: ["ignore", "pipe", "inherit"],
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

  const summary = rows.map((row) => {
    const runs = results.get(row) ?? [];
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
    return {
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
    };
  });
  const find = (group: string, variant: string, label?: string) =>
    summary.find(
      (s) => s.group === group && s.variant === variant && (label === undefined || s.label === label),
    );
  const rate = (group: string, variant: string) => find(group, variant)?.messagesPerSecond ?? Number.NaN;
  const idleReceivesPerMinute = idle ? (idle.requests.ReceiveMessage ?? 0) * (60 / idle.seconds) : Number.NaN;
  const trickle = (rate: number, label: string, variant = "consumer:ours") =>
    find(`trickle-${rate}`, variant, label);
  const oursTrickle = trickle(20, "ours, defaults");
  const windowTrickle = trickle(20, "ours, --batching-window 1000");
  const squissTrickle = trickle(20, "squiss-ts 5.6, defaults", "consumer:squiss-ts");
  const drainCeiling = rate("drain", "consumer:ours");
  const bound = Math.min(100 / 0.02, drainCeiling);
  // Mixed handler: 9 of 10 messages take 20 ms, 1 takes 200 ms, so 38 ms on average.
  const mixedBound = Math.min(100 / 0.038, drainCeiling);
  const ratios = {
    "consumer 20ms: ours / bound": rate("20ms", "consumer:ours") / bound,
    "consumer 20ms: ours / squiss-ts": rate("20ms", "consumer:ours") / rate("20ms", "consumer:squiss-ts"),
    "consumer 20ms: ours / sqs-consumer":
      rate("20ms", "consumer:ours") / rate("20ms", "consumer:sqs-consumer"),
    "consumer 20ms: ours / naive": rate("20ms", "consumer:ours") / rate("20ms", "consumer:naive"),
    "consumer mixed: ours / bound": rate("mixed", "consumer:ours") / mixedBound,
    "consumer mixed: squiss-ts / bound": rate("mixed", "consumer:squiss-ts") / mixedBound,
    "consumer mixed: ours / squiss-ts": rate("mixed", "consumer:ours") / rate("mixed", "consumer:squiss-ts"),
    "consumer mixed: ours / sqs-consumer":
      rate("mixed", "consumer:ours") / rate("mixed", "consumer:sqs-consumer"),
    "producer: ours / one-per-request":
      rate("producer", "producer:ours") / rate("producer", "producer:one-per-request"),
    "producer: ours / sqs-producer":
      rate("producer", "producer:ours") / rate("producer", "producer:sqs-producer"),
    "backlog no-op: ours / bare SDK": rate("drain", "consumer:ours") / rate("drain", "consumer:bare-sdk"),
    "concurrency 1000, 5 ms: ours / squiss-ts":
      rate("c1000", "consumer:ours") / rate("c1000", "consumer:squiss-ts"),
    "trickle 20/s req/msg: ours / squiss-ts":
      (oursTrickle?.requestsPerMessage ?? Number.NaN) / (squissTrickle?.requestsPerMessage ?? Number.NaN),
  };
  const targets = [
    ["consumer 20ms ≥ 0.9 × bound", ratios["consumer 20ms: ours / bound"] >= 0.9],
    ["consumer 20ms ≥ 1.1 × squiss-ts", ratios["consumer 20ms: ours / squiss-ts"] >= 1.1],
    ["consumer mixed ≥ 1.2 × squiss-ts", ratios["consumer mixed: ours / squiss-ts"] >= 1.2],
    [
      "≤ 0.21 receive+delete requests per message",
      Math.max(
        find("20ms", "consumer:ours")?.receiveDeletePerMessage ?? 1,
        find("mixed", "consumer:ours")?.receiveDeletePerMessage ?? 1,
      ) <= 0.21,
    ],
    ["idle: ≤ 3 receives a minute per consumer", idleReceivesPerMinute <= 3],
    ["backlog no-op ≥ 0.95 × bare SDK", ratios["backlog no-op: ours / bare SDK"] >= 0.95],
    [
      "trickle 20/s, defaults: ≤ 1.05 × squiss-ts requests/msg",
      ratios["trickle 20/s req/msg: ours / squiss-ts"] <= 1.05,
    ],
    ["trickle 20/s, defaults: ≤ 1.15 requests/msg", (oursTrickle?.requestsPerMessage ?? 9) <= 1.15],
    [
      "trickle 20/s, defaults: p99 ≤ squiss-ts p99",
      (oursTrickle?.p99Ms ?? Number.POSITIVE_INFINITY) <= (squissTrickle?.p99Ms ?? Number.NaN),
    ],
    ["trickle 20/s, 1 s window: ≤ 0.3 requests/msg", (windowTrickle?.requestsPerMessage ?? 9) <= 0.3],
    [
      "trickle 20/s, 1 s window: p99 ≤ window + 100 ms",
      (windowTrickle?.p99Ms ?? Number.POSITIVE_INFINITY) <= 1_100,
    ],
    ["producer ≥ 9 × one-per-request", ratios["producer: ours / one-per-request"] >= 9],
    ["producer ≥ 1.5 × sqs-producer", ratios["producer: ours / sqs-producer"] >= 1.5],
    [
      "producer at ≤ 0.1 requests per message",
      (find("producer", "producer:ours")?.requestsPerMessage ?? 1) <= 0.1,
    ],
  ] as const;

  const lines = [
    `Benchmark: ${options.count} messages, median of ${options.runs} runs, fauxqs in a child process, ${new Date().toISOString()}`,
    "",
    "Every variant uses the same SQS client settings (createSqsClient's: keep-alive, MD5 off on loopback, 3 SDK attempts, sockets for concurrency 1000).",
    `Trickle rows: a producer sends one message at a time at the rate for ${options.trickleSeconds} s; consumers long-poll 20 s; latency is send → handler start.`,
    "",
    "| group | variant | msg/s | SQS req/msg | recv+del req/msg | p50 ms | p99 ms | CPU s/1000 msg | peak RSS MB |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ...summary.map(
      (s) =>
        `| ${s.group} | ${s.label}${s.timeBoxed ? " (time-boxed)" : ""} | ${s.messagesPerSecond} | ${s.requestsPerMessage} | ${s.receiveDeletePerMessage} | ${s.p50Ms ?? ""} | ${s.p99Ms ?? ""} | ${s.cpuSecondsPer1000} | ${s.peakRssMb} |`,
    ),
    `| bound | 20ms: concurrency / handler time (100 / 20 ms), capped by the drain ceiling | ${Math.round(bound)} | | | | |`,
    `| bound | mixed: concurrency / mean handler time (100 / 38 ms), capped by the drain ceiling | ${Math.round(mixedBound)} | | | | |`,
    "",
    idle
      ? `idle (ours, concurrency 100, empty queue, after a 5 s warm-up): ${idle.requests.ReceiveMessage ?? 0} ReceiveMessage in ${idle.seconds.toFixed(0)} s = ${idleReceivesPerMinute.toFixed(2)} receives/minute`
      : "idle: not run",
    "",
    ...Object.entries(ratios).map(([name, value]) => `${name.padEnd(40)} ${value.toFixed(2)}×`),
    "",
    ...targets.map(([name, met]) => `${met ? "MET   " : "MISSED"} ${name}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  await mkdir(join(options.out, ".."), { recursive: true });
  await writeFile(
    options.out,
    `${JSON.stringify({ options, summary, bound, mixedBound, idle: idle ? { ...idle, receivesPerMinute: idleReceivesPerMinute } : null, ratios, targets: Object.fromEntries(targets) }, null, 2)}\n`,
  );
  process.stdout.write(`\nwritten to ${options.out}\n`);
} finally {
  admin.destroy();
  emulator.stop();
}
