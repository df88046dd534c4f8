/**
 * The function's alarms, each with a runbook in docs/runbooks.md, on the consumer's one topic
 * (service/alarms.ts, `consumerAlerting`: the topic, its email, the dead-letter alarm):
 * - errors: invocations that failed as a whole (a crash, a timeout, a fault the handler throws
 *   for the batch), not the messages it reports in batchItemFailures, which retry on their own;
 * - throttles: invocations Lambda refused (the account's or region's concurrency is used up by
 *   other functions), so the mapping backs off and messages wait.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type ConsumerAlerting, consumerAlerting, runbook } from "../service/alarms.js";
import type { FunctionConfig } from "./config.js";

/** Minutes with a failed invocation before a human is called (one bad container is noise). */
export const FUNCTION_ERROR_MINUTES = 3;
/** Minutes with a throttled invocation before a human is called. */
export const FUNCTION_THROTTLE_MINUTES = 5;

export const functionAlarmNames = (functionName: string) => ({
  errors: `${functionName}-errors`,
  throttles: `${functionName}-throttles`,
});

export interface FunctionAlarmsArgs {
  readonly settings: FunctionConfig;
  readonly deadLetterQueueName: string;
}

export class FunctionAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly emailSubscription?: aws.sns.TopicSubscription;
  readonly deadLetters: aws.cloudwatch.MetricAlarm;
  readonly errors: aws.cloudwatch.MetricAlarm;
  readonly throttles: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: FunctionAlarmsArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:FunctionAlarms", name, {}, options);
    const child = { parent: this };
    const s = args.settings;
    const alerting: ConsumerAlerting = consumerAlerting(
      name,
      { prefix: s.functionName, alarmEmail: s.alarmEmail, deadLetterQueueName: args.deadLetterQueueName },
      child,
    );
    this.topic = alerting.topic;
    if (alerting.emailSubscription) this.emailSubscription = alerting.emailSubscription;
    this.deadLetters = alerting.deadLetters;
    const names = functionAlarmNames(s.functionName);
    const lambdaMetric = (metricName: string, minutes: number) => ({
      namespace: "AWS/Lambda",
      metricName,
      dimensions: { FunctionName: s.functionName },
      statistic: "Sum",
      period: 60,
      evaluationPeriods: minutes,
      datapointsToAlarm: minutes,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
      treatMissingData: "notBreaching",
      ...alerting.notify,
    });
    this.errors = new aws.cloudwatch.MetricAlarm(
      `${name}-errors-alarm`,
      {
        name: names.errors,
        alarmDescription: `Invocations of the consumer function failed as a whole for ${FUNCTION_ERROR_MINUTES} minutes. ${runbook("function-errors")}`,
        ...lambdaMetric("Errors", FUNCTION_ERROR_MINUTES),
      },
      child,
    );
    this.throttles = new aws.cloudwatch.MetricAlarm(
      `${name}-throttles-alarm`,
      {
        name: names.throttles,
        alarmDescription: `Lambda throttled the consumer function for ${FUNCTION_THROTTLE_MINUTES} minutes. ${runbook("function-throttles")}`,
        ...lambdaMetric("Throttles", FUNCTION_THROTTLE_MINUTES),
      },
      child,
    );
    this.registerOutputs({ alarmTopicArn: this.topic.arn });
  }
}
