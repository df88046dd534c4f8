/**
 * The consumer fleet as one call for the program: the service, its autoscaling and
 * its alarms, on the stack's queue pair and table. Absent unless `createService`.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { ConsumerAlarms } from "./alarms.js";
import { ConsumerAutoscaling } from "./autoscaling.js";
import type { ServiceConfig } from "./config.js";
import { ConsumerService, type FleetMail } from "./consumer-service.js";

export interface FleetArgs {
  readonly settings: ServiceConfig;
  readonly region: string;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  readonly queueUrl: pulumi.Input<string>;
  readonly queueArn: pulumi.Input<string>;
  readonly deadLetterQueueArn: pulumi.Input<string>;
  readonly tableName: pulumi.Input<string>;
  readonly tableArn: pulumi.Input<string>;
  readonly kmsKeyArn?: string | undefined;
  /** The stack's mail part, with the ses mailer: the tasks send through it and consume its bounces. */
  readonly mail?: FleetMail | undefined;
}

export interface Fleet {
  readonly service: ConsumerService;
  readonly autoscaling: ConsumerAutoscaling;
  readonly alarms?: ConsumerAlarms;
}

export function createFleet(
  name: string,
  args: FleetArgs,
  provider: aws.Provider,
  /** Added to each component's options (the adoption's transformation: infra-pulumi/adoption.ts). */
  extra: pulumi.ComponentResourceOptions = {},
): Fleet {
  // The alarms come first: the service's deployment alarms name two of them. They take the
  // cluster's and service's names from the settings (what the service is called), not from the
  // service, which would make each wait for the other.
  const alarms = args.settings.createAlarms
    ? new ConsumerAlarms(
        name,
        {
          settings: args.settings,
          queueName: args.queueName,
          deadLetterQueueName: args.deadLetterQueueName,
          clusterName: args.settings.clusterName,
          serviceName: args.settings.serviceName,
        },
        { provider, ...extra },
      )
    : undefined;
  const service = new ConsumerService(
    name,
    {
      settings: args.settings,
      region: args.region,
      queueUrl: args.queueUrl,
      queueArn: args.queueArn,
      deadLetterQueueArn: args.deadLetterQueueArn,
      tableName: args.tableName,
      tableArn: args.tableArn,
      kmsKeyArn: args.kmsKeyArn,
      mail: args.mail,
      deploymentAlarmNames: alarms?.deploymentAlarmNames,
    },
    { provider, ...extra },
  );
  const names = { clusterName: service.cluster.name, serviceName: service.service.name };
  const autoscaling = new ConsumerAutoscaling(
    name,
    { settings: args.settings, queueName: args.queueName, ...names },
    { provider, ...extra },
  );
  return { service, autoscaling, ...(alarms ? { alarms } : {}) };
}

export { ConsumerAlarms } from "./alarms.js";
export { ConsumerAutoscaling } from "./autoscaling.js";
export { ConsumerService, type FleetMail } from "./consumer-service.js";
