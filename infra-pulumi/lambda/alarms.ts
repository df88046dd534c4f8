/**
 * The function's alarms, each with a runbook in docs/runbooks.md, on the consumer's one topic
 * (service/alarms.ts, `consumerAlerting`: the topic, its email, the dead-letter alarm):
 * - errors: invocations that failed as a whole (a crash, a timeout, a fault the handler throws
 *   for the batch), not the messages it reports in batchItemFailures, which retry on their own;
 * - throttles: invocations Lambda refused (the account's or region's concurrency is used up by
 *   other functions), so the mapping backs off and messages wait;
 * - paused: invocations that met an environment fault (store, mail server down or throttled). The
 *   handler does not fail such an invocation: it hands the batch back with a growing visibility,
 *   so neither Errors nor Throttles moves. Each invocation writes the EMF gauge ConsumerPaused
 *   (1 when it met a fault); as the visibility grows, a quiet queue's invocations in an outage
 *   grow sparse (30 s, 2.5 min, 10.5 min after a message's first try), so the alarm counts
 *   faulted minutes within a window rather than asking for consecutive ones.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMF_DIMENSION, EMF_METRICS, EMF_NAMESPACE } from "../../src/contract/metrics.js";
import { type ConsumerAlerting, consumerAlerting, runbook } from "../service/alarms.js";
import type { FunctionConfig } from "./config.js";

/** Minutes with a failed invocation before a human is called (one bad container is noise). */
export const FUNCTION_ERROR_MINUTES = 3;
/** Minutes with a throttled invocation before a human is called. */
export const FUNCTION_THROTTLE_MINUTES = 5;

/**
 * The paused alarm: PAUSED_FAULT_MINUTES minutes with a faulted invocation within the last
 * PAUSED_WINDOW_MINUTES. A blip (one throttled call, retried 30 s later) faults one or two
 * minutes; an outage faults a message at its first receive and again 30 s, 2.5 min and 10.5 min
 * later (src/lambda/batch.ts), so even one message on a quiet queue fires it within the window.
 */
export const PAUSED_FAULT_MINUTES = 3;
export const PAUSED_WINDOW_MINUTES = 15;

export const functionAlarmNames = (functionName: string) => ({
  errors: `${functionName}-errors`,
  throttles: `${functionName}-throttles`,
  paused: `${functionName}-paused`,
});

export interface FunctionAlarmsArgs {
  readonly settings: FunctionConfig;
  /** The EMF metrics' dimension: the handler derives it from its queue URL. */
  readonly queueName: string;
  readonly deadLetterQueueName: string;
}

export class FunctionAlarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly emailSubscription?: aws.sns.TopicSubscription;
  readonly deadLetters: aws.cloudwatch.MetricAlarm;
  readonly errors: aws.cloudwatch.MetricAlarm;
  readonly throttles: aws.cloudwatch.MetricAlarm;
  readonly paused: aws.cloudwatch.MetricAlarm;

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
    this.paused = new aws.cloudwatch.MetricAlarm(
      // Not `-paused-alarm`: that child is the Fargate fleet's (Terraform's consumer_paused).
      `${name}-function-paused-alarm`,
      {
        name: names.paused,
        alarmDescription: `Invocations of the consumer function met an environment fault (store, mail server) in ${PAUSED_FAULT_MINUTES} of the last ${PAUSED_WINDOW_MINUTES} minutes; their messages come back with a growing visibility. ${runbook("function-paused")}`,
        namespace: EMF_NAMESPACE,
        metricName: EMF_METRICS.paused,
        dimensions: { [EMF_DIMENSION]: args.queueName },
        statistic: "Maximum",
        period: 60,
        evaluationPeriods: PAUSED_WINDOW_MINUTES,
        datapointsToAlarm: PAUSED_FAULT_MINUTES,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        ...alerting.notify,
      },
      child,
    );
    this.registerOutputs({ alarmTopicArn: this.topic.arn });
  }
}
