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
  .option("--out <file>", "where to write the JSON results", join(defaultStateDir, "bench", "results.json"));
program.parse();
const options = program.opts<{ count: number; runs: number; idleSeconds: number; out: string }>();

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
}

const rows: Row[] = [
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
];

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
      const queueUrl = await freshQueue(consumer ? options.count : 0);
      const result = await runWorker({
        variant: row.variant,
        endpoint: emulator.endpoint,
        queueUrl,
        count: options.count,
        ...(row.handler ? { handler: row.handler } : {}),
        maxSeconds: row.maxSeconds,
        warmupQueueUrl,
      });
      results.set(row, [...(results.get(row) ?? []), result]);
      process.stderr.write(
        `run ${run}/${options.runs} ${row.group.padEnd(8)} ${row.label.padEnd(34)} ${Math.round(result.messages / result.seconds)} msg/s\n`,
      );
      await admin.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    }
  }
  const idleQueue = await freshQueue(0);
  const idle = await runWorker({
    variant: "consumer:ours-idle",
    endpoint: emulator.endpoint,
    queueUrl: idleQueue,
    count: Number.MAX_SAFE_INTEGER,
    maxSeconds: options.idleSeconds,
    warmupQueueUrl,
  });

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
    };
  });
  const find = (group: string, variant: string) =>
    summary.find((s) => s.group === group && s.variant === variant);
  const rate = (group: string, variant: string) => find(group, variant)?.messagesPerSecond ?? Number.NaN;
  const pollers = 10;
  const idleRequestsPerPollerMinute = ((idle.requests.ReceiveMessage ?? 0) / pollers) * (60 / idle.seconds);
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
    ["idle: ≤ 3 requests a minute per poller", idleRequestsPerPollerMinute <= 3],
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
    "| group | variant | msg/s | SQS req/msg | recv+del req/msg | CPU s/1000 msg | peak RSS MB |",
    "|---|---|---:|---:|---:|---:|---:|",
    ...summary.map(
      (s) =>
        `| ${s.group} | ${s.label}${s.timeBoxed ? " (time-boxed)" : ""} | ${s.messagesPerSecond} | ${s.requestsPerMessage} | ${s.receiveDeletePerMessage} | ${s.cpuSecondsPer1000} | ${s.peakRssMb} |`,
    ),
    `| bound | 20ms: concurrency / handler time (100 / 20 ms), capped by the drain ceiling | ${Math.round(bound)} | | | | |`,
    `| bound | mixed: concurrency / mean handler time (100 / 38 ms), capped by the drain ceiling | ${Math.round(mixedBound)} | | | | |`,
    "",
    `idle (ours, concurrency 100, empty queue, after a 5 s warm-up): ${idle.requests.ReceiveMessage ?? 0} ReceiveMessage in ${idle.seconds.toFixed(0)} s with ${pollers} pollers = ${idleRequestsPerPollerMinute.toFixed(2)} requests/minute per poller`,
    "",
    ...Object.entries(ratios).map(([name, value]) => `${name.padEnd(40)} ${value.toFixed(2)}×`),
    "",
    ...targets.map(([name, met]) => `${met ? "MET   " : "MISSED"} ${name}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  await mkdir(join(options.out, ".."), { recursive: true });
  await writeFile(
    options.out,
    `${JSON.stringify({ options, summary, bound, mixedBound, idle: { ...idle, requestsPerPollerMinute: idleRequestsPerPollerMinute }, ratios, targets: Object.fromEntries(targets) }, null, 2)}\n`,
  );
  process.stdout.write(`\nwritten to ${options.out}\n`);
} finally {
  admin.destroy();
  emulator.stop();
}
