/**
 * The metrics the fleet scales and alarms on, as plain data (no Pulumi import): the AWS ones,
 * and the consumer's own, which it writes as CloudWatch embedded-metric-format (EMF) log lines
 * to stderr, where the awslogs driver already ships them (docs/runbooks.md, "Telemetry").
 */

// The consumer's own metrics are defined once, in the contract the consumer writes them by (src/ is
// what the image builds; this folder is not in it).
export { EMF_DIMENSION, EMF_METRICS, EMF_NAMESPACE } from "../../src/contract/metrics.js";

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
