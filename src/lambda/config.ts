/**
 * The function's configuration, from the environment the infrastructure gives it (the names are
 * the Fargate container's where the meaning is the same; config/env.ts reads them all). Checked
 * as a whole before anything is opened, so a missing variable is one line naming it.
 */
import type { Environment } from "../config/env.js";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../config/limits.js";
import { ConfigurationError } from "../errors.js";
import type { LogLevel } from "../log/logger.js";

export interface LambdaConfig {
  readonly queueUrl: string;
  readonly tableName: string;
  readonly mail: {
    readonly kind: "ses" | "smtp";
    readonly from?: string | undefined;
    /** The per-invocation cap: the account's rate ÷ the event source mapping's maximum concurrency. */
    readonly ratePerSecond: number;
    readonly sesConfigurationSet?: string | undefined;
    readonly sendTimeoutMs: number;
  };
  /** Each secret by value (tests, a local run) or by the ARN the function reads it from. */
  readonly digestKey: { readonly value: string } | { readonly secretArn: string };
  readonly smtpUrl?: { readonly value: string } | { readonly secretArn: string } | undefined;
  readonly logLevel: LogLevel;
  readonly metricsEmf: boolean;
}

function required<T>(value: T | undefined, variable: string, what: string): T {
  if (value === undefined) {
    throw new ConfigurationError(
      `The Lambda function needs ${variable} (${what}); the stack sets it: redeploy, or set it.`,
    );
  }
  return value;
}

export function lambdaConfig(env: Environment): LambdaConfig {
  const queueUrl = required(env.SQS_QUEUE_URL, "SQS_QUEUE_URL", "the registrations queue");
  if (env.SENT_EMAIL_STORE !== undefined && env.SENT_EMAIL_STORE !== "dynamodb") {
    // SQLite on a function would be one store per container: every container would send again.
    throw new ConfigurationError(
      "The Lambda function records sent emails in DynamoDB only (SENT_EMAIL_STORE=dynamodb): a SQLite file would be one store per container.",
    );
  }
  const tableName = required(env.SENT_EMAILS_TABLE_NAME, "SENT_EMAILS_TABLE_NAME", "the sent-email table");
  const kind = env.MAILER ?? "ses";
  if (kind === "outbox") {
    throw new ConfigurationError("MAILER=outbox writes files nobody sends; the function takes ses or smtp.");
  }
  const ratePerSecond = required(
    env.MAIL_RATE_PER_SECOND,
    "MAIL_RATE_PER_SECOND",
    "each invocation's send cap: the account's send rate ÷ the event source mapping's maximum concurrency",
  );
  const digestKey = env.REGISTRATION_DIGEST_KEY
    ? { value: env.REGISTRATION_DIGEST_KEY }
    : {
        secretArn: required(
          env.REGISTRATION_DIGEST_KEY_SECRET_ARN,
          "REGISTRATION_DIGEST_KEY_SECRET_ARN",
          "the secret holding the registration digest key",
        ),
      };
  const smtpUrl =
    kind !== "smtp"
      ? undefined
      : env.SMTP_URL
        ? { value: env.SMTP_URL }
        : {
            secretArn: required(
              env.SMTP_URL_SECRET_ARN,
              "SMTP_URL_SECRET_ARN",
              "the secret holding the SMTP URL",
            ),
          };
  return {
    queueUrl,
    tableName,
    mail: {
      kind,
      from: env.MAIL_FROM,
      ratePerSecond,
      sesConfigurationSet: env.SES_CONFIGURATION_SET,
      sendTimeoutMs: env.MAIL_SEND_TIMEOUT_MS ?? MAIL_SEND_TIMEOUT_DEFAULT_MS,
    },
    digestKey,
    smtpUrl,
    logLevel: env.LOG_LEVEL ?? "info",
    metricsEmf: env.METRICS_EMF ?? false,
  };
}
