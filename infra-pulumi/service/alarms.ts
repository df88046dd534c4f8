/**
 * The fleet's alarms (issue 14), each with a runbook in docs/runbooks.md, all notifying one SNS
 * topic (optionally subscribed by email):
 * - dead letters: the dead-letter queue holds a message (a poison message, or retries spent);
 * - oldest message: the oldest message is older than the latency goal (the fleet falls behind);
 * - running < desired: tasks do not start or keep crashing (image, secrets, network);
 * - consumer paused: the consumer's own EMF metric; an environment fault (store, mailer) pauses it.
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

/** Minutes `running < desired` may last (a task takes 1–2 minutes to start and pass its check). */
export const RUNNING_BELOW_DESIRED_MINUTES = 10;
/** Minutes the consumer may stay paused before a human is called (it rides out short faults). */
export const PAUSED_MINUTES = 5;
/** Minutes above the latency goal before the age alarm fires (one bad minute is noise). */
export const OLDEST_MESSAGE_MINUTES = 3;

export class ConsumerAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly emailSubscription?: aws.sns.TopicSubscription;
  readonly deadLetters: aws.cloudwatch.MetricAlarm;
  readonly oldestMessage: aws.cloudwatch.MetricAlarm;
  readonly runningBelowDesired: aws.cloudwatch.MetricAlarm;
  readonly consumerPaused: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: ConsumerAlarmsArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:ConsumerAlarms", name, {}, options);
    const child = { parent: this };
    const s = args.settings;
    this.topic = new aws.sns.Topic(`${name}-alarm-topic`, { name: `${s.serviceName}-alarms` }, child);
    if (s.alarmEmail) {
      this.emailSubscription = new aws.sns.TopicSubscription(
        `${name}-alarm-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: s.alarmEmail },
        child,
      );
    }
    const notify = { alarmActions: [this.topic.arn], okActions: [this.topic.arn] };
    const runbook = (anchor: string) => `Runbook: docs/runbooks.md#${anchor}`;

    const dlq = queueMetric("ApproximateNumberOfMessagesVisible", args.deadLetterQueueName);
    this.deadLetters = new aws.cloudwatch.MetricAlarm(
      `${name}-dlq-alarm`,
      {
        name: `${s.serviceName}-dead-letters`,
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

    const age = queueMetric("ApproximateAgeOfOldestMessage", args.queueName);
    this.oldestMessage = new aws.cloudwatch.MetricAlarm(
      `${name}-age-alarm`,
      {
        name: `${s.serviceName}-oldest-message`,
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
        name: `${s.serviceName}-running-below-desired`,
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
        name: `${s.serviceName}-consumer-paused`,
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
    this.registerOutputs({ alarmTopicArn: this.topic.arn });
  }
}
