/**
 * The function's environment, as plain data from plain values (Terraform writes the same in
 * lambda.tf; the parity test compares the two). The names are the Fargate container's where the
 * meaning is the same (service/container.ts), so src/config/env.ts stays the one reader; the
 * secrets are ARNs the handler reads once per container, where ECS would inject their values.
 * No Pulumi import.
 */

import { LAMBDA_BUNDLE } from "../../src/contract/lambda-bundle.js";

/** The function's runtime, handler and architecture: what the bundle (npm run build:lambda) is built for. */
export const FUNCTION_RUNTIME = LAMBDA_BUNDLE.runtime;
export const FUNCTION_HANDLER = LAMBDA_BUNDLE.handler;
export const FUNCTION_ARCHITECTURE = LAMBDA_BUNDLE.architecture;
/** The log level of the function (pino's; LOG_LEVEL). */
export const FUNCTION_LOG_LEVEL = "info";

export interface FunctionEnvironmentInput {
  readonly queueUrl: string;
  readonly tableName: string;
  readonly mailer: "smtp" | "ses";
  readonly mailFrom: string;
  readonly mailRatePerSecond: number;
  readonly digestKeySecretArn: string;
  readonly mailSecretArn?: string | undefined;
  /** With the ses mailer and the stack's mail part: its configuration set. */
  readonly sesConfigurationSet?: string | undefined;
}

export function functionEnvironment(input: FunctionEnvironmentInput): Record<string, string> {
  return {
    LOG_LEVEL: FUNCTION_LOG_LEVEL,
    MAILER: input.mailer,
    MAIL_FROM: input.mailFrom,
    MAIL_RATE_PER_SECOND: String(input.mailRatePerSecond),
    // The handler's own metrics, as EMF lines on stdout, which Lambda ships to the log group.
    METRICS_EMF: "1",
    REGISTRATION_DIGEST_KEY_SECRET_ARN: input.digestKeySecretArn,
    SENT_EMAILS_TABLE_NAME: input.tableName,
    SENT_EMAIL_STORE: "dynamodb",
    SQS_QUEUE_URL: input.queueUrl,
    ...(input.mailSecretArn ? { SMTP_URL_SECRET_ARN: input.mailSecretArn } : {}),
    ...(input.sesConfigurationSet ? { SES_CONFIGURATION_SET: input.sesConfigurationSet } : {}),
  };
}
