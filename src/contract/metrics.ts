/**
 * The names of the consumer's metrics, defined once: the runtime writes them (EMF lines in
 * src/observability/emf.ts, the Prometheus endpoint in src/observability/metrics.ts), and the
 * fleet's alarms (infra-pulumi/service/alarms.ts) and dashboards read them. A renamed metric is an
 * alarm that silently stops firing, so both sides import these names.
 */

/** CloudWatch namespace of the consumer's EMF metrics; every one carries the QueueName dimension. */
export const EMF_NAMESPACE = "SqsMessaging/Consumer";

/** The EMF metrics the consumer writes: the contract with the fleet's alarms. */
export const EMF_METRICS = {
  /** 1 while an environment fault (store, mailer, disk) pauses the consumer, else 0. */
  paused: "ConsumerPaused",
  processed: "MessagesProcessed",
  failed: "MessagesFailed",
  deadLettered: "MessagesDeadLettered",
} as const;

/** The one dimension of every EMF metric: the queue's name (the last segment of its URL). */
export const EMF_DIMENSION = "QueueName";

/** The Prometheus metrics of the consumer's /metrics endpoint (besides prom-client's defaults). */
export const PROMETHEUS_METRICS = {
  sqsRequests: "sqs_requests_total",
  messages: "consumer_messages_total",
  messagesInFlight: "consumer_messages_in_flight",
  handlerDuration: "consumer_handler_duration_seconds",
  messageAge: "consumer_message_age_seconds",
  paused: "consumer_paused",
  ready: "consumer_ready",
  pauses: "consumer_pauses_total",
  secondSends: "consumer_second_sends_total",
  leaseLapses: "consumer_lease_lapses_total",
} as const;
