/**
 * The fleet's autoscaling (autoscaling.ts, sizing.ts) under Pulumi mocks: the task range, the backlog-per-
 * task tracking, and the wake policy only with scale-to-zero.
 */
import { describe, expect, it } from "vitest";
import { maxTasks, targetBacklogPerTask } from "../../infra-pulumi/service/sizing.js";
import { settings } from "../../src/config/settings.js";
import { installMocks, resolvedValue } from "../support/pulumi-mocks.js";
import {
  digestKeySecretArn as digestKeySecret,
  smtpScaleToZeroConfig,
  smtpSecretArn as smtpSecret,
} from "../support/service-config.js";
import { build, prodLikeFleet, recordedOf, settle } from "../support/service-fleet.js";

const resources = installMocks({});
/** The fleet's settings and the mail quota it shares (settings `email`). */
const s = { ...settings.service, ...settings.email };
const prod = prodLikeFleet(resources);
const { find } = prod;

describe("the fleet's autoscaling (mocks)", () => {
  const resourceId = `service/${settings.service.clusterName}/${settings.service.serviceName}`;

  it("scales between minTasks and the quota's maximum, derived from the settings' numbers", () => {
    expect(maxTasks(s)).toBe(settings.email.maxConsumerTasks);
    expect(find("scaling-target").inputs).toEqual({
      serviceNamespace: "ecs",
      scalableDimension: "ecs:service:DesiredCount",
      resourceId,
      minCapacity: s.minTasks,
      maxCapacity: maxTasks(s),
    });
  });

  it("tracks messages visible per running task, at the latency goal ÷ seconds per message", () => {
    const policy = find("backlog-scaling").inputs;
    expect(policy).toMatchObject({
      policyType: "TargetTrackingScaling",
      resourceId,
      serviceNamespace: "ecs",
    });
    expect(targetBacklogPerTask(s)).toBe(
      (s.latencyGoalSeconds * s.accountSendRatePerSecond) / s.maxConsumerTasks,
    );
    expect(policy.targetTrackingScalingPolicyConfiguration).toEqual({
      targetValue: targetBacklogPerTask(s),
      scaleOutCooldown: s.scaleOutCooldownSeconds,
      scaleInCooldown: s.scaleInCooldownSeconds,
      customizedMetricSpecification: {
        metrics: [
          {
            id: "m1",
            label: "Messages visible",
            metricStat: {
              metric: {
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                dimensions: [{ name: "QueueName", value: settings.queues.queueName }],
              },
              stat: "Average",
            },
            returnData: false,
          },
          {
            id: "m2",
            label: "Running tasks",
            metricStat: {
              metric: {
                namespace: "ECS/ContainerInsights",
                metricName: "RunningTaskCount",
                dimensions: [
                  { name: "ClusterName", value: s.clusterName },
                  { name: "ServiceName", value: s.serviceName },
                ],
              },
              stat: "Average",
            },
            returnData: false,
          },
          { id: "backlog", label: "Backlog per task", expression: "m1 / m2", returnData: true },
        ],
      },
    });
  });

  it("has no wake policy unless scale-to-zero is on", () => {
    expect(prod.infra.fleet?.autoscaling.wakePolicy).toBeUndefined();
    expect(prod.infra.fleet?.autoscaling.wakeAlarm).toBeUndefined();
    expect(resources.filter((r) => r.name.startsWith("prod-wake"))).toEqual([]);
  });

  it("with scale-to-zero: minimum 0, initial count 0, and a step policy that wakes one task when messages wait and none runs", async () => {
    const zero = build(smtpScaleToZeroConfig, "zero");
    await settle(zero);
    const get = recordedOf(resources)("zero");
    expect(get("scaling-target").inputs).toMatchObject({ minCapacity: 0, maxCapacity: maxTasks(s) });
    expect(get("service").inputs.desiredCount).toBe(0);
    expect(get("wake-scaling").inputs).toMatchObject({
      policyType: "StepScaling",
      resourceId,
      stepScalingPolicyConfiguration: {
        adjustmentType: "ExactCapacity",
        metricAggregationType: "Maximum",
        stepAdjustments: [{ metricIntervalLowerBound: "0", scalingAdjustment: 1 }],
      },
    });
    const alarm = get("wake-alarm").inputs;
    expect(alarm).toMatchObject({
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: "notBreaching",
    });
    expect(alarm.alarmActions).toEqual([await resolvedValue(zero.fleet?.autoscaling.wakePolicy?.arn)]);
    expect(alarm.metricQueries).toEqual([
      {
        id: "m1",
        returnData: false,
        metric: {
          namespace: "AWS/SQS",
          metricName: "ApproximateNumberOfMessagesVisible",
          dimensions: { QueueName: settings.queues.queueName },
          period: 60,
          stat: "Maximum",
        },
      },
      {
        id: "m2",
        returnData: false,
        metric: {
          namespace: "ECS/ContainerInsights",
          metricName: "RunningTaskCount",
          dimensions: { ClusterName: s.clusterName, ServiceName: s.serviceName },
          period: 60,
          stat: "Maximum",
        },
      },
      {
        id: "wake",
        label: "No task while messages wait",
        expression: "IF(FILL(m2, 0) == 0 AND m1 > 0, 1, 0)",
        returnData: true,
      },
    ]);
    // The smtp variant: its secret reaches the container and the execution role, ses does not.
    const [container] = JSON.parse(get("task").inputs.containerDefinitions);
    expect(container.secrets).toEqual([
      { name: "REGISTRATION_DIGEST_KEY", valueFrom: digestKeySecret },
      { name: "SMTP_URL", valueFrom: smtpSecret },
    ]);
    const execution = JSON.parse(get("execution-policy").inputs.policy);
    expect(execution.Statement.find((st: { Sid: string }) => st.Sid === "ReadParameters")).toEqual({
      Sid: "ReadParameters",
      Effect: "Allow",
      Action: ["ssm:GetParameters"],
      Resource: [smtpSecret],
    });
    const task = JSON.parse(get("task-policy").inputs.policy);
    expect(JSON.stringify(task)).not.toContain("ses:");
    expect(get("service").inputs.networkConfiguration.assignPublicIp).toBe(true);
    // No alarm email configured: the topic has no subscription.
    expect(zero.fleet?.alarms?.emailSubscription).toBeUndefined();
  });
});
