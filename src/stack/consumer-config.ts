/**
 * The consumer's configuration, resolved once. Every value comes from the first of four sources
 * that has it:
 *
 *     flags > environment > stack outputs > settings   (CONSUMER_CONFIG_PRECEDENCE)
 *
 * The stack outputs are read only when no queue URL is given (`--queue-url` / SQS_QUEUE_URL): a
 * queue named by URL, like an ECS task's, has no outputs, and its task definition names the table
 * and the bounce queue instead (SENT_EMAILS_TABLE_NAME, BOUNCE_QUEUE_URL stand in for the outputs,
 * see stackParts). docs/usage.md ("Where each consumer setting comes from") says the same.
 */
import { join } from "node:path";
import { requireSecureTransport } from "../config/endpoint.js";
import type { Environment, mailerKinds } from "../config/env.js";
import { ConfigurationError } from "../errors.js";
import type { LogLevel } from "../log/logger.js";
import type { StackOutputs } from "./outputs.js";
import {
  fromQueueUrl,
  locationFromOutputs,
  type QueueLocation,
  type ResolveOptions,
  type RunCommand,
  resolveStack,
} from "./resolve.js";

/** The order, as docs/usage.md states it (a test reads both). */
export const CONSUMER_CONFIG_PRECEDENCE = "flags > environment > stack outputs > settings";

export type MailerKind = (typeof mailerKinds)[number];
export type StoreKind = NonNullable<Environment["SENT_EMAIL_STORE"]>;

/** What the user typed on the command line, and nothing else (no defaults, no environment). */
export interface ConsumerFlags {
  readonly queueUrl?: string;
  readonly source?: ResolveOptions["source"];
  readonly stack?: string;
  readonly terraformDir?: string;
  readonly stateDir?: string;
  readonly logLevel?: LogLevel;
  readonly untilEmpty?: boolean;
  readonly maxMessages?: number;
  readonly concurrency?: number;
  readonly waitTime?: number;
  readonly batchingWindow?: number;
  readonly outbox?: string;
  readonly store?: StoreKind;
  readonly sentStore?: string;
  readonly mailer?: MailerKind;
  readonly smtpUrl?: string;
  readonly sesConfigSet?: string;
  readonly mailFrom?: string;
  readonly mailRate?: number;
  readonly sendLatency?: number;
  readonly sendTimeout?: number;
  readonly shutdownTimeout?: number;
  readonly healthPort?: number;
  readonly healthHost?: string;
  readonly metricsEmf?: boolean;
}

/** The last source: the settings' share of the SES quota and the consumer's built-in defaults. */
export interface ConsumerSettings {
  readonly stateDir: string;
  readonly source: ResolveOptions["source"];
  readonly logLevel: LogLevel;
  readonly concurrency: number;
  readonly mailer: MailerKind;
  readonly sendTimeoutMs: number;
  /** Each task's share of the account's SES rate (settings `email`), with the ses mailer. */
  readonly sesRatePerSecond: number;
  readonly shutdownTimeoutSeconds: number;
  readonly healthHost: string;
}

export interface ConsumerConfig {
  /** The registrations queue, and the bounce queue beside it when the stack has the mail part. */
  readonly queue: QueueLocation & { readonly bounceQueueUrl?: string | undefined };
  readonly store: {
    readonly kind?: StoreKind | undefined;
    /** `--sent-store`: the SQLite file. */
    readonly sqlitePath?: string | undefined;
    readonly tableName?: string | undefined;
    readonly dynamoDbEndpoint?: string | undefined;
    readonly region?: string | undefined;
  };
  readonly mail: {
    readonly kind: MailerKind;
    readonly smtpUrl?: string | undefined;
    readonly sesConfigurationSet?: string | undefined;
    /** Absent: the mailer's default sender, at senderDomain when the stack sends through SES. */
    readonly from?: string | undefined;
    readonly senderDomain?: string | undefined;
    /** Absent: no pacing (outbox, smtp without a rate). */
    readonly ratePerSecond?: number | undefined;
    readonly sendTimeoutMs: number;
    readonly outboxDir: string;
    /** Whether the outbox folder was named (a bad one is then blamed on --outbox, not --state-dir). */
    readonly outboxGiven: boolean;
    readonly outboxLatencyMs: number;
  };
  readonly runtime: {
    readonly stateDir: string;
    readonly concurrency: number;
    readonly waitTimeSeconds: number;
    readonly stopWhenEmpty: boolean;
    readonly maxMessages?: number | undefined;
    readonly batchingWindowMs: number;
    readonly shutdownTimeoutMs: number;
    /** REGISTRATION_DIGEST_KEY; absent: the key generated once in the state folder. */
    readonly digestSecret?: string | undefined;
  };
  readonly observability: {
    readonly logLevel: LogLevel;
    readonly healthPort?: number | undefined;
    readonly healthHost: string;
    readonly metricsEmf: boolean;
  };
}

/** The long-poll wait: the longest, or a short one with --until-empty so a drained queue ends the run soon. */
const WAIT_SECONDS = 20;
const UNTIL_EMPTY_WAIT_SECONDS = 1;

/**
 * The parts of the deployment beside the queue that the consumer and `forget` both use. They sit
 * at the outputs' place in the order: a queue given by URL (an ECS task) has no outputs, and its
 * task definition names them instead (SENT_EMAILS_TABLE_NAME, BOUNCE_QUEUE_URL); outputs, when
 * read, win.
 */
export function stackParts(
  env: Pick<Environment, "SENT_EMAILS_TABLE_NAME" | "BOUNCE_QUEUE_URL">,
  outputs: StackOutputs | undefined,
) {
  const bounceQueueUrl = outputs?.bounceQueueUrl ?? env.BOUNCE_QUEUE_URL;
  if (bounceQueueUrl) requireSecureTransport(bounceQueueUrl);
  return {
    bounceQueueUrl,
    tableName: outputs?.sentEmailsTableName ?? env.SENT_EMAILS_TABLE_NAME,
    dynamoDbEndpoint: outputs?.dynamoDbEndpoint,
  };
}

/** Where the outputs are read from (the location flags and variables, resolved the same way). */
export function stackOptions(
  flags: ConsumerFlags,
  env: Environment,
  settings: Pick<ConsumerSettings, "stateDir" | "source">,
  projectRoot: string,
): ResolveOptions {
  return {
    queueUrl: flags.queueUrl ?? env.SQS_QUEUE_URL,
    source: flags.source ?? env.QUEUE_SOURCE ?? settings.source,
    stack: flags.stack ?? env.PULUMI_STACK,
    terraformDir: flags.terraformDir ?? env.TERRAFORM_DIR,
    stateDir: flags.stateDir ?? env.SQS_STATE_DIR ?? settings.stateDir,
    projectRoot,
  };
}

/**
 * The configuration from its four sources. `outputs` is undefined when the queue is given by URL
 * (then the outputs are not read). Pure: reads no file, no variable; throws ConfigurationError
 * naming the flag or variable and the fix.
 */
export function resolveConsumerConfig(
  flags: ConsumerFlags,
  env: Environment,
  outputs: StackOutputs | undefined,
  settings: ConsumerSettings,
): ConsumerConfig {
  const queueUrl = flags.queueUrl ?? env.SQS_QUEUE_URL;
  const source = flags.source ?? env.QUEUE_SOURCE ?? settings.source;
  let location: QueueLocation;
  if (queueUrl !== undefined) location = fromQueueUrl(queueUrl);
  else if (outputs !== undefined) location = locationFromOutputs(outputs, source);
  else {
    throw new ConfigurationError(
      "No queue: give --queue-url (SQS_QUEUE_URL), or the stack outputs to read it from (--source local|pulumi|terraform).",
    );
  }
  const { bounceQueueUrl, tableName, dynamoDbEndpoint } = stackParts(env, outputs);

  const stateDir = flags.stateDir ?? env.SQS_STATE_DIR ?? settings.stateDir;
  const untilEmpty = flags.untilEmpty ?? false;
  const batchingWindowMs = flags.batchingWindow ?? 0;
  if (batchingWindowMs > 0 && location.queueUrl.endsWith(".fifo")) {
    throw new ConfigurationError(
      "--batching-window is not for FIFO queues: a message group's next message waits for the previous one, so a window only adds latency. Drop the flag.",
    );
  }
  const kind = flags.mailer ?? env.MAILER ?? settings.mailer;
  return {
    queue: { ...location, ...(bounceQueueUrl ? { bounceQueueUrl } : {}) },
    store: {
      kind: flags.store ?? env.SENT_EMAIL_STORE,
      sqlitePath: flags.sentStore,
      tableName,
      dynamoDbEndpoint,
      region: location.region,
    },
    mail: {
      kind,
      smtpUrl: flags.smtpUrl ?? env.SMTP_URL,
      // The configuration set the stack declares: its events reach the bounce queue.
      sesConfigurationSet:
        flags.sesConfigSet ?? env.SES_CONFIGURATION_SET ?? outputs?.sesConfigurationSetName,
      from: flags.mailFrom ?? env.MAIL_FROM,
      senderDomain: outputs?.mailDomain,
      // With SES only: the stack's share of the account's rate (as deployed), else the settings'.
      ratePerSecond:
        flags.mailRate ??
        env.MAIL_RATE_PER_SECOND ??
        (kind === "ses" ? (outputs?.mailRatePerSecond ?? settings.sesRatePerSecond) : undefined),
      sendTimeoutMs: flags.sendTimeout ?? env.MAIL_SEND_TIMEOUT_MS ?? settings.sendTimeoutMs,
      outboxDir: flags.outbox ?? join(stateDir, "outbox"),
      outboxGiven: flags.outbox !== undefined,
      outboxLatencyMs: flags.sendLatency ?? 0,
    },
    runtime: {
      stateDir,
      concurrency: flags.concurrency ?? env.CONSUMER_CONCURRENCY ?? settings.concurrency,
      waitTimeSeconds: flags.waitTime ?? (untilEmpty ? UNTIL_EMPTY_WAIT_SECONDS : WAIT_SECONDS),
      stopWhenEmpty: untilEmpty,
      ...(flags.maxMessages ? { maxMessages: flags.maxMessages } : {}),
      batchingWindowMs,
      shutdownTimeoutMs: (flags.shutdownTimeout ?? settings.shutdownTimeoutSeconds) * 1000,
      digestSecret: env.REGISTRATION_DIGEST_KEY,
    },
    observability: {
      logLevel: flags.logLevel ?? env.LOG_LEVEL ?? settings.logLevel,
      healthPort: flags.healthPort ?? env.HEALTH_PORT,
      healthHost: flags.healthHost ?? env.HEALTH_HOST ?? settings.healthHost,
      metricsEmf: flags.metricsEmf ?? env.METRICS_EMF ?? false,
    },
  };
}

/** Reads the stack outputs when the queue is not given by URL, then resolves the configuration. */
export async function loadConsumerConfig(
  flags: ConsumerFlags,
  env: Environment,
  settings: ConsumerSettings,
  projectRoot: string,
  run?: RunCommand,
): Promise<ConsumerConfig> {
  const { outputs } = await resolveStack(stackOptions(flags, env, settings, projectRoot), run);
  return resolveConsumerConfig(flags, env, outputs, settings);
}
