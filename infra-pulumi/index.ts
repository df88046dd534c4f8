/**
 * The Pulumi program (`pulumi up`): the queue pair, least-privilege access, and the stack outputs
 * the producer and consumer read (`--source pulumi`). The configuration is checked in full before
 * any resource is declared; Pulumi.yaml declares every key, infra-terraform/settings.json holds the
 * defaults.
 */
import { readInfraConfig } from "./config.js";
import { createInfrastructure } from "./program.js";

const { outputs } = createInfrastructure(readInfraConfig());

export const {
  queueUrl,
  queueArn,
  deadLetterQueueUrl,
  deadLetterQueueArn,
  region,
  endpoint,
  sentEmailsTableName,
  clusterName,
  serviceName,
  repositoryUrl,
  serviceImage,
  alarmTopicArn,
  functionName,
  producerPolicyArn,
  consumerPolicyArn,
  producerRoleArn,
  consumerRoleArn,
  operatorPolicyArn,
  operatorRoleArn,
  bounceQueueUrl,
  sesConfigurationSetName,
  mailDomain,
  mailRatePerSecond,
  mailDnsRecords,
  ecrPushRoleArn,
  infraPlanRoleArn,
  infraDeployRoleArn,
} = outputs;
