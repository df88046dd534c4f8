/**
 * The consumer as a function, as one call for the program: the function with its role, logs and
 * event source mapping, and its alarms, on the stack's queue pair and table. Absent unless
 * `createFunction`; never beside the Fargate service (infra-pulumi/service/).
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { FunctionAlarms } from "./alarms.js";
import { ConsumerFunction, type ConsumerFunctionArgs } from "./consumer-function.js";

export interface FunctionConsumer {
  readonly consumer: ConsumerFunction;
  readonly alarms?: FunctionAlarms;
}

export function createFunctionConsumer(
  name: string,
  args: ConsumerFunctionArgs & { readonly queueName: string; readonly deadLetterQueueName: string },
  provider: aws.Provider,
  extra: pulumi.ComponentResourceOptions = {},
): FunctionConsumer {
  const { queueName, deadLetterQueueName, ...functionArgs } = args;
  const consumer = new ConsumerFunction(name, functionArgs, { provider, ...extra });
  const alarms = args.settings.createAlarms
    ? new FunctionAlarms(
        name,
        { settings: args.settings, queueName, deadLetterQueueName },
        { provider, ...extra },
      )
    : undefined;
  return { consumer, ...(alarms ? { alarms } : {}) };
}

export { FunctionAlarms } from "./alarms.js";
export { ConsumerFunction, type FunctionMail } from "./consumer-function.js";
