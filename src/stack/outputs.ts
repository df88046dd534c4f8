/**
 * The stack outputs: what the infrastructure exports and what the producer and consumer read.
 * The Pulumi program exports exactly this type (a mismatch fails the type check), Terraform
 * exports the same names in snake_case, and the local stack writes it as JSON.
 */
import { z } from "zod";

export const stackOutputsSchema = z.object({
  /** URL of the main queue; the SDK sends every queue request to it. */
  queueUrl: z.url(),
  queueArn: z.string().startsWith("arn:"),
  deadLetterQueueUrl: z.url(),
  deadLetterQueueArn: z.string().startsWith("arn:"),
  /** AWS region of both queues. */
  region: z.string().min(1),
  /** SQS endpoint to use instead of AWS's; set only by stacks that target a local emulator. */
  endpoint: z.url().optional(),
  /**
   * DynamoDB table of the sent-email store, shared by every consumer. Absent from
   * stacks deployed before the table existed: consumers then default to SQLite.
   */
  sentEmailsTableName: z.string().min(1).optional(),
  /** DynamoDB endpoint to use instead of AWS's; set only by the local stack (dynalite). */
  dynamoDbEndpoint: z.url().optional(),
  /** The consumer fleet on ECS: its cluster and service, set when the stack has one. */
  clusterName: z.string().min(1).optional(),
  serviceName: z.string().min(1).optional(),
  /** The fleet's image repository (`docker push <repositoryUrl>@…`). */
  repositoryUrl: z.string().min(1).optional(),
  /**
   * The image the fleet was last deployed with (`<repository>@sha256:…`, the config key
   * `serviceImage`): what the infra pipeline deploys again, so that an infrastructure change
   * never puts back the image the stack file happens to name.
   */
  serviceImage: z.string().min(1).optional(),
  /** SNS topic of the consumer's alarms (the fleet's or the function's). */
  alarmTopicArn: z.string().startsWith("arn:").optional(),
  /** The consumer function, when the stack runs the consumer on Lambda (settings `lambda`). */
  functionName: z.string().min(1).optional(),
  /**
   * The queue of SES bounce and complaint events: present when the stack sends through
   * SES (settings `email.mailDomain`), and in the local stack. The consumer then runs the bounce
   * handler on it beside the registrations.
   */
  bounceQueueUrl: z.url().optional(),
  /** The SES configuration set to send with (its events reach the bounce queue). */
  sesConfigurationSetName: z.string().min(1).optional(),
  /** The SES domain identity the welcome emails are sent from. */
  mailDomain: z.string().min(1).optional(),
  /**
   * Emails a second each consumer task may send through SES: the account's send rate ÷ the most
   * tasks (settings `email`, as the stack was deployed with). The consume default with `--mailer ses`.
   */
  mailRatePerSecond: z.number().positive().optional(),
});

export type StackOutputs = z.infer<typeof stackOutputsSchema>;

/** Output names, in the order the stack exports them. */
export const stackOutputNames = Object.keys(stackOutputsSchema.shape) as (keyof StackOutputs)[];

/** Outputs only the local stack writes (its own DynamoDB server); no infrastructure program has them. */
export const localOnlyOutputNames: ReadonlySet<keyof StackOutputs> = new Set(["dynamoDbEndpoint"]);

/** Outputs a stack may leave out (a local endpoint, a table not deployed yet). */
export const optionalOutputNames: ReadonlySet<keyof StackOutputs> = new Set([
  "endpoint",
  "sentEmailsTableName",
  "dynamoDbEndpoint",
  "clusterName",
  "serviceName",
  "repositoryUrl",
  "serviceImage",
  "alarmTopicArn",
  "functionName",
  "bounceQueueUrl",
  "sesConfigurationSetName",
  "mailDomain",
  "mailRatePerSecond",
]);

/** `deadLetterQueueUrl` → `dead_letter_queue_url`: Terraform's names for the same outputs. */
export function toSnakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/** `dead_letter_queue_url` → `deadLetterQueueUrl`. */
export function toCamelCase(name: string): string {
  return name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
}
