/**
 * The fleet's size follows the backlog: a target-tracking policy on messages visible
 * per running task (metric math over SQS and Container Insights), between `minTasks` and the
 * maximum the mail quota allows (sizing.ts). With scale-to-zero, the minimum is 0 and a step
 * policy, fired by an alarm that sees messages waiting and no task, sets the fleet to one task:
 * target tracking alone never leaves 0 (it scales in proportion to the current capacity).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceConfig } from "./config.js";
import { queueMetric, serviceMetric } from "./metrics.js";
import { METRIC_MATH, maxTasks, minCapacity, targetBacklogPerTask } from "./sizing.js";

export interface ConsumerAutoscalingArgs {
  readonly settings: ServiceConfig;
  readonly queueName: string;
  readonly clusterName: pulumi.Input<string>;
  readonly serviceName: pulumi.Input<string>;
}

/** The ECS service's scalable dimension, as Application Auto Scaling names it. */
export const SCALABLE_DIMENSION = "ecs:service:DesiredCount";

export class ConsumerAutoscaling extends pulumi.ComponentResource {
  readonly target: aws.appautoscaling.Target;
  readonly backlogPolicy: aws.appautoscaling.Policy;
  /** Only with scale-to-zero. */
  readonly wakePolicy?: aws.appautoscaling.Policy;
  readonly wakeAlarm?: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: ConsumerAutoscalingArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:ConsumerAutoscaling", name, {}, options);
    const child = { parent: this };
    const s = args.settings;
    const resourceId = pulumi.interpolate`service/${args.clusterName}/${args.serviceName}`;
    const visible = queueMetric("ApproximateNumberOfMessagesVisible", args.queueName);

    this.target = new aws.appautoscaling.Target(
      `${name}-scaling-target`,
      {
        serviceNamespace: "ecs",
        scalableDimension: SCALABLE_DIMENSION,
        resourceId,
        minCapacity: minCapacity(s),
        maxCapacity: maxTasks(s),
      },
      child,
    );
    const onTarget = { serviceNamespace: "ecs", scalableDimension: SCALABLE_DIMENSION, resourceId };

    this.backlogPolicy = new aws.appautoscaling.Policy(
      `${name}-backlog-scaling`,
      {
        name: `${s.serviceName}-backlog-per-task`,
        policyType: "TargetTrackingScaling",
        ...onTarget,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: targetBacklogPerTask(s),
          scaleOutCooldown: s.scaleOutCooldownSeconds,
          scaleInCooldown: s.scaleInCooldownSeconds,
          customizedMetricSpecification: {
            metrics: pulumi.all([args.clusterName, args.serviceName]).apply(([clusterName, serviceName]) => {
              const running = serviceMetric("RunningTaskCount", clusterName, serviceName);
              const stat = (id: string, label: string, m: typeof visible) => ({
                id,
                label,
                metricStat: {
                  metric: {
                    namespace: m.namespace,
                    metricName: m.metricName,
                    dimensions: Object.entries(m.dimensions).map(([n, value]) => ({ name: n, value })),
                  },
                  stat: "Average",
                },
                returnData: false,
              });
              return [
                stat(METRIC_MATH.visibleId, "Messages visible", visible),
                stat(METRIC_MATH.runningId, "Running tasks", running),
                {
                  id: "backlog",
                  label: "Backlog per task",
                  expression: METRIC_MATH.backlogPerTask,
                  returnData: true,
                },
              ];
            }),
          },
        },
      },
      { parent: this, dependsOn: [this.target] },
    );

    if (s.scaleToZero) {
      this.wakePolicy = new aws.appautoscaling.Policy(
        `${name}-wake-scaling`,
        {
          name: `${s.serviceName}-wake-from-zero`,
          policyType: "StepScaling",
          ...onTarget,
          stepScalingPolicyConfiguration: {
            adjustmentType: "ExactCapacity",
            cooldown: s.scaleOutCooldownSeconds,
            metricAggregationType: "Maximum",
            stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
          },
        },
        { parent: this, dependsOn: [this.target] },
      );
      this.wakeAlarm = new aws.cloudwatch.MetricAlarm(
        `${name}-wake-alarm`,
        {
          name: `${s.serviceName}-messages-wait-no-task`,
          alarmDescription: "Messages wait and no consumer task runs: set the fleet to one task.",
          comparisonOperator: "GreaterThanOrEqualToThreshold",
          threshold: 1,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          treatMissingData: "notBreaching",
          alarmActions: [this.wakePolicy.arn],
          metricQueries: pulumi
            .all([args.clusterName, args.serviceName])
            .apply(([clusterName, serviceName]) => [
              alarmQuery(METRIC_MATH.visibleId, visible, "Maximum"),
              alarmQuery(
                METRIC_MATH.runningId,
                serviceMetric("RunningTaskCount", clusterName, serviceName),
                "Maximum",
              ),
              {
                id: "wake",
                label: "No task while messages wait",
                expression: METRIC_MATH.wake,
                returnData: true,
              },
            ]),
        },
        child,
      );
    }
    this.registerOutputs({});
  }
}

/** One metric of an alarm's metric math, one-minute period. */
export function alarmQuery(
  id: string,
  metric: { namespace: string; metricName: string; dimensions: Record<string, string> },
  stat: string,
) {
  return {
    id,
    returnData: false,
    metric: {
      namespace: metric.namespace,
      metricName: metric.metricName,
      dimensions: metric.dimensions,
      period: 60,
      stat,
    },
  };
}
