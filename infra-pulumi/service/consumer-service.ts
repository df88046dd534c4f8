/**
 * The consumer as a service on ECS Fargate: its image repository, a cluster, a log
 * group, a task role and an execution role, the task definition, and the service.
 *
 * - Repository: immutable tags (a tag names one image forever), scan on push, the newest
 *   `imagesToKeep` images kept (room to roll back), and the task pins the image by digest.
 * - Cluster: Container Insights on, because the autoscaling reads RunningTaskCount from it. It
 *   costs money: CloudWatch bills its metrics as custom metrics (about 20 for one cluster with one
 *   service, ≈ $6 a month at $0.30 each) plus its performance log events (≈ $0.50 per GB ingested);
 *   docs/fleet-sizing.md.
 * - Task: ARM64 (Graviton, ~20 % cheaper than x86 on Fargate), non-root, read-only root
 *   filesystem with one scratch volume, stopTimeout (settings) above the consumer's shutdown
 *   deadline, awslogs with a retention, a /healthz container health check, secrets from
 *   Secrets Manager / SSM, the queue and table from this stack's own resources (and, with the ses
 *   mailer and the mail part, its configuration set and bounce queue).
 * - Service: a deployment circuit breaker that rolls back a deployment whose tasks never get
 *   healthy, and deployment alarms (with the alarms on) that roll back one whose tasks run but
 *   dead-letter or fail messages; its desired count belongs to the autoscaling after creation
 *   (`ignoreChanges`).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { ServiceConfig } from "./config.js";
import { containerDefinitions, SCRATCH_VOLUME } from "./container.js";
import { ecsTasksTrustPolicy, executionPolicy, taskPolicy } from "./policies.js";
import { minCapacity, taskSendRate } from "./sizing.js";

export interface ConsumerServiceArgs {
  readonly settings: ServiceConfig;
  readonly region: string;
  readonly queueUrl: pulumi.Input<string>;
  readonly queueArn: pulumi.Input<string>;
  readonly deadLetterQueueArn: pulumi.Input<string>;
  readonly tableName: pulumi.Input<string>;
  readonly tableArn: pulumi.Input<string>;
  readonly kmsKeyArn?: string | undefined;
  /** The stack's mail part (email.ts), when the fleet sends through SES with it. */
  readonly mail?: FleetMail | undefined;
  /** Alarms whose ALARM during a deployment rolls it back (alarms.ts); none without alarms. */
  readonly deploymentAlarmNames?: pulumi.Input<string>[] | undefined;
}

/** What the tasks need of the stack's mail part: send through it, consume its bounce pair. */
export interface FleetMail {
  readonly identityArn: pulumi.Input<string>;
  readonly configurationSetArn: pulumi.Input<string>;
  readonly configurationSetName: pulumi.Input<string>;
  readonly bounceQueueUrl: pulumi.Input<string>;
  readonly bounceQueueArn: pulumi.Input<string>;
  readonly bounceDeadLetterQueueArn: pulumi.Input<string>;
}

/** The lifecycle policy of the repository: expire all but the newest `keep` images. */
export function repositoryLifecyclePolicy(keep: number) {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Keep the newest ${keep} images (room to roll back); expire the rest.`,
        selection: { tagStatus: "any", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  };
}

export class ConsumerService extends pulumi.ComponentResource {
  readonly repository: aws.ecr.Repository;
  readonly lifecyclePolicy: aws.ecr.LifecyclePolicy;
  readonly cluster: aws.ecs.Cluster;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly taskRole: aws.iam.Role;
  readonly taskRolePolicy: aws.iam.RolePolicy;
  readonly executionRole: aws.iam.Role;
  readonly executionRolePolicy: aws.iam.RolePolicy;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly service: aws.ecs.Service;

  constructor(name: string, args: ConsumerServiceArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:ConsumerService", name, {}, options);
    const child = { parent: this };
    const s = args.settings;

    this.repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: s.repositoryName,
        imageTagMutability: "IMMUTABLE",
        imageScanningConfiguration: { scanOnPush: true },
      },
      child,
    );
    this.lifecyclePolicy = new aws.ecr.LifecyclePolicy(
      `${name}-repository-lifecycle`,
      { repository: this.repository.name, policy: JSON.stringify(repositoryLifecyclePolicy(s.imagesToKeep)) },
      child,
    );
    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      {
        name: s.clusterName,
        settings: [{ name: "containerInsights", value: s.containerInsights ? "enabled" : "disabled" }],
      },
      child,
    );
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/ecs/${s.serviceName}`, retentionInDays: s.logRetentionDays },
      child,
    );

    // Unwrapped once: the task policy and the container's environment both read it.
    const mail = args.mail ? pulumi.output(args.mail) : pulumi.output(undefined);
    const trust = JSON.stringify(ecsTasksTrustPolicy());
    this.taskRole = new aws.iam.Role(
      `${name}-task-role`,
      { assumeRolePolicy: trust, description: "The consumer tasks' own calls: queue, table, mail." },
      child,
    );
    this.taskRolePolicy = new aws.iam.RolePolicy(
      `${name}-task-policy`,
      {
        name: "consume-registrations",
        role: this.taskRole.name,
        policy: pulumi
          .all([args.queueArn, args.deadLetterQueueArn, args.tableArn, mail])
          .apply(([queueArn, deadLetterQueueArn, tableArn, mailArns]) =>
            JSON.stringify(
              taskPolicy({
                queueArn,
                deadLetterQueueArn,
                tableArn,
                kmsKeyArn: args.kmsKeyArn,
                sesIdentityArn: s.sesIdentityArn,
                mail: mailArns,
              }),
            ),
          ),
      },
      child,
    );
    this.executionRole = new aws.iam.Role(
      `${name}-execution-role`,
      { assumeRolePolicy: trust, description: "The ECS agent for the consumer tasks: image, logs, secrets." },
      child,
    );
    const secretArns = [s.digestKeySecretArn, ...(s.mailSecretArn ? [s.mailSecretArn] : [])];
    this.executionRolePolicy = new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      {
        name: "start-consumer-tasks",
        role: this.executionRole.name,
        policy: pulumi
          .all([this.repository.arn, this.logGroup.arn])
          .apply(([repositoryArn, logGroupArn]) =>
            JSON.stringify(executionPolicy({ repositoryArn, logGroupArn, secretArns })),
          ),
      },
      child,
    );

    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: s.serviceName,
        cpu: String(s.taskCpu),
        memory: String(s.taskMemoryMib),
        networkMode: "awsvpc",
        requiresCompatibilities: ["FARGATE"],
        runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" },
        executionRoleArn: this.executionRole.arn,
        taskRoleArn: this.taskRole.arn,
        volumes: [{ name: SCRATCH_VOLUME }],
        containerDefinitions: pulumi
          .all([args.queueUrl, args.tableName, this.logGroup.name, mail])
          .apply(([queueUrl, tableName, logGroupName, mailArns]) =>
            JSON.stringify(
              containerDefinitions({
                image: s.image,
                region: args.region,
                queueUrl,
                tableName,
                logGroupName,
                mailer: s.serviceMailer,
                mailFrom: s.mailFrom,
                mailRatePerSecond: taskSendRate(s),
                healthCheckPort: s.healthCheckPort,
                stopTimeoutSeconds: s.stopTimeoutSeconds,
                digestKeySecretArn: s.digestKeySecretArn,
                mailSecretArn: s.mailSecretArn,
                sesConfigurationSet: mailArns?.configurationSetName,
                bounceQueueUrl: mailArns?.bounceQueueUrl,
              }),
            ),
          ),
      },
      child,
    );

    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: s.serviceName,
        cluster: this.cluster.arn,
        taskDefinition: this.taskDefinition.arn,
        launchType: "FARGATE",
        desiredCount: minCapacity(s),
        deploymentCircuitBreaker: { enable: true, rollback: true },
        ...(args.deploymentAlarmNames
          ? { alarms: { alarmNames: args.deploymentAlarmNames, enable: true, rollback: true } }
          : {}),
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        networkConfiguration: {
          subnets: [...s.subnetIds],
          securityGroups: [...s.securityGroupIds],
          assignPublicIp: s.assignPublicIp,
        },
      },
      {
        parent: this,
        // The autoscaling owns the task count once the service exists: a deployment must not
        // reset it to the initial value (and drop a scaled-out fleet to one task mid-backlog).
        ignoreChanges: ["desiredCount"],
        // The agent needs its permissions before the first task starts.
        dependsOn: [this.executionRolePolicy, this.taskRolePolicy],
      },
    );

    this.registerOutputs({
      repositoryUrl: this.repository.repositoryUrl,
      clusterName: this.cluster.name,
      serviceName: this.service.name,
    });
  }
}
