/**
 * The consumer fleet under Pulumi mocks, with a prod-like configuration: the resource
 * graph and parents, the task definition, the IAM documents, the exact metric math, the wake
 * policy only with scale-to-zero, the alarms, the ignored desired count, and the outputs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure, type Infrastructure } from "../../infra-pulumi/program.js";
import {
  HANDLER_FAILURE_EXPRESSION,
  HANDLER_FAILURE_MINUTES,
  HANDLER_FAILURE_PERCENT,
} from "../../infra-pulumi/service/alarms.js";
import { IMAGE_KEY } from "../../infra-pulumi/service/config.js";
import { maxTasks, targetBacklogPerTask } from "../../infra-pulumi/service/sizing.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import { EMF_DIMENSION, EMF_METRICS, EMF_NAMESPACE } from "../../src/observability/emf.js";
import { type StackOutputs, stackOutputsSchema } from "../../src/stack/outputs.js";
import {
  ACCOUNT,
  installMocks,
  type RecordedResource,
  registered,
  resolvedValue,
  setStackConfig,
} from "../support/pulumi-mocks.js";
import {
  digestKeySecretArn as digestKeySecret,
  fleetWithMailConfig,
  prodLikeConfig,
  SERVICE_REGION,
  serviceImage,
  sesIdentityArn as sesIdentity,
  smtpScaleToZeroConfig,
  smtpSecretArn as smtpSecret,
} from "../support/service-config.js";

const resources = installMocks({});
const region = SERVICE_REGION;
/** The fleet's settings and the mail quota it shares (settings `email`). */
const s = { ...settings.service, ...settings.email };
const image = serviceImage();
const prodLike = prodLikeConfig;

function build(config: Record<string, unknown>, name: string): Infrastructure {
  setStackConfig(config);
  return createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
}

/** Waits for every resource of a fleet (and the queue pair under it) to register. */
async function settle(infra: Infrastructure): Promise<void> {
  const f = infra.fleet;
  await registered(
    infra.queues.queue,
    infra.table?.table,
    f?.service.repository,
    f?.service.lifecyclePolicy,
    f?.service.cluster,
    f?.service.logGroup,
    f?.service.taskRole,
    f?.service.taskRolePolicy,
    f?.service.executionRole,
    f?.service.executionRolePolicy,
    f?.service.taskDefinition,
    f?.service.service,
    f?.autoscaling.target,
    f?.autoscaling.backlogPolicy,
    f?.autoscaling.wakePolicy,
    f?.autoscaling.wakeAlarm,
    f?.alarms?.topic,
    f?.alarms?.emailSubscription,
    f?.alarms?.deadLetters,
    f?.alarms?.oldestMessage,
    f?.alarms?.runningBelowDesired,
    f?.alarms?.consumerPaused,
    f?.alarms?.handlerFailures,
  );
}

const of =
  (name: string) =>
  (suffix: string): RecordedResource => {
    const found = resources.find((r) => r.name === `${name}-${suffix}`);
    if (!found) throw new Error(`no ${name}-${suffix}; have ${resources.map((r) => r.name).join(", ")}`);
    return found;
  };

let prod: Infrastructure;
const find = of("prod");

beforeAll(async () => {
  prod = build(prodLike, "prod");
  await settle(prod);
});

describe("the consumer fleet (mocks, prod-like stack)", () => {
  it("declares every resource of the fleet, each inside its component", async () => {
    const fleet = resources
      .filter((r) => r.name.startsWith("prod") && !/QueuePair|QueueAccess|SentEmailsTable/.test(r.type))
      .filter((r) => !/aws:(sqs|iam\/policy:|iam\/rolePolicyAttachment|dynamodb)/.test(r.type))
      .filter((r) => !/-(producer|consumer|operator)(-role)?$/.test(r.name))
      .map((r) => `${r.type} ${r.name}`)
      .sort();
    expect(fleet).toEqual(
      [
        "pulumi:providers:aws prod-aws",
        "sqs-messaging:index:ConsumerService prod",
        "aws:ecr/repository:Repository prod-repository",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy prod-repository-lifecycle",
        "aws:ecs/cluster:Cluster prod-cluster",
        "aws:cloudwatch/logGroup:LogGroup prod-logs",
        "aws:iam/role:Role prod-task-role",
        "aws:iam/rolePolicy:RolePolicy prod-task-policy",
        "aws:iam/role:Role prod-execution-role",
        "aws:iam/rolePolicy:RolePolicy prod-execution-policy",
        "aws:ecs/taskDefinition:TaskDefinition prod-task",
        "aws:ecs/service:Service prod-service",
        "sqs-messaging:index:ConsumerAutoscaling prod",
        "aws:appautoscaling/target:Target prod-scaling-target",
        "aws:appautoscaling/policy:Policy prod-backlog-scaling",
        "sqs-messaging:index:ConsumerAlarms prod",
        "aws:sns/topic:Topic prod-alarm-topic",
        "aws:sns/topicSubscription:TopicSubscription prod-alarm-email",
        "aws:cloudwatch/metricAlarm:MetricAlarm prod-dlq-alarm",
        "aws:cloudwatch/metricAlarm:MetricAlarm prod-age-alarm",
        "aws:cloudwatch/metricAlarm:MetricAlarm prod-running-alarm",
        "aws:cloudwatch/metricAlarm:MetricAlarm prod-paused-alarm",
        "aws:cloudwatch/metricAlarm:MetricAlarm prod-failures-alarm",
      ].sort(),
    );
    const [repository, target, topic] = await registered(
      prod.fleet?.service.repository,
      prod.fleet?.autoscaling.target,
      prod.fleet?.alarms?.topic,
    );
    expect(repository).toContain(
      "::sqs-messaging:index:ConsumerService$aws:ecr/repository:Repository::prod-repository",
    );
    expect(target).toContain(
      "::sqs-messaging:index:ConsumerAutoscaling$aws:appautoscaling/target:Target::prod-scaling-target",
    );
    expect(topic).toContain("::sqs-messaging:index:ConsumerAlarms$aws:sns/topic:Topic::prod-alarm-topic");
    for (const r of resources.filter((r) => r.name.startsWith("prod-") && r.type.startsWith("aws:"))) {
      expect(r.provider, r.name).toMatch(/::pulumi:providers:aws::prod-aws::/);
    }
  });

  it("keeps a repository of immutable, scanned images and expires all but the newest N", () => {
    expect(find("repository").inputs).toEqual({
      name: s.repositoryName,
      imageTagMutability: "IMMUTABLE",
      imageScanningConfiguration: { scanOnPush: true },
    });
    const lifecycle = find("repository-lifecycle").inputs;
    expect(lifecycle.repository).toBe(s.repositoryName);
    expect(JSON.parse(lifecycle.policy).rules).toEqual([
      expect.objectContaining({
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: s.imagesToKeep },
        action: { type: "expire" },
      }),
    ]);
  });

  it("turns Container Insights on and keeps the logs for the configured days", () => {
    expect(find("cluster").inputs.settings).toEqual([{ name: "containerInsights", value: "enabled" }]);
    expect(find("logs").inputs).toEqual({
      name: `/ecs/${s.serviceName}`,
      retentionInDays: s.logRetentionDays,
    });
  });

  it("defines an ARM64 Fargate task: non-root, read-only root, scratch volume, stop timeout, health check", () => {
    const task = find("task").inputs;
    expect(task).toMatchObject({
      family: s.serviceName,
      cpu: String(s.taskCpu),
      memory: String(s.taskMemoryMib),
      networkMode: "awsvpc",
      requiresCompatibilities: ["FARGATE"],
      runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
      executionRoleArn: `arn:aws:iam::${ACCOUNT}:role/prod-execution-role`,
      taskRoleArn: `arn:aws:iam::${ACCOUNT}:role/prod-task-role`,
      volumes: [{ name: "scratch" }],
    });
    const [container, ...others] = JSON.parse(task.containerDefinitions);
    expect(others).toEqual([]);
    expect(container).toMatchObject({
      image,
      essential: true,
      user: "1000:1000",
      readonlyRootFilesystem: true,
      stopTimeout: s.stopTimeoutSeconds,
      mountPoints: [{ sourceVolume: "scratch", containerPath: "/tmp", readOnly: false }],
      healthCheck: { interval: 30, timeout: 5, retries: 3 },
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": `/ecs/${s.serviceName}`,
          "awslogs-region": region,
          "awslogs-stream-prefix": "consumer",
        },
      },
    });
    expect(container.user).not.toMatch(/^(root|0)(:|$)/);
    expect(container.healthCheck.command.join(" ")).toContain(
      `http://127.0.0.1:${s.healthCheckPort}/healthz`,
    );
  });

  it("passes the queue and table of this stack, the mailer and its rate, and the secrets by ARN only", () => {
    const [container] = JSON.parse(find("task").inputs.containerDefinitions);
    const env = Object.fromEntries(
      container.environment.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    expect(env).toEqual({
      AWS_REGION: region,
      HEALTH_HOST: "127.0.0.1",
      HEALTH_PORT: String(s.healthCheckPort),
      MAILER: "ses",
      MAIL_FROM: prodLike.serviceMailFrom,
      MAIL_RATE_PER_SECOND: String(s.accountSendRatePerSecond / s.maxConsumerTasks),
      METRICS_EMF: "1",
      SENT_EMAILS_TABLE_NAME: settings.table.sentEmailsTableName,
      SENT_EMAIL_STORE: "dynamodb",
      SQS_QUEUE_URL: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${settings.queues.queueName}`,
      SQS_STATE_DIR: "/tmp/sqs-messaging",
    });
    expect(env.MAILER).not.toBe("outbox");
    expect(container.secrets).toEqual([{ name: "REGISTRATION_DIGEST_KEY", valueFrom: digestKeySecret }]);
  });

  it("runs the service on Fargate with a rolling-back circuit breaker, the configured network, and leaves the count to autoscaling", () => {
    const service = find("service");
    expect(service.inputs).toMatchObject({
      name: s.serviceName,
      cluster: `arn:aws:ecs:${region}:${ACCOUNT}:cluster/${s.clusterName}`,
      taskDefinition: `arn:aws:ecs:${region}:${ACCOUNT}:task-definition/${s.serviceName}:1`,
      launchType: "FARGATE",
      desiredCount: s.minTasks,
      deploymentCircuitBreaker: { enable: true, rollback: true },
      networkConfiguration: {
        subnets: prodLike.serviceSubnetIds,
        securityGroups: prodLike.serviceSecurityGroupIds,
        assignPublicIp: s.assignPublicIp,
      },
    });
    // A resource option: as the engine received it.
    expect(service.ignoreChanges).toEqual(["desiredCount"]);
  });

  it("rolls a deployment back on the dead-letter and handler-failure alarms, by the names those alarms have", () => {
    const alarms = find("service").inputs.alarms;
    expect(alarms).toMatchObject({ enable: true, rollback: true });
    expect(alarms.alarmNames).toEqual([find("dlq-alarm").inputs.name, find("failures-alarm").inputs.name]);
    expect(alarms.alarmNames).toEqual([`${s.serviceName}-dead-letters`, `${s.serviceName}-handler-failures`]);
  });

  it("has no deployment alarms when the alarms are off (only the circuit breaker)", async () => {
    const infra = build({ ...prodLike, createAlarms: false }, "noalarms");
    await settle(infra);
    expect(infra.fleet?.alarms).toBeUndefined();
    const service = of("noalarms")("service").inputs;
    expect(service.alarms).toBeUndefined();
    expect(service.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
  });
});

const queueArn = `arn:aws:sqs:${SERVICE_REGION}:${ACCOUNT}:${settings.queues.queueName}`;
const dlqArn = `arn:aws:sqs:${SERVICE_REGION}:${ACCOUNT}:${settings.queues.deadLetterQueueName}`;
const tableArn = `arn:aws:dynamodb:${SERVICE_REGION}:${ACCOUNT}:table/${settings.table.sentEmailsTableName}`;
const logGroupArn = `arn:aws:logs:${SERVICE_REGION}:${ACCOUNT}:log-group:/ecs/${settings.service.serviceName}`;

describe("the fleet's IAM (mocks)", () => {
  it("lets only ECS tasks assume the task and execution roles", () => {
    for (const role of ["task-role", "execution-role"]) {
      expect(JSON.parse(find(role).inputs.assumeRolePolicy)).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EcsTasksAssume",
            Effect: "Allow",
            Principal: { Service: "ecs-tasks.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      });
    }
  });

  it("gives the task role exactly the consumer's queue, table and mail actions", () => {
    expect(find("task-policy").inputs.role).toBe("prod-task-role");
    expect(JSON.parse(find("task-policy").inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ConsumeRegistrations",
          Effect: "Allow",
          Action: [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
          ],
          Resource: [queueArn],
        },
        {
          Sid: "DeadLetterPoisonMessages",
          Effect: "Allow",
          Action: ["sqs:GetQueueUrl", "sqs:SendMessage"],
          Resource: [dlqArn],
        },
        {
          Sid: "RecordSentEmails",
          Effect: "Allow",
          Action: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          Resource: [tableArn],
        },
        { Sid: "SendWelcomeEmails", Effect: "Allow", Action: ["ses:SendEmail"], Resource: [sesIdentity] },
      ],
    });
  });

  it("gives the execution role image pull from its repository, log writes to its group, and its secret", () => {
    expect(find("execution-policy").inputs.role).toBe("prod-execution-role");
    expect(JSON.parse(find("execution-policy").inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PullImage",
          Effect: "Allow",
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          Resource: [`arn:aws:ecr:${SERVICE_REGION}:${ACCOUNT}:repository/${s.repositoryName}`],
        },
        { Sid: "RegistryToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
        {
          Sid: "CreateLogStreams",
          Effect: "Allow",
          Action: ["logs:CreateLogStream"],
          Resource: [logGroupArn],
        },
        {
          Sid: "WriteLogs",
          Effect: "Allow",
          Action: ["logs:PutLogEvents"],
          Resource: [`${logGroupArn}:log-stream:consumer/*`],
        },
        {
          Sid: "ReadSecrets",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue"],
          Resource: [digestKeySecret],
        },
      ],
    });
  });

  it("has no wildcard in any Allow but the two AWS forces: the registry token and the task's log streams", () => {
    const documents = ["task-policy", "execution-policy", "task-role", "execution-role"].map((n) => {
      const inputs = find(n).inputs;
      return JSON.parse(inputs.policy ?? inputs.assumeRolePolicy);
    });
    const wildcards: string[] = [];
    for (const statement of documents.flatMap((d) => d.Statement)) {
      expect(statement.Effect).toBe("Allow");
      expect(JSON.stringify(statement.Action)).not.toContain("*");
      expect(JSON.stringify(statement.Principal ?? "")).not.toContain("*");
      if (JSON.stringify(statement.Resource ?? "").includes("*")) wildcards.push(statement.Sid);
    }
    expect(wildcards.sort()).toEqual(["RegistryToken", "WriteLogs"]);
  });
});

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
    expect(prod.fleet?.autoscaling.wakePolicy).toBeUndefined();
    expect(prod.fleet?.autoscaling.wakeAlarm).toBeUndefined();
    expect(resources.filter((r) => r.name.startsWith("prod-wake"))).toEqual([]);
  });

  it("with scale-to-zero: minimum 0, initial count 0, and a step policy that wakes one task when messages wait and none runs", async () => {
    const zero = build(smtpScaleToZeroConfig, "zero");
    await settle(zero);
    const get = of("zero");
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
      endpoint: prodLike.alarmEmail,
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

describe("the fleet's outputs and the stacks without it", () => {
  it("adds the cluster, service, repository URL, deployed image and alarm topic to the shared outputs type", async () => {
    const values: Record<string, unknown> = {};
    for (const [name, output] of Object.entries(prod.outputs)) {
      const value = await resolvedValue<unknown>(output);
      if (value !== undefined) values[name] = value;
    }
    const outputs: StackOutputs = stackOutputsSchema.parse(values);
    expect(outputs).toMatchObject({
      clusterName: s.clusterName,
      serviceName: s.serviceName,
      repositoryUrl: `${ACCOUNT}.dkr.ecr.${SERVICE_REGION}.amazonaws.com/${s.repositoryName}`,
      // The image key's value, as the task definition runs it.
      serviceImage: prodLike[IMAGE_KEY],
      alarmTopicArn: `arn:aws:sns:${SERVICE_REGION}:${ACCOUNT}:${s.serviceName}-alarms`,
    });
    const task = JSON.parse(find("task").inputs.containerDefinitions) as { image: string }[];
    expect(task[0]?.image).toBe(outputs.serviceImage);
  });

  it.each([
    ["the defaults (queue-only account stack)", {}],
    [
      "the local emulator stack",
      { endpoint: "http://127.0.0.1:4566", createAccessPolicies: false, createSentEmailsTable: false },
    ],
  ])("declares no service resource with %s", async (_, config) => {
    const name = `plain${Object.keys(config).length}`;
    const infra = build(config, name);
    await registered(infra.queues.queuePolicy, infra.table?.table);
    expect(infra.fleet).toBeUndefined();
    expect(
      resources.filter(
        (r) => r.name.startsWith(`${name}-`) && /aws:(ecr|ecs|appautoscaling|cloudwatch|sns)/.test(r.type),
      ),
    ).toEqual([]);
    for (const output of [
      "clusterName",
      "serviceName",
      "repositoryUrl",
      "serviceImage",
      "alarmTopicArn",
    ] as const) {
      expect(infra.outputs[output], output).toBeUndefined();
    }
  });
});

describe("the fleet with the stack's mail part (mocks, ses mailer, mailDomain set)", () => {
  const mail = of("fleetmail");
  const e = settings.email;
  const identityArn = `arn:aws:ses:${region}:${ACCOUNT}:identity/example.com`;
  const configurationSetArn = `arn:aws:ses:${region}:${ACCOUNT}:configuration-set/${e.configurationSetName}`;
  const bounceQueueUrl = `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${e.bounceQueueName}`;
  const taskEnv = (find: (suffix: string) => RecordedResource) => {
    const [container] = JSON.parse(find("task").inputs.containerDefinitions);
    return Object.fromEntries(
      container.environment.map((entry: { name: string; value: string }) => [entry.name, entry.value]),
    );
  };

  beforeAll(async () => {
    const infra = build(fleetWithMailConfig, "fleetmail");
    await settle(infra);
    await registered(infra.mail?.identity, infra.mail?.bounceQueues.deadLetterQueue);
  });

  it("lets the task role send as the mail part's identity through its configuration set, and consume its bounce pair", () => {
    const statements = JSON.parse(mail("task-policy").inputs.policy).Statement;
    expect(statements.map((st: { Sid: string }) => st.Sid)).toEqual([
      "ConsumeRegistrations",
      "DeadLetterPoisonMessages",
      "RecordSentEmails",
      "SendWelcomeEmails",
      "ConsumeSesEvents",
      "DeadLetterSesEvents",
    ]);
    expect(statements.slice(3)).toEqual([
      {
        Sid: "SendWelcomeEmails",
        Effect: "Allow",
        // The consumer policy's list (infra-pulumi/policies.ts), on both resources SES checks.
        Action: ["ses:SendEmail", "ses:SendRawEmail"],
        Resource: [identityArn, configurationSetArn],
      },
      {
        Sid: "ConsumeSesEvents",
        Effect: "Allow",
        Action: [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:ReceiveMessage",
        ],
        Resource: [`arn:aws:sqs:${region}:${ACCOUNT}:${e.bounceQueueName}`],
      },
      {
        Sid: "DeadLetterSesEvents",
        Effect: "Allow",
        Action: ["sqs:GetQueueUrl", "sqs:SendMessage"],
        Resource: [`arn:aws:sqs:${region}:${ACCOUNT}:${e.bounceQueueName}-dlq`],
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain('"*"');
  });

  it("tells the task its configuration set and bounce queue, beside the unchanged rest", () => {
    const env = taskEnv(mail);
    expect(env).toMatchObject({
      SES_CONFIGURATION_SET: e.configurationSetName,
      BOUNCE_QUEUE_URL: bounceQueueUrl,
      MAILER: "ses",
    });
    const { SES_CONFIGURATION_SET: _set, BOUNCE_QUEUE_URL: _bounces, ...rest } = env;
    expect(rest).toEqual(taskEnv(find));
  });

  it("leaves a fleet without the mail part as it was: no bounce queue, one identity, no configuration set", () => {
    const env = taskEnv(find);
    expect(env).not.toHaveProperty("BOUNCE_QUEUE_URL");
    expect(env).not.toHaveProperty("SES_CONFIGURATION_SET");
    const policy = JSON.stringify(JSON.parse(find("task-policy").inputs.policy));
    expect(policy).not.toMatch(/SesEvents|configuration-set/);
  });

  it("leaves an smtp fleet beside the mail part without SES in its task", async () => {
    const infra = build({ ...smtpScaleToZeroConfig, mailDomain: "example.com" }, "smtpmail");
    await settle(infra);
    const env = taskEnv(of("smtpmail"));
    expect(env).not.toHaveProperty("BOUNCE_QUEUE_URL");
    expect(env).not.toHaveProperty("SES_CONFIGURATION_SET");
    expect(of("smtpmail")("task-policy").inputs.policy).not.toMatch(/ses:|SesEvents/);
  });
});

describe("the fleet's configuration checks", () => {
  const tagged = `${ACCOUNT}.dkr.ecr.${SERVICE_REGION}.amazonaws.com/${s.repositoryName}:latest`;
  it.each([
    [{ serviceImage: tagged }, `serviceImage "${tagged}" has no digest`],
    [
      { serviceImage: `docker.io/library/node@sha256:${"b".repeat(64)}` },
      "is not in this stack's repository",
    ],
    [{ serviceImage: undefined }, "sqs-messaging:serviceImage is required with the service"],
    [{ serviceSubnetIds: [] }, "sqs-messaging:serviceSubnetIds is required"],
    [{ serviceSecurityGroupIds: ["default"] }, 'serviceSecurityGroupIds[0] "default" is not like sg-'],
    [
      { serviceDigestKeySecretArn: undefined },
      "every task must key digests with the same REGISTRATION_DIGEST_KEY",
    ],
    [{ serviceMailer: "outbox" }, "sqs-messaging:serviceMailer"],
    [{ serviceMailer: "smtp" }, "serviceMailSecretArn is required with serviceMailer smtp"],
    [{ serviceSesIdentityArn: undefined }, "serviceSesIdentityArn is required with serviceMailer ses"],
    [
      { mailDomain: "example.com" },
      'serviceSesIdentityArn is set but sqs-messaging:mailDomain "example.com" gives the stack its own SES identity',
    ],
    [
      { taskMemoryMib: 8192 },
      "taskMemoryMib 8192 does not go with 256 CPU units on Fargate: 512, 1024, 2048",
    ],
    [{ logRetentionDays: 10 }, "logRetentionDays 10 is not one of"],
    [{ minTasks: 5 }, "maxConsumerTasks 4 is fewer than sqs-messaging:minTasks 5"],
    [{ endpoint: "http://127.0.0.1:4566" }, "the emulator has no ECS"],
    [{ createSentEmailsTable: false }, "needs the shared sent-email table"],
    [{ createService: false }, "are set but sqs-messaging:createService is false"],
  ])("rejects %j", (change, message) => {
    const config: Record<string, unknown> = { ...prodLikeConfig, ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete config[key];
    setStackConfig(config);
    expect(() => readInfraConfig(new pulumi.Config("sqs-messaging"))).toThrow(message);
  });
});
