/**
 * The defaults every layer shares, once, as data: `infra-terraform/settings.json`. Terraform reads
 * it with `jsondecode(file("${path.module}/settings.json"))` (so the module works from anywhere),
 * the Pulumi program uses it as the defaults of its config keys, and the local stack provisions
 * from it. Change a value there and all three change; nothing else holds a copy.
 *
 * One section per part of the infrastructure (`stack`, `queues`, `table`, `service`, `lambda`,
 * `email`, `pipeline`). What each key may be is declared once, in settings-table.ts: the schema below is
 * built from it, and so are the Pulumi config keys (Pulumi.yaml) and the Terraform variables
 * (infra-terraform/settings_variables.tf), by `npm run generate`.
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
import { sectionSchema, settingsTable } from "./settings-table.js";

/** Where the data lives, relative to the project root (for messages). */
export const SETTINGS_FILE = "infra-terraform/settings.json";

/** The queue pair. Cross-field rules (FIFO names, distinct names) are in queue-settings.ts. */
export const queueSettingsSchema = sectionSchema(settingsTable.queues);

/** The stack as a whole: where it lives and how it is deployed. */
export const stackSettingsSchema = sectionSchema(settingsTable.stack);

/**
 * The sent-email table shared by every consumer. Key `id` (S), on-demand billing,
 * TTL on `expiresAt`, encryption at rest: fixed in both programs, not settings.
 */
export const tableSettingsSchema = sectionSchema(settingsTable.table);

/**
 * The consumer as a fleet on ECS Fargate, off unless `createService`. Its most tasks
 * and each task's send cap come from the email section (`maxConsumerTasks`, and
 * `accountSendRatePerSecond ÷ maxConsumerTasks` as MAIL_RATE_PER_SECOND), so the whole fleet never
 * exceeds the mail account's quota. Sizing and cost: docs/fleet-sizing.md.
 */
export const serviceSettingsSchema = sectionSchema(settingsTable.service);

/**
 * The consumer as an AWS Lambda function behind an SQS event source mapping, off unless
 * `createFunction` (never with `createService`: one consumer compute per stack). Its maximum
 * concurrency and each invocation's send cap come from the email section, its timeout is checked
 * against the batch and the queue (src/config/derived.ts). Choosing: docs/infrastructure.md.
 */
export const lambdaSettingsSchema = sectionSchema(settingsTable.lambda);

/** A DNS domain name (RFC 1035 labels, at least two of them), lower case. */
export const MAIL_DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/**
 * Email through Amazon SES, opt-in: with `mailDomain` empty no SES resource exists
 * (the queue-only stack). With a domain: an SES domain identity with Easy DKIM and a custom MAIL
 * FROM subdomain, a configuration set whose bounce and complaint events go to an SNS topic, and
 * an SQS bounce queue (with its own dead-letter queue) subscribed to it. The send-rate numbers
 * live here too: each consumer task sends at most accountSendRatePerSecond ÷ maxConsumerTasks
 * emails a second (src/config/derived.ts).
 */
export const emailSettingsSchema = sectionSchema(settingsTable.email);

/**
 * The pipeline from GitHub Actions: the OIDC provider and the roles the workflows assume.
 * Off while `githubRepository` is null; the roles and their trust: infra-pulumi/pipeline-policies.ts.
 */
export const pipelineSettingsSchema = sectionSchema(settingsTable.pipeline);

/** The whole data file: one section per part of the infrastructure. */
export const settingsSchema = z
  .strictObject({
    stack: stackSettingsSchema,
    queues: queueSettingsSchema,
    table: tableSettingsSchema,
    service: serviceSettingsSchema,
    lambda: lambdaSettingsSchema,
    email: emailSettingsSchema,
    pipeline: pipelineSettingsSchema,
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

/** A section the data file once had under another name: the message names the fix. */
export class RenamedSettingsSectionError extends Error {
  override readonly name = "RenamedSettingsSectionError";
  constructor(
    readonly source: string,
    readonly from: string,
    readonly to: string,
  ) {
    super(`${source}: the section "${from}" is now "${to}" (the CI/CD roles); rename it in ${source}.`);
  }
}

/** Parses a settings document (the data file, or a copy in a test) through the schema. */
export function parseSettings(value: unknown, source = SETTINGS_FILE): Settings {
  if (typeof value === "object" && value !== null && "delivery" in value) {
    throw new RenamedSettingsSectionError(source, "delivery", "pipeline");
  }
  const result = settingsSchema.safeParse(value);
  if (!result.success) throw new InvalidSettingsFileError(source, { cause: result.error });
  return result.data;
}

/** The project's settings, as the data file holds them. */
export const settings: Settings = parseSettings(data);
