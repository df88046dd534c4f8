/**
 * `status`: the depth of the main and dead-letter queues, and the age of their oldest message
 * where the source can tell it. SQS's queue attributes have no age; CloudWatch's
 * `ApproximateAgeOfOldestMessage` has it on AWS (a minute or more behind). The emulator has no
 * CloudWatch, so there the age is unknown (null), never invented.
 */
import { GetMetricDataCommand, type GetMetricDataCommandInput } from "@aws-sdk/client-cloudwatch";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { ExitCode } from "../errors.js";
import { type QueueCounts, queueCounts, total } from "../sqs/queue-counts.js";
import { type QueuePairUrls, queueName } from "../sqs/queue-pair.js";
import { type Clock, systemClock } from "../time/clock.js";

/** `status` exits with this code when the dead-letter queue holds messages (0 when it is empty). */
export const DEAD_LETTERS_PRESENT_EXIT_CODE = ExitCode.deadLettersPresent;

export interface QueueStatus extends QueueCounts {
  readonly url: string;
  /** Seconds; null when the source cannot tell (the emulator, or no datapoint yet). */
  readonly oldestMessageAgeSeconds: number | null;
}

export interface StatusReport {
  readonly queue: QueueStatus;
  readonly deadLetterQueue: QueueStatus;
  /** The main queue's oldest message age: the number a backlog alarm looks at. */
  readonly oldestMessageAgeSeconds: number | null;
  /** Where the ages come from, and why they are null when they are. */
  readonly ageSource: string;
  readonly deadLetterQueueEmpty: boolean;
}

/** Ages of the oldest message per queue name; null where unknown. */
export interface MessageAgeSource {
  /** For the report: "cloudwatch", "emulator (unknown)", … */
  readonly name: string;
  oldestMessageAges(queueNames: readonly string[]): Promise<(number | null)[]>;
}

/** The emulator keeps no metrics: every age is unknown. */
export const unknownAges: MessageAgeSource = {
  name: "unknown on the emulator (no CloudWatch)",
  oldestMessageAges: async (names) => names.map(() => null),
};

/** The part of a CloudWatch client this needs (a stub in tests). */
export interface MetricDataClient {
  send(command: GetMetricDataCommand): Promise<{
    MetricDataResults?: { Id?: string | undefined; Values?: number[] | undefined }[] | undefined;
  }>;
}

/**
 * SQS publishes its metrics every minute, only for active queues (and keeps publishing for up to
 * 6 hours after the last activity), so the newest datapoint of the last 15 minutes is the answer.
 */
const LOOKBACK_MS = 15 * 60 * 1000;
const PERIOD_SECONDS = 60;

/** The request `CloudWatchAges` makes: one GetMetricData for all queues. */
export function ageRequest(queueNames: readonly string[], now: number): GetMetricDataCommandInput {
  return {
    StartTime: new Date(now - LOOKBACK_MS),
    EndTime: new Date(now),
    ScanBy: "TimestampDescending",
    MetricDataQueries: queueNames.map((name, i) => ({
      Id: `q${i}`,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateAgeOfOldestMessage",
          Dimensions: [{ Name: "QueueName", Value: name }],
        },
        Period: PERIOD_SECONDS,
        Stat: "Maximum",
      },
    })),
  };
}

export class CloudWatchAges implements MessageAgeSource {
  readonly name = "cloudwatch";
  constructor(
    private readonly client: MetricDataClient,
    private readonly clock: Clock = systemClock,
  ) {}

  async oldestMessageAges(queueNames: readonly string[]): Promise<(number | null)[]> {
    const { MetricDataResults = [] } = await this.client.send(
      new GetMetricDataCommand(ageRequest(queueNames, this.clock.now())),
    );
    return queueNames.map((_, i) => {
      // TimestampDescending: the first value is the newest.
      const value = MetricDataResults.find((result) => result.Id === `q${i}`)?.Values?.[0];
      return value === undefined ? null : value;
    });
  }
}

export interface StatusOptions {
  readonly client: SQSClient;
  readonly queues: QueuePairUrls;
  readonly ages: MessageAgeSource;
  /** Told when the age source fails: the counts are still reported, the ages become null. */
  readonly onAgeError?: (error: unknown) => void;
}

export async function queueStatus(options: StatusOptions): Promise<StatusReport> {
  const { client, queues } = options;
  const urls = [queues.queueUrl, queues.deadLetterQueueUrl] as const;
  let ageSource = options.ages.name;
  const [main, dead, ages] = await Promise.all([
    queueCounts(client, urls[0]),
    queueCounts(client, urls[1]),
    options.ages.oldestMessageAges(urls.map(queueName)).catch((error: unknown) => {
      // A missing cloudwatch:GetMetricData permission must not hide the queue depths.
      options.onAgeError?.(error);
      ageSource = `${options.ages.name} (failed: ${(error as Error).name ?? "error"})`;
      return [null, null];
    }),
  ]);
  const queue = { url: urls[0], ...main, oldestMessageAgeSeconds: ages[0] ?? null };
  const deadLetterQueue = { url: urls[1], ...dead, oldestMessageAgeSeconds: ages[1] ?? null };
  return {
    queue,
    deadLetterQueue,
    oldestMessageAgeSeconds: queue.oldestMessageAgeSeconds,
    ageSource,
    deadLetterQueueEmpty: total(dead) === 0,
  };
}

/** Seconds as people read them: 42 s, 7 min, 3.2 h, 2.5 d. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return "unknown";
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3_600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

/** The text report: one line per queue, then what the exit code means. */
/** `inspect` is the command the last line suggests (the CLI adds the user's location flags). */
export function formatStatus(report: StatusReport, inspect = "npm run dlq -- list"): string {
  const rows = [
    ["queue", "visible", "in flight", "delayed", "oldest message"],
    ...[report.queue, report.deadLetterQueue].map((q) => [
      queueName(q.url),
      String(q.visible),
      String(q.inFlight),
      String(q.delayed),
      formatAge(q.oldestMessageAgeSeconds),
    ]),
  ];
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0))) ?? [];
  const lines = rows.map((row) =>
    row
      .map((cell, col) => (col === 0 ? cell.padEnd(widths[col] ?? 0) : cell.padStart(widths[col] ?? 0)))
      .join("  "),
  );
  lines.push(`oldest-message age: ${report.ageSource}`);
  const dead = total(report.deadLetterQueue);
  lines.push(
    report.deadLetterQueueEmpty
      ? "dead-letter queue: empty"
      : `dead-letter queue: ${dead} message${dead === 1 ? "" : "s"}; inspect with \`${inspect}\` (exit code ${DEAD_LETTERS_PRESENT_EXIT_CODE})`,
  );
  return `${lines.join("\n")}\n`;
}
