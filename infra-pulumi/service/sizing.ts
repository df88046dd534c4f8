/**
 * The fleet's numbers, derived once from the settings (no Pulumi import: the docs, the tests and
 * both programs' expectations use the same arithmetic; Terraform writes the rate once, as a local in main.tf).
 *
 * - The mail account's quota is shared by every task: the fleet has at most `maxConsumerTasks`
 *   tasks (settings `email`), each capped at `accountSendRatePerSecond ÷ maxConsumerTasks`
 *   (MAIL_RATE_PER_SECOND, `perTaskRate`): at full size it sends at most the quota, never more.
 * - A task then works off one message per `1 ÷ that rate` seconds (the mail cap is the
 *   bottleneck: docs/fleet-sizing.md), so a backlog of `latencyGoalSeconds × rate` messages per
 *   task is drained within the latency goal: that is the target-tracking value.
 */
import { perTaskRate } from "../../src/config/derived.js";

export interface FleetNumbers {
  readonly accountSendRatePerSecond: number;
  readonly maxConsumerTasks: number;
  readonly latencyGoalSeconds: number;
  readonly minTasks: number;
  readonly scaleToZero: boolean;
}

/** The autoscaling maximum: the most tasks whose summed caps stay within the account quota. */
export function maxTasks(n: Pick<FleetNumbers, "maxConsumerTasks">): number {
  return n.maxConsumerTasks;
}

/** Each task's send cap (MAIL_RATE_PER_SECOND): its share of the account quota. */
export function taskSendRate(n: Pick<FleetNumbers, "accountSendRatePerSecond" | "maxConsumerTasks">): number {
  return perTaskRate(n.accountSendRatePerSecond, n.maxConsumerTasks);
}

/** Seconds one task spends per message at its send cap. */
export function secondsPerMessage(
  n: Pick<FleetNumbers, "accountSendRatePerSecond" | "maxConsumerTasks">,
): number {
  return 1 / taskSendRate(n);
}

/** Target backlog per task: the latency goal ÷ seconds per message. */
export function targetBacklogPerTask(
  n: Pick<FleetNumbers, "latencyGoalSeconds" | "accountSendRatePerSecond" | "maxConsumerTasks">,
): number {
  return n.latencyGoalSeconds / secondsPerMessage(n);
}

/** The autoscaling minimum: 0 when scale-to-zero is on. */
export function minCapacity(n: Pick<FleetNumbers, "minTasks" | "scaleToZero">): number {
  return n.scaleToZero ? 0 : n.minTasks;
}

/**
 * The metric-math expressions (CloudWatch ids m1 = ApproximateNumberOfMessagesVisible of the
 * queue, m2 = RunningTaskCount of the service from ECS/ContainerInsights).
 *
 * BACKLOG_PER_TASK feeds target tracking. With no task m2 is 0 (or missing) and the division
 * gives no datapoint: target tracking never scales out from 0 anyway (its new capacity is
 * proportional to the current one), which is why scale-to-zero has its own wake policy.
 * WAKE is 1 exactly when messages wait and no task runs (FILL: Container Insights sends no
 * RunningTaskCount datapoint for a service without tasks).
 */
export const METRIC_MATH = {
  visibleId: "m1",
  runningId: "m2",
  backlogPerTask: "m1 / m2",
  wake: "IF(FILL(m2, 0) == 0 AND m1 > 0, 1, 0)",
} as const;

/** Fargate's valid CPU units → memory (MiB) pairs (AWS: task size table, Linux). */
export function fargateMemoryChoices(cpu: number): number[] {
  const range = (from: number, to: number, step: number) =>
    Array.from({ length: (to - from) / step + 1 }, (_, i) => from + i * step);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    default:
      return [];
  }
}

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];
