/**
 * The defaults every layer shares, once, as data: `infra-terraform/settings.json`. Terraform reads
 * it with `jsondecode(file("${path.module}/settings.json"))` (so the module works from anywhere),
 * the Pulumi program uses it as the defaults of its config keys, and the local stack provisions
 * from it. Change a value there and all three change; nothing else holds a copy.
 *
 * One section per part of the infrastructure (`stack` and `queues` today; `table`, `service`…
 * later). Every
 * key of a section is also a Pulumi config key (Pulumi.yaml, same camelCase name) and a Terraform
 * variable (variables.tf, its snake_case name, default null): test/infra/parity.test.ts checks it.
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
 * The sent-email table shared by every consumer (issue 11). Key `id` (S), on-demand billing,
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
 * Delivery from GitHub Actions (issue 15): the OIDC provider and the roles the pipelines assume.
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
    /** The consumer's ECR repository (the service part creates it): the push role's one target. */
    ecrRepositoryName: z.string().regex(/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/),
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
