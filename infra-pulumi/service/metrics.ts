/**
 * The metrics the fleet scales and alarms on, as plain data (no Pulumi import): the AWS ones,
 * and the consumer's own, which it writes as CloudWatch embedded-metric-format (EMF) log lines
 * to stderr, where the awslogs driver already ships them (docs/runbooks.md, "Telemetry").
 */

/** CloudWatch namespace of the consumer's EMF metrics; every one carries the QueueName dimension. */
export const EMF_NAMESPACE = "SqsMessaging/Consumer";

/** The EMF metrics the consumer writes (names are the contract with src/observability). */
export const EMF_METRICS = {
  /** 1 while an environment fault (store, mailer, disk) pauses the consumer, else 0. */
  paused: "ConsumerPaused",
  processed: "MessagesProcessed",
  failed: "MessagesFailed",
  deadLettered: "MessagesDeadLettered",
} as const;

export const SQS_NAMESPACE = "AWS/SQS";
export const CONTAINER_INSIGHTS_NAMESPACE = "ECS/ContainerInsights";

/** One metric as CloudWatch names it: namespace, name, dimensions (name → value). */
export interface MetricRef {
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Record<string, string>;
}

export function queueMetric(metricName: string, queueName: string): MetricRef {
  return { namespace: SQS_NAMESPACE, metricName, dimensions: { QueueName: queueName } };
}

export function serviceMetric(metricName: string, clusterName: string, serviceName: string): MetricRef {
  return {
    namespace: CONTAINER_INSIGHTS_NAMESPACE,
    metricName,
    dimensions: { ClusterName: clusterName, ServiceName: serviceName },
  };
}
