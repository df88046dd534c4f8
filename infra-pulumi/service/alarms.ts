/**
 * The fleet's alarms, each with a runbook in docs/runbooks.md, all notifying one SNS
 * topic (optionally subscribed by email):
 * - dead letters: the dead-letter queue holds a message (a poison message, or retries spent);
 * - oldest message: the oldest message is older than the latency goal (the fleet falls behind);
 * - running < desired: tasks do not start or keep crashing (image, secrets, network);
 * - consumer paused: the consumer's own EMF metric; an environment fault (store, mailer) pauses it;
 * - handler failures: the share of messages the handler fails (EMF), above a floor of failures.
 * The dead-letter and handler-failure alarms are also the service's deployment alarms: a release
 * that starts and passes its health check but gets messages wrong is rolled back by ECS.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { alarmQuery } from "./autoscaling.js";
import type { ServiceConfig } from "./config.js";
import { EMF_DIMENSION, EMF_METRICS, EMF_NAMESPACE, queueMetric, serviceMetric } from "./metrics.js";

export interface ConsumerAlarmsArgs {
  readonly settings: ServiceConfig;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  readonly clusterName: pulumi.Input<string>;
  readonly serviceName: pulumi.Input<string>;
}

/**
 * The handler-failure alarm: a minute breaches when at least HANDLER_FAILURES_MIN messages failed
 * and they were at least HANDLER_FAILURE_PERCENT of those handled. The floor keeps one poison
 * message on a quiet queue (100 % of one) from rolling back a good release; a release that fails
 * everything on a busy queue crosses both at once.
 */
export const HANDLER_FAILURE_PERCENT = 50;
export const HANDLER_FAILURES_MIN = 5;
/** Consecutive breaching minutes before it fires (a deploy's first minute has few tasks). */
export const HANDLER_FAILURE_MINUTES = 3;

/** Metric math of the failure share: 0 below the floor, so a quiet minute never breaches. */
export const HANDLER_FAILURE_EXPRESSION = `IF(FILL(failed, 0) >= ${HANDLER_FAILURES_MIN}, 100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(processed, 0)), 0)`;

/** The alarm names, from the service's name: the deployment alarms reference the first two. */
export const alarmNames = (serviceName: string) => ({
  deadLetters: `${serviceName}-dead-letters`,
  handlerFailures: `${serviceName}-handler-failures`,
  oldestMessage: `${serviceName}-oldest-message`,
  runningBelowDesired: `${serviceName}-running-below-desired`,
  consumerPaused: `${serviceName}-consumer-paused`,
});

/** Minutes `running < desired` may last (a task takes 1–2 minutes to start and pass its check). */
export const RUNNING_BELOW_DESIRED_MINUTES = 10;
/** Minutes the consumer may stay paused before a human is called (it rides out short faults). */
export const PAUSED_MINUTES = 5;
/** Minutes above the latency goal before the age alarm fires (one bad minute is noise). */
export const OLDEST_MESSAGE_MINUTES = 3;

/** A link to the alarm's runbook, for its description. */
export const runbook = (anchor: string) => `Runbook: docs/runbooks.md#${anchor}`;

/** The alarm topic, its optional email subscription, and the dead-letter alarm. */
export interface ConsumerAlerting {
  readonly topic: aws.sns.Topic;
  readonly emailSubscription?: aws.sns.TopicSubscription;
  readonly deadLetters: aws.cloudwatch.MetricAlarm;
  readonly notify: { alarmActions: pulumi.Output<string>[]; okActions: pulumi.Output<string>[] };
}

/**
 * What every consumer compute alarms through, whatever it runs on (the service's alarms here, the
 * function's in infra-pulumi/lambda/alarms.ts): one topic named after the consumer, mailed to
 * on-call, and the dead-letter queue's alarm. Same child names either way, so Terraform has one
 * resource for each (service_alarms.tf).
 */
export function consumerAlerting(
  name: string,
  args: { prefix: string; alarmEmail?: string | undefined; deadLetterQueueName: string },
  child: pulumi.CustomResourceOptions,
): ConsumerAlerting {
  const topic = new aws.sns.Topic(`${name}-alarm-topic`, { name: `${args.prefix}-alarms` }, child);
  const emailSubscription = args.alarmEmail
    ? new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        { topic: topic.arn, protocol: "email", endpoint: args.alarmEmail },
        child,
      )
    : undefined;
  const notify = { alarmActions: [topic.arn], okActions: [topic.arn] };
  const dlq = queueMetric("ApproximateNumberOfMessagesVisible", args.deadLetterQueueName);
  const deadLetters = new aws.cloudwatch.MetricAlarm(
    `${name}-dlq-alarm`,
    {
      name: alarmNames(args.prefix).deadLetters,
      alarmDescription: `The dead-letter queue holds messages. ${runbook("dead-letters")}`,
      namespace: dlq.namespace,
      metricName: dlq.metricName,
      dimensions: dlq.dimensions,
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      ...notify,
    },
    child,
  );
  return { topic, ...(emailSubscription ? { emailSubscription } : {}), deadLetters, notify };
}

export class ConsumerAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly emailSubscription?: aws.sns.TopicSubscription;
  readonly deadLetters: aws.cloudwatch.MetricAlarm;
  readonly oldestMessage: aws.cloudwatch.MetricAlarm;
  readonly runningBelowDesired: aws.cloudwatch.MetricAlarm;
  readonly consumerPaused: aws.cloudwatch.MetricAlarm;
  readonly handlerFailures: aws.cloudwatch.MetricAlarm;
  /** What the service's deployment alarms watch: a dead letter, a failing handler. */
  readonly deploymentAlarmNames: pulumi.Output<string>[];

  constructor(name: string, args: ConsumerAlarmsArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:ConsumerAlarms", name, {}, options);
    const child = { parent: this };
    const s = args.settings;
    const alerting = consumerAlerting(
      name,
      { prefix: s.serviceName, alarmEmail: s.alarmEmail, deadLetterQueueName: args.deadLetterQueueName },
      child,
    );
    this.topic = alerting.topic;
    if (alerting.emailSubscription) this.emailSubscription = alerting.emailSubscription;
    this.deadLetters = alerting.deadLetters;
    const notify = alerting.notify;
    const names = alarmNames(s.serviceName);

    const age = queueMetric("ApproximateAgeOfOldestMessage", args.queueName);
    this.oldestMessage = new aws.cloudwatch.MetricAlarm(
      `${name}-age-alarm`,
      {
        name: names.oldestMessage,
        alarmDescription: `The oldest registration waits longer than the latency goal (${s.latencyGoalSeconds} s). ${runbook("oldest-message")}`,
        namespace: age.namespace,
        metricName: age.metricName,
        dimensions: age.dimensions,
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: OLDEST_MESSAGE_MINUTES,
        threshold: s.latencyGoalSeconds,
        comparisonOperator: "GreaterThanThreshold",
        treatMissingData: "notBreaching",
        ...notify,
      },
      child,
    );

    this.runningBelowDesired = new aws.cloudwatch.MetricAlarm(
      `${name}-running-alarm`,
      {
        name: names.runningBelowDesired,
        alarmDescription: `Fewer consumer tasks run than the service wants, for ${RUNNING_BELOW_DESIRED_MINUTES} minutes. ${runbook("running-below-desired")}`,
        comparisonOperator: "GreaterThanThreshold",
        threshold: 0,
        evaluationPeriods: RUNNING_BELOW_DESIRED_MINUTES,
        datapointsToAlarm: RUNNING_BELOW_DESIRED_MINUTES,
        treatMissingData: "notBreaching",
        metricQueries: pulumi
          .all([args.clusterName, args.serviceName])
          .apply(([clusterName, serviceName]) => [
            alarmQuery("desired", serviceMetric("DesiredTaskCount", clusterName, serviceName), "Maximum"),
            alarmQuery("running", serviceMetric("RunningTaskCount", clusterName, serviceName), "Minimum"),
            {
              id: "missing",
              label: "Desired tasks not running",
              expression: "FILL(desired, 0) - FILL(running, 0)",
              returnData: true,
            },
          ]),
        ...notify,
      },
      child,
    );

    this.consumerPaused = new aws.cloudwatch.MetricAlarm(
      `${name}-paused-alarm`,
      {
        name: names.consumerPaused,
        alarmDescription: `A consumer has been paused by an environment fault (store, mailer, disk) for ${PAUSED_MINUTES} minutes. ${runbook("consumer-paused")}`,
        namespace: EMF_NAMESPACE,
        metricName: EMF_METRICS.paused,
        dimensions: { [EMF_DIMENSION]: args.queueName },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: PAUSED_MINUTES,
        datapointsToAlarm: PAUSED_MINUTES,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        ...notify,
      },
      child,
    );
    const emf = (id: string, metricName: string) => ({
      id,
      returnData: false,
      metric: {
        namespace: EMF_NAMESPACE,
        metricName,
        dimensions: { [EMF_DIMENSION]: args.queueName },
        period: 60,
        stat: "Sum",
      },
    });
    this.handlerFailures = new aws.cloudwatch.MetricAlarm(
      `${name}-failures-alarm`,
      {
        name: names.handlerFailures,
        alarmDescription: `At least ${HANDLER_FAILURE_PERCENT} % of the messages handled fail (${HANDLER_FAILURES_MIN} or more a minute) for ${HANDLER_FAILURE_MINUTES} minutes; during a deployment, ECS rolls it back. ${runbook("handler-failures")}`,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: HANDLER_FAILURE_PERCENT,
        evaluationPeriods: HANDLER_FAILURE_MINUTES,
        datapointsToAlarm: HANDLER_FAILURE_MINUTES,
        treatMissingData: "notBreaching",
        metricQueries: [
          emf("failed", EMF_METRICS.failed),
          emf("processed", EMF_METRICS.processed),
          {
            id: "share",
            label: "Handler failures (% of handled)",
            expression: HANDLER_FAILURE_EXPRESSION,
            returnData: true,
          },
        ],
        ...notify,
      },
      child,
    );
    this.deploymentAlarmNames = [this.deadLetters.name, this.handlerFailures.name];
    this.registerOutputs({ alarmTopicArn: this.topic.arn });
  }
}
