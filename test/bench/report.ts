/**
 * What `npm run bench` prints, from what it ran: the table, the ratios and the targets. Pure, so a
 * unit test can check it (test/unit/bench-report.test.ts). A ratio or a target is printed only
 * when every row it reads ran: `--groups` with a subset prints no NaN ratio and no MISSED target
 * for a group it did not run.
 */

import { type SoakRun, soakLines, soakVerdict } from "./soak.js";

/** One variant's medians over its runs (only variants with at least one run). */
export interface SummaryRow {
  readonly group: string;
  readonly label: string;
  readonly variant: string;
  readonly messagesPerSecond: number;
  readonly requestsPerMessage: number;
  readonly receiveDeletePerMessage: number;
  readonly cpuSecondsPer1000: number;
  readonly peakRssMb: number;
  readonly timeBoxed: boolean;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export interface IdleRun {
  readonly receives: number;
  readonly seconds: number;
}

export interface ReportInput {
  readonly summary: readonly SummaryRow[];
  readonly idle?: IdleRun | undefined;
  readonly count: number;
  readonly runs: number;
  readonly trickleSeconds: number;
  /** The soak group's series, when it ran. */
  readonly soak?: SoakRun | undefined;
  readonly date: string;
}

export interface Report {
  readonly lines: string[];
  readonly ratios: Record<string, number>;
  readonly targets: Record<string, boolean>;
  /** Concurrency ÷ handler time, capped by the drain ceiling when the drain group ran. */
  readonly bound?: number;
  readonly mixedBound?: number;
  readonly idleReceivesPerMinute?: number;
}

/** A number, or undefined when a row it needs did not run (or it is not a number). */
type Maybe = number | undefined;

const known = (value: Maybe): value is number => value !== undefined && Number.isFinite(value);
const ratio = (a: Maybe, b: Maybe): Maybe => (known(a) && known(b) && b !== 0 ? a / b : undefined);

export function benchReport(input: ReportInput): Report {
  const { summary, idle } = input;
  const find = (group: string, variant: string, label?: string) =>
    summary.find(
      (s) => s.group === group && s.variant === variant && (label === undefined || s.label === label),
    );
  const rate = (group: string, variant: string): Maybe => find(group, variant)?.messagesPerSecond;
  const ours = "consumer:ours";
  const trickle = (label: string, variant = ours) => find("trickle-20", variant, label);
  const oursTrickle = trickle("ours, defaults");
  const windowTrickle = trickle("ours, --batching-window 1000");
  const squissTrickle = trickle("squiss-ts 5.6, defaults", "consumer:squiss-ts");

  // 100 handlers ÷ 20 ms, and ÷ 38 ms for the mixed handler (9 of 10 take 20 ms, 1 takes 200 ms),
  // capped by the drain ceiling when that group ran.
  const drainCeiling = rate("drain", ours);
  const cap = (value: number) => (known(drainCeiling) ? Math.min(value, drainCeiling) : value);
  const bound = find("20ms", ours) ? cap(100 / 0.02) : undefined;
  const mixedBound = find("mixed", ours) ? cap(100 / 0.038) : undefined;
  const idleReceivesPerMinute = idle ? idle.receives * (60 / idle.seconds) : undefined;

  const allRatios: Record<string, Maybe> = {
    "consumer 20ms: ours / bound": ratio(rate("20ms", ours), bound),
    "consumer 20ms: ours / squiss-ts": ratio(rate("20ms", ours), rate("20ms", "consumer:squiss-ts")),
    "consumer 20ms: ours / sqs-consumer": ratio(rate("20ms", ours), rate("20ms", "consumer:sqs-consumer")),
    "consumer 20ms: ours / naive": ratio(rate("20ms", ours), rate("20ms", "consumer:naive")),
    "consumer mixed: ours / bound": ratio(rate("mixed", ours), mixedBound),
    "consumer mixed: squiss-ts / bound": ratio(rate("mixed", "consumer:squiss-ts"), mixedBound),
    "consumer mixed: ours / squiss-ts": ratio(rate("mixed", ours), rate("mixed", "consumer:squiss-ts")),
    "consumer mixed: ours / sqs-consumer": ratio(rate("mixed", ours), rate("mixed", "consumer:sqs-consumer")),
    "producer: ours / one-per-request": ratio(
      rate("producer", "producer:ours"),
      rate("producer", "producer:one-per-request"),
    ),
    "producer: ours / sqs-producer": ratio(
      rate("producer", "producer:ours"),
      rate("producer", "producer:sqs-producer"),
    ),
    "backlog no-op: ours / bare SDK": ratio(rate("drain", ours), rate("drain", "consumer:bare-sdk")),
    "backlog no-op CPU a message: ours / bare SDK": ratio(
      find("drain", ours)?.cpuSecondsPer1000,
      find("drain", "consumer:bare-sdk")?.cpuSecondsPer1000,
    ),
    "concurrency 1000, 5 ms: ours / squiss-ts": ratio(
      rate("c1000", ours),
      rate("c1000", "consumer:squiss-ts"),
    ),
    "concurrency 1000, peak RSS: ours / squiss-ts": ratio(
      find("c1000", ours)?.peakRssMb,
      find("c1000", "consumer:squiss-ts")?.peakRssMb,
    ),
    "trickle 20/s req/msg: ours / squiss-ts": ratio(
      oursTrickle?.requestsPerMessage,
      squissTrickle?.requestsPerMessage,
    ),
  };
  const ratios: Record<string, number> = {};
  for (const [name, value] of Object.entries(allRatios)) if (known(value)) ratios[name] = value;

  const atMost = (value: Maybe, limit: Maybe) => (known(value) && known(limit) ? value <= limit : undefined);
  const atLeast = (value: Maybe, limit: number) => (known(value) ? value >= limit : undefined);
  const receiveDelete = [find("20ms", ours), find("mixed", ours)]
    .filter((row) => row !== undefined)
    .map((row) => row.receiveDeletePerMessage);
  const allTargets: [string, boolean | undefined][] = [
    ["consumer 20ms ≥ 0.9 × bound", atLeast(ratios["consumer 20ms: ours / bound"], 0.9)],
    ["consumer 20ms ≥ 1.1 × squiss-ts", atLeast(ratios["consumer 20ms: ours / squiss-ts"], 1.1)],
    ["consumer mixed ≥ 1.2 × squiss-ts", atLeast(ratios["consumer mixed: ours / squiss-ts"], 1.2)],
    [
      "≤ 0.21 receive+delete requests per message",
      receiveDelete.length > 0 ? Math.max(...receiveDelete) <= 0.21 : undefined,
    ],
    ["idle: ≤ 3 receives a minute per consumer", atMost(idleReceivesPerMinute, 3)],
    ["backlog no-op ≥ 0.95 × bare SDK", atLeast(ratios["backlog no-op: ours / bare SDK"], 0.95)],
    [
      "backlog no-op CPU a message ≤ 1.05 × bare SDK",
      atMost(ratios["backlog no-op CPU a message: ours / bare SDK"], 1.05),
    ],
    ["concurrency 1000 ≥ 1.1 × squiss-ts", atLeast(ratios["concurrency 1000, 5 ms: ours / squiss-ts"], 1.1)],
    [
      "concurrency 1000 peak RSS ≤ squiss-ts",
      atMost(ratios["concurrency 1000, peak RSS: ours / squiss-ts"], 1),
    ],
    [
      "trickle 20/s, defaults: ≤ 1.05 × squiss-ts requests/msg",
      atMost(ratios["trickle 20/s req/msg: ours / squiss-ts"], 1.05),
    ],
    ["trickle 20/s, defaults: ≤ 1.15 requests/msg", atMost(oursTrickle?.requestsPerMessage, 1.15)],
    ["trickle 20/s, defaults: p99 ≤ squiss-ts p99", atMost(oursTrickle?.p99Ms, squissTrickle?.p99Ms)],
    ["trickle 20/s, 1 s window: ≤ 0.3 requests/msg", atMost(windowTrickle?.requestsPerMessage, 0.3)],
    ["trickle 20/s, 1 s window: p99 ≤ window + 100 ms", atMost(windowTrickle?.p99Ms, 1_100)],
    ["producer ≥ 9 × one-per-request", atLeast(ratios["producer: ours / one-per-request"], 9)],
    ["producer ≥ 1.5 × sqs-producer", atLeast(ratios["producer: ours / sqs-producer"], 1.5)],
    [
      "producer at ≤ 0.1 requests per message",
      atMost(find("producer", "producer:ours")?.requestsPerMessage, 0.1),
    ],
  ];
  const targets: Record<string, boolean> = {};
  for (const [name, met] of allTargets) if (met !== undefined) targets[name] = met;
  const soak = input.soak ? soakVerdict(input.soak.samples) : undefined;
  Object.assign(targets, soak?.targets);

  const ratioWidth = Math.max(0, ...Object.keys(ratios).map((name) => name.length));
  const capNote = known(drainCeiling) ? "capped by the drain ceiling" : "not capped (drain not run)";
  const lines = [
    `Benchmark: ${summary.length > 0 ? `${input.count} messages, median of ${input.runs} runs, ` : ""}fauxqs in a child process, ${input.date}`,
    "",
    ...(summary.length > 0
      ? [
          "Every variant uses the same SQS client settings (createSqsClient's: keep-alive, MD5 off on loopback, 3 SDK attempts); the peers get the largest socket pool any of ours uses.",
          ...(summary.some((s) => s.group.startsWith("trickle-"))
            ? [
                `Trickle rows: a producer sends one message at a time at the rate for ${input.trickleSeconds} s; consumers long-poll 20 s; latency is send → handler start.`,
              ]
            : []),
          "",
        ]
      : []),
    ...(summary.length > 0
      ? [
          "| group | variant | msg/s | SQS req/msg | recv+del req/msg | p50 ms | p99 ms | CPU s/1000 msg | peak RSS MB |",
          "|---|---|---:|---:|---:|---:|---:|---:|---:|",
          ...summary.map(
            (s) =>
              `| ${s.group} | ${s.label}${s.timeBoxed ? " (time-boxed)" : ""} | ${s.messagesPerSecond} | ${s.requestsPerMessage} | ${s.receiveDeletePerMessage} | ${s.p50Ms ?? ""} | ${s.p99Ms ?? ""} | ${s.cpuSecondsPer1000} | ${s.peakRssMb} |`,
          ),
          ...(bound !== undefined
            ? [
                `| bound | 20ms: concurrency / handler time (100 / 20 ms), ${capNote} | ${Math.round(bound)} | | | | |`,
              ]
            : []),
          ...(mixedBound !== undefined
            ? [
                `| bound | mixed: concurrency / mean handler time (100 / 38 ms), ${capNote} | ${Math.round(mixedBound)} | | | | |`,
              ]
            : []),
          "",
        ]
      : []),
    ...(idle && idleReceivesPerMinute !== undefined
      ? [
          `idle (ours, concurrency 100, empty queue, after a 5 s warm-up): ${idle.receives} ReceiveMessage in ${idle.seconds.toFixed(0)} s = ${idleReceivesPerMinute.toFixed(2)} receives/minute`,
          "",
        ]
      : []),
    ...(input.soak && soak ? [...soakLines(input.soak, soak), ""] : []),
    ...Object.entries(ratios).map(([name, value]) => `${name.padEnd(ratioWidth)} ${value.toFixed(2)}×`),
    ...(Object.keys(ratios).length > 0 ? [""] : []),
    ...Object.entries(targets).map(([name, met]) => `${met ? "MET   " : "MISSED"} ${name}`),
  ];
  while (lines.at(-1) === "") lines.pop();
  return {
    lines,
    ratios,
    targets,
    ...(bound !== undefined ? { bound } : {}),
    ...(mixedBound !== undefined ? { mixedBound } : {}),
    ...(idleReceivesPerMinute !== undefined ? { idleReceivesPerMinute } : {}),
  };
}
