/**
 * The fleet's alarms (alarms.ts) under Pulumi mocks: the topic, and the dead-letter, latency, running-
 * task, paused and handler-failure alarms with their exact metric math.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  HANDLER_FAILURE_EXPRESSION,
  HANDLER_FAILURE_MINUTES,
  HANDLER_FAILURE_PERCENT,
} from "../../infra-pulumi/service/alarms.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import { EMF_DIMENSION, EMF_METRICS, EMF_NAMESPACE } from "../../src/contract/metrics.js";
import { ACCOUNT, installMocks } from "../support/pulumi-mocks.js";
import { prodLikeConfig, SERVICE_REGION } from "../support/service-config.js";
import { prodLikeFleet } from "../support/service-fleet.js";

const resources = installMocks({});
/** The fleet's settings and the mail quota it shares (settings `email`). */
const s = { ...settings.service, ...settings.email };
const prod = prodLikeFleet(resources);
const { find } = prod;

describe("the fleet's alarms (mocks)", () => {
  const runbookHeadings = [
    ...readFileSync(join(projectRoot, "docs", "runbooks.md"), "utf8").matchAll(/^## ([a-z-]+)$/gm),
  ].map((m) => m[1]);
  const topicArn = `arn:aws:sns:${SERVICE_REGION}:${ACCOUNT}:${settings.service.serviceName}-alarms`;

  it("notifies one SNS topic, with the configured email subscribed", () => {
    expect(find("alarm-topic").inputs).toEqual({ name: `${s.serviceName}-alarms` });
    expect(find("alarm-email").inputs).toEqual({
      topic: topicArn,
      protocol: "email",
      endpoint: prodLikeConfig.alarmEmail,
    });
    for (const alarm of ["dlq-alarm", "age-alarm", "running-alarm", "paused-alarm", "failures-alarm"]) {
      expect(find(alarm).inputs.alarmActions, alarm).toEqual([topicArn]);
      expect(find(alarm).inputs.okActions, alarm).toEqual([topicArn]);
      expect(find(alarm).inputs.alarmDescription, alarm).toMatch(/Runbook: docs\/runbooks\.md#[a-z-]+$/);
      // The anchor is a section of the page (a heading of that name).
      const anchor = /#([a-z-]+)$/.exec(find(alarm).inputs.alarmDescription)?.[1];
      expect(runbookHeadings, alarm).toContain(anchor);
    }
  });

  it("fires on a dead letter, on an oldest message above the latency goal, on running < desired, and on a paused consumer", () => {
    expect(find("dlq-alarm").inputs).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: { QueueName: settings.queues.deadLetterQueueName },
      statistic: "Maximum",
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });
    expect(find("age-alarm").inputs).toMatchObject({
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: settings.queues.queueName },
      threshold: s.latencyGoalSeconds,
      comparisonOperator: "GreaterThanThreshold",
    });
    const running = find("running-alarm").inputs;
    expect(running).toMatchObject({ threshold: 0, comparisonOperator: "GreaterThanThreshold" });
    expect(running.metricQueries.map((q: { id: string }) => q.id)).toEqual(["desired", "running", "missing"]);
    expect(running.metricQueries[2].expression).toBe("FILL(desired, 0) - FILL(running, 0)");
    expect(running.metricQueries[0].metric).toMatchObject({
      namespace: "ECS/ContainerInsights",
      metricName: "DesiredTaskCount",
    });
    expect(find("paused-alarm").inputs).toMatchObject({
      namespace: EMF_NAMESPACE,
      metricName: EMF_METRICS.paused,
      dimensions: { [EMF_DIMENSION]: settings.queues.queueName },
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  });

  it("fires when the handler fails a share of the messages it handles, read from the consumer's EMF metrics", () => {
    const failures = find("failures-alarm").inputs;
    expect(failures).toMatchObject({
      name: `${s.serviceName}-handler-failures`,
      threshold: HANDLER_FAILURE_PERCENT,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      evaluationPeriods: HANDLER_FAILURE_MINUTES,
      datapointsToAlarm: HANDLER_FAILURE_MINUTES,
      treatMissingData: "notBreaching",
    });
    const queries = failures.metricQueries as {
      id: string;
      expression?: string;
      returnData: boolean;
      metric?: { namespace: string; metricName: string; dimensions: Record<string, string>; stat: string };
    }[];
    const metric = (id: string) => queries.find((q) => q.id === id)?.metric;
    for (const [id, name] of [
      ["failed", EMF_METRICS.failed],
      ["processed", EMF_METRICS.processed],
    ] as const) {
      expect(metric(id), id).toMatchObject({
        namespace: EMF_NAMESPACE,
        metricName: name,
        dimensions: { [EMF_DIMENSION]: settings.queues.queueName },
        stat: "Sum",
      });
    }
    const returned = queries.filter((q) => q.returnData);
    expect(returned.map((q) => q.expression)).toEqual([HANDLER_FAILURE_EXPRESSION]);
  });
});
