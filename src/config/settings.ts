/**
 * The defaults every layer shares, once, as data: `infra-terraform/settings.json`. Terraform reads
 * it with `jsondecode(file("${path.module}/settings.json"))` (so the module works from anywhere),
 * the Pulumi program uses it as the defaults of its config keys, and the local stack provisions
 * from it. Change a value there and all three change; nothing else holds a copy.
 *
 * One section per part of the infrastructure (`stack`, `queues`, `table`, `service`, `email`,
 * `delivery`). Every key of a section is also a Pulumi config key (Pulumi.yaml, same camelCase
 * name) and a Terraform variable (variables.tf, its snake_case name, default null):
 * test/infra/parity.test.ts checks it.
 *
 * Why the queue defaults are what they are (welcome emails):
 * - visibility 60 s: sending one email takes well under a second, an SMTP server that hangs is cut
 *   off by its 30 s timeout, and the consumer's heartbeat extends visibility for slower work; a
 *   short timeout means a crashed consumer's messages come back within a minute.
 * - retention 4 days (the AWS default): a welcome email older than that is no longer welcome,
 *   but a weekend outage of the mail provider must not drop registrations.
 * - dead-letter retention 14 days (the AWS maximum): time for a human to look and redrive.
 * - maximum size 16 KiB: a registration is ~200 bytes; a small cap turns garbage into an early,
 *   clear error instead of a 1 MiB message that costs 16 billed requests.
 * - dead-letter maximum size 256 KiB: the dead-letter queue must accept anything the main queue
 *   accepted plus the attributes the consumer adds when it dead-letters an invalid body; 256 KiB
 *   is the limit every AWS provider version accepts.
 * - long poll 20 s (the AWS maximum): the fewest empty receives, so the cheapest idle consumer.
 * - maxReceiveCount 5: with the consumer's backoff (2 s, 4 s, 8 s, 16 s) a transient mail outage
 *   of about half a minute is ridden out; a message that fails five times is poison.
 * - KMS data keys reused for 5 minutes (the AWS default): fewer KMS calls, lower cost.
 * - no delay, standard queue: registrations are independent, order does not matter, and the
 *   consumer is idempotent (duplicates are expected under at-least-once delivery).
 */
import { z } from "zod";
import data from "../../infra-terraform/settings.json" with { type: "json" };

/** Where the data lives, relative to the project root (for messages). */
export const SETTINGS_FILE = "infra-terraform/settings.json";

const whole = z.number().int();

/** The queue pair. AWS's ranges are checked by `queueSettingsProblems` (queue-settings.ts). */
export const queueSettingsSchema = z
  .strictObject({
    /** Main queue name. FIFO queues must end in `.fifo` (AWS rule). */
    queueName: z.string(),
    /** Dead-letter queue name. FIFO: must also end in `.fifo` (a FIFO queue's DLQ is FIFO). */
    deadLetterQueueName: z.string(),
    /** Seconds a received message stays invisible to other consumers (AWS: 0–43200). */
    visibilityTimeoutSeconds: whole,
    /** Seconds SQS keeps an unconsumed message on the main queue (AWS: 60–1209600). */
    messageRetentionSeconds: whole,
    /** Seconds the dead-letter queue keeps a message (AWS: 60–1209600). */
    deadLetterRetentionSeconds: whole,
    /** Largest accepted message, in bytes (AWS: 1024–1048576). */
    maximumMessageSizeBytes: whole,
    /** Largest message the dead-letter queue accepts, in bytes (AWS: 1024–1048576). */
    deadLetterMaximumMessageSizeBytes: whole,
    /** Long-poll wait of ReceiveMessage, in seconds (AWS: 0–20). */
    receiveWaitTimeSeconds: whole,
    /** Failed receives before SQS moves a message to the dead-letter queue (AWS: 1–1000). */
    maxReceiveCount: whole,
    /** Delay before a new message becomes visible, in seconds (AWS: 0–900). */
    delaySeconds: whole,
    /** Seconds SQS reuses a KMS data key with a customer-managed key (AWS: 60–86400). */
    kmsDataKeyReusePeriodSeconds: whole,
    /** FIFO pair (ordering per group, exactly-once send within 5 minutes). */
    fifo: z.boolean(),
    /** FIFO only: derive the deduplication id from the body's SHA-256. */
    contentBasedDeduplication: z.boolean(),
  })
  .readonly();

/** The stack as a whole: where it lives and how it is deployed. */
export const stackSettingsSchema = z
  .strictObject({
    /** AWS region of every resource. */
    region: z.string(),
    /** Session name of the role the provider assumes (shows up in CloudTrail). */
    assumeRoleSessionName: z.string(),
    /** Create the producer and consumer IAM policies (an emulator has no IAM). */
    createAccessPolicies: z.boolean(),
  })
  .readonly();

/**
 * The sent-email table shared by every consumer. Key `id` (S), on-demand billing,
 * TTL on `expiresAt`, encryption at rest: fixed in both programs, not settings.
 */
export const tableSettingsSchema = z
  .strictObject({
    /** DynamoDB table name (3–255 of letters, digits, `_-.`). */
    sentEmailsTableName: z.string().regex(/^[\w.-]{3,255}$/),
    /** Point-in-time recovery (35 days of restorable history). */
    pointInTimeRecovery: z.boolean(),
    /** DynamoDB deletion protection: a delete request is refused until it is turned off. */
    deletionProtection: z.boolean(),
    /** Create the table (false for the SQS-only emulator stack of `npm run tf:local`). */
    createSentEmailsTable: z.boolean(),
  })
  .readonly();

/**
 * The consumer as a fleet on ECS Fargate, off unless `createService`. Its most tasks
 * and each task's send cap come from the email section (`maxConsumerTasks`, and
 * `accountSendRatePerSecond ÷ maxConsumerTasks` as MAIL_RATE_PER_SECOND), so the whole fleet never
 * exceeds the mail account's quota. Sizing and cost: docs/fleet-sizing.md.
 */
export const serviceSettingsSchema = z
  .strictObject({
    /** Deploy the consumer service (ECR, ECS, autoscaling, alarms); off for queue-only stacks. */
    createService: z.boolean(),
    clusterName: z.string().regex(/^[\w-]{1,255}$/),
    serviceName: z.string().regex(/^[\w-]{1,255}$/),
    repositoryName: z.string().regex(/^[a-z0-9][a-z0-9._/-]{1,255}$/),
    /** Images the repository keeps (older ones expire). */
    imagesToKeep: whole.min(1),
    /** Fargate task size: CPU units (256 = 0.25 vCPU) and memory (MiB), a valid Fargate pair. */
    taskCpu: whole,
    taskMemoryMib: whole,
    /** Seconds ECS waits between SIGTERM and SIGKILL (Fargate: at most 120). */
    stopTimeoutSeconds: whole.min(2).max(120),
    /** The consumer's /healthz port inside the task (HEALTH_PORT). */
    healthCheckPort: whole.min(1).max(65_535),
    logRetentionDays: whole,
    /** CloudWatch Container Insights on the cluster (RunningTaskCount feeds the autoscaling). */
    containerInsights: z.boolean(),
    /** A public IP per task: the cheapest path to AWS APIs from a public subnet (no NAT). */
    assignPublicIp: z.boolean(),
    /** The task's mail transport; the outbox writes files nobody sends and is refused here. */
    serviceMailer: z.enum(["smtp", "ses"]),
    /** Fewest tasks (ignored when scaleToZero: the minimum is then 0). */
    minTasks: whole.min(1),
    /** Acceptable seconds between a registration and its email: the scaling target and an alarm. */
    latencyGoalSeconds: whole.min(1),
    /** Let the fleet scale to no task when idle, woken by a step policy when messages wait. */
    scaleToZero: z.boolean(),
    scaleOutCooldownSeconds: whole.min(0),
    scaleInCooldownSeconds: whole.min(0),
    /** CloudWatch alarms and their SNS topic. */
    createAlarms: z.boolean(),
  })
  .readonly();

/** A DNS domain name (RFC 1035 labels, at least two of them), lower case. */
export const MAIL_DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Email through Amazon SES, opt-in: with `mailDomain` empty no SES resource exists
 * (the queue-only stack). With a domain: an SES domain identity with Easy DKIM and a custom MAIL
 * FROM subdomain, a configuration set whose bounce and complaint events go to an SNS topic, and
 * an SQS bounce queue (with its own dead-letter queue) subscribed to it. The send-rate numbers
 * live here too: each consumer task sends at most accountSendRatePerSecond ÷ maxConsumerTasks
 * emails a second (src/consumer/mail/rate.ts).
 */
export const emailSettingsSchema = z
  .strictObject({
    /** The sending domain (SES identity); empty: no SES resources. */
    mailDomain: z.union([z.literal(""), z.string().regex(MAIL_DOMAIN)]),
    /** MAIL FROM is `<mailFromSubdomain>.<mailDomain>`, so SPF aligns with the domain (DMARC). */
    mailFromSubdomain: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/),
    /** SES configuration set (AWS: 1–64 letters, digits, `_-`). */
    configurationSetName: z.string().regex(/^[\w-]{1,64}$/),
    /** The bounce queue; its dead-letter queue is `<name>-dlq` (AWS: 80 characters in all). */
    bounceQueueName: z.string().regex(/^[\w-]{1,76}$/),
    /** The account's SES maximum send rate (14/s for a new account with production access). */
    accountSendRatePerSecond: z.number().positive(),
    /** The most consumer tasks that send at once (the autoscaling maximum). */
    maxConsumerTasks: whole.min(1),
  })
  .readonly();

/**
 * Delivery from GitHub Actions: the OIDC provider and the roles the pipelines assume.
 * Off while `githubRepository` is null; the roles and their trust: infra-pulumi/delivery-policies.ts.
 */
export const deliverySettingsSchema = z
  .strictObject({
    /** `owner/name` of the repository whose workflows may assume the roles; null: no delivery roles. */
    githubRepository: z
      .string()
      .regex(/^[\w.-]+\/[\w.-]+$/, "githubRepository must be owner/name")
      .nullable(),
    /** The account's existing GitHub OIDC provider (one per account and URL); null: create it. */
    githubOidcProviderArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:oidc-provider\/token\.actions\.githubusercontent\.com$/)
      .nullable(),
    /** The protected GitHub environment whose jobs alone may assume the deploy role. */
    deployEnvironment: z.string().min(1),
    /** The Pulumi state bucket (the bootstrap program makes it); null: no plan and deploy roles. */
    stateBucketName: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
      .nullable(),
    /** The KMS key of Pulumi's stack secrets (the bootstrap program makes it); null: none. */
    secretsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[\w-]+$/)
      .nullable(),
  })
  .readonly();

/** The whole data file: one section per part of the infrastructure. */
export const settingsSchema = z
  .strictObject({
    stack: stackSettingsSchema,
    queues: queueSettingsSchema,
    table: tableSettingsSchema,
    service: serviceSettingsSchema,
    email: emailSettingsSchema,
    delivery: deliverySettingsSchema,
  })
  .readonly();

export type Settings = z.infer<typeof settingsSchema>;

export class InvalidSettingsFileError extends Error {
  override readonly name = "InvalidSettingsFileError";
  constructor(
    readonly source: string,
    options: { cause: z.ZodError },
  ) {
    super(
      `${source} does not match its schema (src/config/settings.ts):\n${z.prettifyError(options.cause)}`,
      options,
    );
  }
}

/** Parses a settings document (the data file, or a copy in a test) through the schema. */
export function parseSettings(value: unknown, source = SETTINGS_FILE): Settings {
  const result = settingsSchema.safeParse(value);
  if (!result.success) throw new InvalidSettingsFileError(source, { cause: result.error });
  return result.data;
}

/** The project's settings, as the data file holds them. */
export const settings: Settings = parseSettings(data);
