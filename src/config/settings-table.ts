/**
 * Every shared setting, declared once: its key, type, range, description and Terraform variable.
 * The values (the defaults) live in the data file, infra-terraform/settings.json; this table says
 * what each value may be. From it come:
 *
 * - the zod schema of the data file (settings.ts), so the TypeScript type follows the table;
 * - the Pulumi config keys (the generated block of Pulumi.yaml);
 * - the Terraform variables with their `validation` blocks, and the locals that lay them over the
 *   data file (infra-terraform/settings_variables.tf, generated);
 *
 * `npm run generate` writes both generated files; a test fails when either is stale. A range is
 * written here once: the description, the zod check and the Terraform condition all come from it.
 */
import { z } from "zod";
import {
  DELAY_MAX_SECONDS,
  KMS_DATA_KEY_REUSE_MAX_SECONDS,
  KMS_DATA_KEY_REUSE_MIN_SECONDS,
  LONG_POLL_MAX_SECONDS,
  MAX_RECEIVE_COUNT_MAX,
  MESSAGE_SIZE_MAX_BYTES,
  MESSAGE_SIZE_MIN_BYTES,
  RETENTION_MAX_SECONDS,
  RETENTION_MIN_SECONDS,
  VISIBILITY_MAX_SECONDS,
} from "../sqs/limits.js";
import {
  FUNCTION_BATCH_SIZE_MAX,
  FUNCTION_BATCHING_WINDOW_MAX_SECONDS,
  FUNCTION_MEMORY_MAX_MIB,
  FUNCTION_MEMORY_MIN_MIB,
  FUNCTION_TIMEOUT_MAX_SECONDS,
} from "./limits.js";

interface RowBase {
  /** What the setting does; the range, when there is one, is appended by the generator. */
  readonly description: string;
  /** The Terraform variable, when it is not the key in snake_case. */
  readonly terraform?: string;
  /** What a bad value must be instead ("owner/name"), for both tools' messages. */
  readonly hint?: string;
}

/** One setting: how it is described, and the zod schema its value is parsed with. */
export type Row<S extends z.ZodType = z.ZodType> = RowBase &
  (
    | {
        readonly kind: "integer";
        readonly min?: number;
        readonly max?: number;
        readonly values?: readonly number[];
      }
    | { readonly kind: "number"; readonly above?: number }
    | { readonly kind: "boolean" }
    | {
        readonly kind: "text";
        readonly pattern?: string;
        readonly length?: readonly [number, number];
        readonly values?: readonly string[];
        readonly nullable?: boolean;
        readonly allowEmpty?: boolean;
      }
  ) & { readonly schema: S };

type IntegerOptions = RowBase & { min?: number; max?: number; values?: readonly number[] };

function integer(o: IntegerOptions): Row<z.ZodNumber> {
  let schema = z.number().int();
  if (o.min !== undefined) schema = schema.min(o.min);
  if (o.max !== undefined) schema = schema.max(o.max);
  const values = o.values;
  if (values)
    schema = schema.refine((v) => values.includes(v), `must be one of ${values.join(", ")}`) as z.ZodNumber;
  return { ...o, kind: "integer", schema };
}

function number(o: RowBase & { above?: number }): Row<z.ZodNumber> {
  const schema = o.above === undefined ? z.number() : z.number().gt(o.above);
  return { ...o, kind: "number", schema };
}

function boolean(o: RowBase): Row<z.ZodBoolean> {
  return { ...o, kind: "boolean", schema: z.boolean() };
}

type TextOptions = RowBase & { pattern?: string; length?: readonly [number, number]; allowEmpty?: boolean };

function textSchema(o: TextOptions): z.ZodString {
  const message = o.hint ? { message: `must be ${o.hint}` } : undefined;
  const pattern = o.pattern ? new RegExp(o.pattern) : undefined;
  const length = o.length;
  return z
    .string()
    .refine(
      (v) =>
        (o.allowEmpty === true && v === "") ||
        ((!length || (v.length >= length[0] && v.length <= length[1])) && (!pattern || pattern.test(v))),
      message,
    ) as unknown as z.ZodString;
}

function text(o: TextOptions): Row<z.ZodString> {
  return { ...o, kind: "text", schema: textSchema(o) };
}

/** A text setting that is off while null (the data file's `null`). */
function optionalText(o: TextOptions): Row<z.ZodNullable<z.ZodString>> {
  return { ...o, kind: "text", nullable: true, schema: textSchema(o).nullable() };
}

function choice<const V extends readonly [string, ...string[]]>(
  o: RowBase & { values: V },
): Row<z.ZodEnum<{ [K in V[number]]: K }>> {
  return { ...o, kind: "text", schema: z.enum(o.values) as z.ZodEnum<{ [K in V[number]]: K }> };
}

const QUEUE_NAME = "^[A-Za-z0-9_-]{1,80}(\\.fifo)?$";

/** The table: one section per part of the infrastructure, keys as in the data file. */
export const settingsTable = {
  stack: {
    region: text({
      description: "AWS region of every resource.",
      pattern: "^[a-z]{2}(-[a-z]+)+-[0-9]$",
      hint: "an AWS region, e.g. eu-west-1",
    }),
    assumeRoleSessionName: text({
      description: "Session name of the assumed role (shows up in CloudTrail).",
      pattern: "^[\\w+=,.@-]{2,64}$",
      hint: "2-64 characters of letters, digits and +=,.@_-",
    }),
    createAccessPolicies: boolean({
      description: "Create the producer and consumer IAM policies (false for an emulator, which has no IAM).",
    }),
  },
  queues: {
    queueName: text({
      description: "Main queue name (must end in .fifo when fifo is true).",
      pattern: QUEUE_NAME,
      hint: "1-80 letters, digits, - or _ (plus .fifo for a FIFO queue)",
    }),
    deadLetterQueueName: text({
      description: "Dead-letter queue name (must end in .fifo when fifo is true).",
      pattern: QUEUE_NAME,
      hint: "1-80 letters, digits, - or _ (plus .fifo for a FIFO queue)",
    }),
    visibilityTimeoutSeconds: integer({
      description: "Seconds a received message stays invisible to other consumers.",
      min: 0,
      max: VISIBILITY_MAX_SECONDS,
    }),
    messageRetentionSeconds: integer({
      description: "Seconds the main queue keeps an unconsumed message.",
      min: RETENTION_MIN_SECONDS,
      max: RETENTION_MAX_SECONDS,
    }),
    deadLetterRetentionSeconds: integer({
      description: "Seconds the dead-letter queue keeps a message.",
      min: RETENTION_MIN_SECONDS,
      max: RETENTION_MAX_SECONDS,
    }),
    maximumMessageSizeBytes: integer({
      description: "Largest accepted message, in bytes.",
      min: MESSAGE_SIZE_MIN_BYTES,
      max: MESSAGE_SIZE_MAX_BYTES,
    }),
    deadLetterMaximumMessageSizeBytes: integer({
      description: "Largest message the dead-letter queue accepts, in bytes.",
      min: MESSAGE_SIZE_MIN_BYTES,
      max: MESSAGE_SIZE_MAX_BYTES,
    }),
    receiveWaitTimeSeconds: integer({
      description: "Long-poll wait of ReceiveMessage, in seconds.",
      min: 0,
      max: LONG_POLL_MAX_SECONDS,
    }),
    maxReceiveCount: integer({
      description: "Receives before SQS moves a message to the dead-letter queue.",
      min: 1,
      max: MAX_RECEIVE_COUNT_MAX,
    }),
    delaySeconds: integer({
      description: "Delay before a new message becomes visible, in seconds.",
      min: 0,
      max: DELAY_MAX_SECONDS,
    }),
    kmsDataKeyReusePeriodSeconds: integer({
      description: "Seconds SQS reuses a KMS data key with a customer-managed key.",
      min: KMS_DATA_KEY_REUSE_MIN_SECONDS,
      max: KMS_DATA_KEY_REUSE_MAX_SECONDS,
    }),
    fifo: boolean({ description: "Make both queues FIFO (their names must then end in .fifo)." }),
    contentBasedDeduplication: boolean({
      description: "FIFO only: derive the deduplication id from the SHA-256 of the body.",
    }),
    deduplicationScope: choice({
      description:
        "FIFO only: whether a deduplication id is unique in the whole queue or per message group (messageGroup, with a per-group throughput limit, is high-throughput FIFO).",
      values: ["queue", "messageGroup"],
    }),
  },
  table: {
    sentEmailsTableName: text({
      description: "DynamoDB table of sent welcome emails, shared by every consumer (kept on stack destroy).",
      pattern: "^[\\w.-]{3,255}$",
      hint: "3-255 characters of letters, digits, _, - and . (DynamoDB rule)",
    }),
    pointInTimeRecovery: boolean({ description: "Point-in-time recovery on the sent-email table." }),
    deletionProtection: boolean({ description: "DynamoDB deletion protection on the sent-email table." }),
    createSentEmailsTable: boolean({
      description: "Create the sent-email table (false for the SQS-only emulator stack of npm run tf:local).",
    }),
  },
  service: {
    createService: boolean({
      description:
        "Deploy the consumer as an autoscaled ECS Fargate service (needs the sent-email table, no endpoint).",
    }),
    clusterName: text({
      description: "ECS cluster of the consumer fleet.",
      pattern: "^[\\w-]{1,255}$",
      hint: "1-255 letters, digits, _ or -",
    }),
    serviceName: text({
      description: "ECS service, task family and prefix of the alarm names.",
      pattern: "^[\\w-]{1,255}$",
      hint: "1-255 letters, digits, _ or -",
    }),
    repositoryName: text({
      description: "ECR repository of the consumer image (immutable tags, scan on push).",
      pattern: "^[a-z0-9][a-z0-9._/-]{1,255}$",
      hint: "an ECR repository name (lower case, digits, ._/-)",
    }),
    imagesToKeep: integer({ description: "Images the repository keeps; older ones expire.", min: 1 }),
    taskCpu: integer({
      description: "Fargate CPU units per task (256 = 0.25 vCPU).",
      values: [256, 512, 1024, 2048, 4096],
      hint: "a Fargate CPU size: 256, 512, 1024, 2048 or 4096",
    }),
    taskMemoryMib: integer({
      description: "Fargate memory per task in MiB (a valid pair with the CPU units).",
    }),
    stopTimeoutSeconds: integer({
      description:
        "Seconds between SIGTERM and SIGKILL; above the consumer's shutdown deadline (Fargate's range).",
      min: 2,
      max: 120,
    }),
    healthCheckPort: integer({
      description: "The consumer's /healthz port inside the task.",
      min: 1,
      max: 65_535,
    }),
    logRetentionDays: integer({
      description: "Days the task logs are kept (a CloudWatch Logs retention value).",
      values: [
        1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
        3653,
      ],
      hint: "a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)",
    }),
    containerInsights: boolean({
      description: "Container Insights on the cluster (the autoscaling reads RunningTaskCount from it).",
    }),
    assignPublicIp: boolean({
      description: "A public IP per task (public subnets without NAT); false behind NAT or VPC endpoints.",
    }),
    serviceMailer: choice({
      description:
        "The task's mail transport, smtp or ses (the outbox writes files nobody sends from a task).",
      values: ["smtp", "ses"],
    }),
    minTasks: integer({
      description: "Fewest tasks (ignored with scaleToZero: the minimum is then 0).",
      min: 1,
      hint: "a whole number of at least 1 (use scale_to_zero for 0)",
    }),
    latencyGoalSeconds: integer({
      description: "Acceptable seconds from registration to email; sets the scaling target and an alarm.",
      min: 1,
    }),
    scaleToZero: boolean({
      description: "Scale to no task when idle; a step policy wakes the fleet when messages wait.",
    }),
    scaleOutCooldownSeconds: integer({ description: "Seconds between two scale-outs.", min: 0 }),
    scaleInCooldownSeconds: integer({ description: "Seconds between two scale-ins.", min: 0 }),
    createAlarms: boolean({
      description:
        "CloudWatch alarms of the fleet and their SNS topic; the dead-letter and handler-failure alarms are also the service's deployment alarms (a release that trips them is rolled back).",
    }),
  },
  lambda: {
    createFunction: boolean({
      description:
        "Deploy the consumer as an AWS Lambda function fed by an SQS event source mapping (not with createService: one consumer compute per stack; needs the sent-email table, no endpoint). It shares the service section's mailer, log retention, alarms and stack keys.",
    }),
    functionName: text({
      description:
        "The consumer function's name, its log group's (/aws/lambda/<name>) and its alarms' prefix.",
      pattern: "^[\\w-]{1,64}$",
      hint: "1-64 letters, digits, _ or -",
    }),
    functionBundlePath: text({
      description:
        "The function's zip as `npm run build:lambda` writes it: a path from the project root, or absolute.",
      pattern: "^.+\\.zip$",
      hint: "a path to a .zip file",
    }),
    functionMemoryMib: integer({
      description: "Memory of the function in MB (Lambda gives CPU in proportion).",
      min: FUNCTION_MEMORY_MIN_MIB,
      max: FUNCTION_MEMORY_MAX_MIB,
    }),
    functionTimeoutSeconds: integer({
      description:
        "The function's timeout: above the slowest batch (its pacing plus a claim lease), at most the queue's visibility timeout.",
      min: 1,
      max: FUNCTION_TIMEOUT_MAX_SECONDS,
    }),
    functionBatchSize: integer({
      description:
        "Messages the event source mapping hands one invocation (above 10 only with a batching window; at most 10 from a FIFO queue).",
      min: 1,
      max: FUNCTION_BATCH_SIZE_MAX,
    }),
    functionBatchingWindowSeconds: integer({
      description: "Seconds the event source mapping gathers messages before it invokes (0: at once).",
      min: 0,
      max: FUNCTION_BATCHING_WINDOW_MAX_SECONDS,
    }),
  },
  email: {
    mailDomain: text({
      description:
        "Domain the welcome emails are sent from (an SES identity with Easy DKIM). Empty (the default): no SES resources, the queue-only stack.",
      pattern: "^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$",
      length: [4, 253],
      allowEmpty: true,
      hint: "a lower-case domain name such as example.com, or empty for no SES resources",
    }),
    mailFromSubdomain: text({
      description: "Custom MAIL FROM is <mailFromSubdomain>.<mailDomain>, so that SPF aligns (DMARC).",
      pattern: "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$",
      hint: "one DNS label (letters, digits, -), e.g. bounce",
    }),
    configurationSetName: text({
      description: "SES configuration set whose bounce and complaint events reach the bounce queue.",
      pattern: "^[\\w-]{1,64}$",
      hint: "1-64 letters, digits, _ or -",
    }),
    bounceQueueName: text({
      description: "SQS queue of SES bounce and complaint events (its dead-letter queue is <name>-dlq).",
      pattern: "^[\\w-]{1,76}$",
      hint: "1-76 letters, digits, _ or - (the dead-letter queue adds -dlq; AWS allows 80)",
    }),
    accountSendRatePerSecond: number({
      description:
        "The account's SES maximum send rate; each consumer task (or function invocation) sends at most this ÷ the most senders a second.",
      above: 0,
      hint: "a number above 0",
    }),
    maxConsumerTasks: integer({
      description:
        "The most consumers that send at once: Fargate tasks (the autoscaling maximum) or function invocations (the event source mapping's maximum concurrency, at least 2).",
      min: 1,
      hint: "a whole number of at least 1",
    }),
  },
  pipeline: {
    githubRepository: optionalText({
      description:
        "owner/name of the GitHub repository whose workflows may assume the pipeline roles (ECR push from main, read-only plan, deploy from the protected environment). Null: no roles.",
      pattern: "^[\\w.-]+/[\\w.-]+$",
      hint: "owner/name",
    }),
    githubOidcProviderArn: optionalText({
      description: "The account's existing GitHub OIDC provider ARN. Null: the stack creates it.",
      pattern: "^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$",
      hint: "the ARN of the token.actions.githubusercontent.com provider",
    }),
    deployEnvironment: text({
      description: "The protected GitHub environment whose jobs alone may assume the deploy role.",
      length: [1, 255],
      hint: "a GitHub environment name, not empty",
    }),
    stateBucketName: optionalText({
      description: "The Pulumi state bucket (made by the bootstrap program). Null: no plan and deploy roles.",
      pattern: "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
      hint: "an S3 bucket name (3-63 of a-z, 0-9, . and -)",
    }),
    secretsKeyArn: optionalText({
      description: "The KMS key ARN of Pulumi's stack secrets (made by the bootstrap program). Null: none.",
      pattern: "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[\\w-]+$",
      hint: "a KMS key ARN",
    }),
  },
} as const;

export type SettingsTable = typeof settingsTable;
export type SectionName = keyof SettingsTable;

/** The zod schema of one section: exactly its keys, each parsed by its row. */
export function sectionSchema<T extends Record<string, Row>>(section: T) {
  const shape = Object.fromEntries(Object.entries(section).map(([key, row]) => [key, row.schema])) as {
    [K in keyof T]: T[K]["schema"];
  };
  return z.strictObject(shape).readonly();
}

/** The Terraform variable of a key: its snake_case name unless the row says otherwise. */
export function terraformName(key: string, row: Row): string {
  return row.terraform ?? key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** The description with the range appended, as both tools show it. */
export function describe(row: Row): string {
  if (row.kind === "integer" && row.min !== undefined && row.max !== undefined) {
    return `${row.description.replace(/\.$/, "")} (${row.min}-${row.max}).`;
  }
  return row.description;
}

/** Every row with its section and key, in table order. */
export function allRows(): { section: SectionName; key: string; row: Row }[] {
  return Object.entries(settingsTable).flatMap(([section, rows]) =>
    Object.entries(rows as Record<string, Row>).map(([key, row]) => ({
      section: section as SectionName,
      key,
      row,
    })),
  );
}
