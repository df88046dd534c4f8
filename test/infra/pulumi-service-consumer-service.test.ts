/**
 * The consumer fleet's service, task definition, image repository and logs (consumer-service.ts,
 * container.ts), and the outputs it adds (index.ts), under Pulumi mocks with a prod-like stack.
 */
import { describe, expect, it } from "vitest";
import { IMAGE_KEY } from "../../infra-pulumi/service/config.js";
import { settings } from "../../src/config/settings.js";
import { type StackOutputs, stackOutputsSchema } from "../../src/stack/outputs.js";
import { ACCOUNT, installMocks, registered, resolvedValue } from "../support/pulumi-mocks.js";
import {
  digestKeySecretArn as digestKeySecret,
  prodLikeConfig,
  SERVICE_REGION,
  serviceImage,
} from "../support/service-config.js";
import { build, prodLikeFleet, recordedOf, settle } from "../support/service-fleet.js";

const resources = installMocks({});
const region = SERVICE_REGION;
/** The fleet's settings and the mail quota it shares (settings `email`). */
const s = { ...settings.service, ...settings.email };
const image = serviceImage();
const prod = prodLikeFleet(resources);
const { find } = prod;

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
      prod.infra.fleet?.service.repository,
      prod.infra.fleet?.autoscaling.target,
      prod.infra.fleet?.alarms?.topic,
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
      MAIL_FROM: prodLikeConfig.serviceMailFrom,
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
        subnets: prodLikeConfig.serviceSubnetIds,
        securityGroups: prodLikeConfig.serviceSecurityGroupIds,
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
    const infra = build({ ...prodLikeConfig, createAlarms: false }, "noalarms");
    await settle(infra);
    expect(infra.fleet?.alarms).toBeUndefined();
    const service = recordedOf(resources)("noalarms")("service").inputs;
    expect(service.alarms).toBeUndefined();
    expect(service.deploymentCircuitBreaker).toEqual({ enable: true, rollback: true });
  });
});

describe("the fleet's outputs and the stacks without it", () => {
  it("adds the cluster, service, repository URL, deployed image and alarm topic to the shared outputs type", async () => {
    const values: Record<string, unknown> = {};
    for (const [name, output] of Object.entries(prod.infra.outputs)) {
      const value = await resolvedValue<unknown>(output);
      if (value !== undefined) values[name] = value;
    }
    const outputs: StackOutputs = stackOutputsSchema.parse(values);
    expect(outputs).toMatchObject({
      clusterName: s.clusterName,
      serviceName: s.serviceName,
      repositoryUrl: `${ACCOUNT}.dkr.ecr.${SERVICE_REGION}.amazonaws.com/${s.repositoryName}`,
      // The image key's value, as the task definition runs it.
      serviceImage: prodLikeConfig[IMAGE_KEY],
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
