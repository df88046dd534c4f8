import * as pulumi from "@pulumi/pulumi";
import { functionSendRate, perTaskRate } from "../src/config/derived.js";
import type { StackOutputs } from "../src/stack/outputs.js";
import { PULUMI_COMPONENT_NAME } from "../src/stack/resource-pairs.js";
import { adoptionOptions } from "./adoption.js";
import type { InfraConfig } from "./config.js";
import { type DnsRecord, MailDelivery } from "./email.js";
import { createFunctionConsumer, type FunctionConsumer } from "./lambda/index.js";
import { Pipeline } from "./pipeline.js";
import { createProvider } from "./provider.js";
import { QueueAccess } from "./queue-access.js";
import { QueuePair } from "./queue-pair.js";
import { SentEmailsTable } from "./sent-emails-table.js";
import { createFleet, type Fleet } from "./service/index.js";

/** Each stack output as Pulumi exports it: the shared type decides names and optionality. */
// biome-ignore lint/complexity/noBannedTypes: `{}` extends Pick<T, K> exactly when K is optional in T.
type OptionalKeys<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? K : never }[keyof T];
export type PulumiOutputs<T> = { [K in Exclude<keyof T, OptionalKeys<T>>]: pulumi.Output<T[K]> } & {
  [K in OptionalKeys<T>]: pulumi.Output<NonNullable<T[K]>> | undefined;
};

export interface Infrastructure {
  readonly queues: QueuePair;
  readonly access?: QueueAccess;
  readonly table?: SentEmailsTable;
  /** The consumer fleet on ECS, when `createService`. */
  readonly fleet?: Fleet;
  /** The consumer as a Lambda function, when `createFunction`. */
  readonly consumerFunction?: FunctionConsumer;
  readonly mail?: MailDelivery;
  readonly pipeline?: Pipeline;
  readonly outputs: PulumiOutputs<StackOutputs> & {
    producerPolicyArn?: pulumi.Output<string>;
    consumerPolicyArn?: pulumi.Output<string>;
    producerRoleArn?: pulumi.Output<string>;
    consumerRoleArn?: pulumi.Output<string>;
    operatorPolicyArn?: pulumi.Output<string>;
    operatorRoleArn?: pulumi.Output<string>;
    /** For the domain's DNS owner: DKIM CNAMEs, MAIL FROM MX and SPF, DMARC (with SES only). */
    mailDnsRecords?: pulumi.Output<DnsRecord[]>;
    ecrPushRoleArn?: pulumi.Output<string>;
    infraPlanRoleArn?: pulumi.Output<string>;
    infraDeployRoleArn?: pulumi.Output<string>;
  };
}

/** Declares every resource of the stack from a checked configuration. */
export function createInfrastructure(config: InfraConfig, name = PULUMI_COMPONENT_NAME): Infrastructure {
  const provider = createProvider(`${name}-aws`, config);
  // Resources that take over existing ones (npm run infra:adopt) get the import option.
  const adopted = adoptionOptions(config.adopt);
  const queues = new QueuePair(
    name,
    {
      settings: config.queue,
      ...(config.kmsKeyArn ? { kmsKeyArn: config.kmsKeyArn } : {}),
      // On AWS the queues outlive the stack (their messages are data); an emulator stack does not.
      retainOnDelete: config.endpoint === undefined,
    },
    { provider, ...adopted },
  );
  const table = config.table
    ? new SentEmailsTable(
        name,
        {
          tableName: config.table.sentEmailsTableName,
          pointInTimeRecovery: config.table.pointInTimeRecovery,
          deletionProtection: config.table.deletionProtection,
        },
        { provider, ...adopted },
      )
    : undefined;
  const mail = config.email
    ? new MailDelivery(
        `${name}-mail`,
        {
          settings: config.email,
          queue: config.queue,
          region: queues.queue.region,
          ...(config.kmsKeyArn ? { kmsKeyArn: config.kmsKeyArn } : {}),
        },
        { provider, ...adopted },
      )
    : undefined;
  const access = config.createAccessPolicies
    ? new QueueAccess(
        name,
        {
          queueArn: queues.queue.arn,
          deadLetterQueueArn: queues.deadLetterQueue.arn,
          ...(table ? { tableArn: table.table.arn } : {}),
          ...(mail
            ? {
                mail: {
                  identityArn: mail.identity.arn,
                  configurationSetArn: mail.configurationSet.arn,
                  bounceQueueArn: mail.bounceQueues.queue.arn,
                  bounceDeadLetterQueueArn: mail.bounceQueues.deadLetterQueue.arn,
                },
              }
            : {}),
          ...(config.kmsKeyArn ? { kmsKeyArn: config.kmsKeyArn } : {}),
          producerPrincipals: config.producerPrincipals,
          consumerPrincipals: config.consumerPrincipals,
          operatorPrincipals: config.operatorPrincipals,
          region: config.region,
        },
        { provider, ...adopted },
      )
    : undefined;
  const fleet =
    config.service && table
      ? createFleet(
          name,
          {
            settings: config.service,
            region: config.region,
            queueName: config.queue.queueName,
            deadLetterQueueName: config.queue.deadLetterQueueName,
            queueUrl: queues.queue.url,
            queueArn: queues.queue.arn,
            deadLetterQueueArn: queues.deadLetterQueue.arn,
            tableName: table.table.name,
            tableArn: table.table.arn,
            kmsKeyArn: config.kmsKeyArn,
            // With SES and the stack's own mail part, the tasks send through it and consume its
            // bounces (an ECS task has no stack outputs to find the bounce queue by).
            mail:
              mail && config.service.serviceMailer === "ses"
                ? {
                    identityArn: mail.identity.arn,
                    configurationSetArn: mail.configurationSet.arn,
                    configurationSetName: mail.configurationSet.configurationSetName,
                    bounceQueueUrl: mail.bounceQueues.queue.url,
                    bounceQueueArn: mail.bounceQueues.queue.arn,
                    bounceDeadLetterQueueArn: mail.bounceQueues.deadLetterQueue.arn,
                  }
                : undefined,
          },
          provider,
          adopted,
        )
      : undefined;
  const consumerFunction =
    config.consumerFunction && table
      ? createFunctionConsumer(
          name,
          {
            settings: config.consumerFunction,
            queueName: config.queue.queueName,
            deadLetterQueueName: config.queue.deadLetterQueueName,
            queueUrl: queues.queue.url,
            queueArn: queues.queue.arn,
            deadLetterQueueArn: queues.deadLetterQueue.arn,
            tableName: table.table.name,
            tableArn: table.table.arn,
            kmsKeyArn: config.kmsKeyArn,
            mail:
              mail && config.consumerFunction.mailer === "ses"
                ? {
                    identityArn: mail.identity.arn,
                    configurationSetArn: mail.configurationSet.arn,
                    configurationSetName: mail.configurationSet.configurationSetName,
                  }
                : undefined,
          },
          provider,
          adopted,
        )
      : undefined;
  const pipeline = config.pipeline
    ? new Pipeline(
        name,
        {
          settings: config.pipeline,
          region: config.region,
          queueArns: [queues.queue.arn, queues.deadLetterQueue.arn],
          ...(table ? { tableArn: table.table.arn } : {}),
          ...(config.assumeRole ? { deployerRoleArn: config.assumeRole.roleArn } : {}),
        },
        { provider, ...adopted },
      )
    : undefined;
  const stackOutputs: PulumiOutputs<StackOutputs> = {
    queueUrl: queues.queue.url,
    queueArn: queues.queue.arn,
    deadLetterQueueUrl: queues.deadLetterQueue.url,
    deadLetterQueueArn: queues.deadLetterQueue.arn,
    region: queues.queue.region,
    endpoint: config.endpoint ? pulumi.output(config.endpoint) : undefined,
    sentEmailsTableName: table?.table.name,
    // Only the local stack (dynalite) has one.
    dynamoDbEndpoint: undefined,
    clusterName: fleet?.service.cluster.name,
    serviceName: fleet?.service.service.name,
    repositoryUrl: fleet?.service.repository.repositoryUrl,
    serviceImage: config.service ? pulumi.output(config.service.image) : undefined,
    alarmTopicArn: fleet?.alarms?.topic.arn ?? consumerFunction?.alarms?.topic.arn,
    functionName: consumerFunction?.consumer.function.name,
    bounceQueueUrl: mail?.bounceQueues.queue.url,
    sesConfigurationSetName: mail?.configurationSet.configurationSetName,
    mailDomain: mail?.identity.emailIdentity,
    // Each sender's share: an invocation's with the function, a task's otherwise.
    mailRatePerSecond: config.email
      ? pulumi.output(
          config.consumerFunction
            ? functionSendRate(config.email)
            : perTaskRate(config.email.accountSendRatePerSecond, config.email.maxConsumerTasks),
        )
      : undefined,
  };
  return {
    queues,
    ...(access ? { access } : {}),
    ...(table ? { table } : {}),
    ...(fleet ? { fleet } : {}),
    ...(consumerFunction ? { consumerFunction } : {}),
    ...(mail ? { mail } : {}),
    ...(pipeline ? { pipeline } : {}),
    outputs: {
      ...stackOutputs,
      ...(mail ? { mailDnsRecords: mail.dnsRecords } : {}),
      ...(pipeline
        ? {
            ecrPushRoleArn: pipeline.ecrPushRole.arn,
            ...(pipeline.planRole ? { infraPlanRoleArn: pipeline.planRole.arn } : {}),
            ...(pipeline.deployRole ? { infraDeployRoleArn: pipeline.deployRole.arn } : {}),
          }
        : {}),
      ...(access
        ? {
            producerPolicyArn: access.producerPolicy.arn,
            consumerPolicyArn: access.consumerPolicy.arn,
            ...(access.producerRole ? { producerRoleArn: access.producerRole.arn } : {}),
            ...(access.consumerRole ? { consumerRoleArn: access.consumerRole.arn } : {}),
            operatorPolicyArn: access.operatorPolicy.arn,
            ...(access.operatorRole ? { operatorRoleArn: access.operatorRole.arn } : {}),
          }
        : {}),
    },
  };
}
