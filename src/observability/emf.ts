/**
 * The consumer's CloudWatch metrics as embedded-metric-format (EMF) log lines: every flush
 * interval, one JSON line with the messages processed, failed and dead-lettered since the last
 * flush, and whether the consumer is paused now. The awslogs driver ships stderr, and CloudWatch
 * Logs extracts the metrics from the line (docs/runbooks.md, "Telemetry"): no agent, no sidecar,
 * no PutMetricData permission.
 *
 * Hand-written rather than `aws-embedded-metrics`: the format is a documented JSON shape
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
 * and this needs four numbers and one dimension.
 */

import type { EventEmitter } from "node:events";
import type { ConsumerEvents } from "../consumer/runtime/types.js";
import { EMF_DIMENSION, EMF_METRICS, EMF_NAMESPACE } from "../contract/metrics.js";
import { type Clock, systemClock, type Timer } from "../time/clock.js";

/** CloudWatch's finest standard resolution: one line a minute gives every period a datapoint. */
export const EMF_FLUSH_INTERVAL_MS = 60_000;

/** What the writer reads from the consumer: its events and whether it is paused now. */
export type EmfSource = Pick<EventEmitter<ConsumerEvents>, "on" | "off"> & { readonly paused: boolean };

export interface EmfWriterOptions {
  readonly source: EmfSource;
  /** The dimension's value; the caller derives it from the queue URL, never from a message. */
  readonly queueName: string;
  /** Where the lines go (the CLI: stderr, which the awslogs driver ships). */
  readonly stream: Pick<NodeJS.WritableStream, "write">;
  /** Default 60,000. */
  readonly intervalMs?: number;
  /** Timers and the line's Timestamp. Default: the system's. */
  readonly clock?: Clock;
}

export interface EmfWriter {
  /** Writes one line now with the counts since the last one, and starts a new interval (not after stop). */
  flush(): void;
  /** The final flush: writes what is left and stops listening. Idempotent. */
  stop(): void;
}

export function startEmfWriter(options: EmfWriterOptions): EmfWriter {
  const { source, queueName, stream } = options;
  const intervalMs = options.intervalMs ?? EMF_FLUSH_INTERVAL_MS;
  const clock = options.clock ?? systemClock;
  const counts = { processed: 0, failed: 0, deadLettered: 0 };
  const onProcessed = () => counts.processed++;
  const onFailed = () => counts.failed++;
  const onDeadLettered = () => counts.deadLettered++;
  source.on("processed", onProcessed);
  source.on("failed", onFailed);
  source.on("dead-lettered", onDeadLettered);

  let timer: Timer | undefined;
  let stopped = false;
  const schedule = () => {
    timer = clock.setTimeout(flush, intervalMs);
  };
  function write(): void {
    timer?.cancel();
    const line = {
      _aws: {
        Timestamp: clock.now(),
        CloudWatchMetrics: [
          {
            Namespace: EMF_NAMESPACE,
            Dimensions: [[EMF_DIMENSION]],
            Metrics: [
              // A gauge, not a count: the alarm reads its Maximum per minute.
              { Name: EMF_METRICS.paused, Unit: "None" },
              { Name: EMF_METRICS.processed, Unit: "Count" },
              { Name: EMF_METRICS.failed, Unit: "Count" },
              { Name: EMF_METRICS.deadLettered, Unit: "Count" },
            ],
          },
        ],
      },
      [EMF_DIMENSION]: queueName,
      [EMF_METRICS.paused]: source.paused ? 1 : 0,
      [EMF_METRICS.processed]: counts.processed,
      [EMF_METRICS.failed]: counts.failed,
      [EMF_METRICS.deadLettered]: counts.deadLettered,
    };
    counts.processed = counts.failed = counts.deadLettered = 0;
    stream.write(`${JSON.stringify(line)}\n`);
  }
  function flush(): void {
    if (stopped) return;
    write();
    schedule();
  }
  schedule();
  return {
    flush,
    stop() {
      if (stopped) return;
      stopped = true;
      source.off("processed", onProcessed);
      source.off("failed", onFailed);
      source.off("dead-lettered", onDeadLettered);
      write();
    },
  };
}
