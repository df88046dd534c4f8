/**
 * The only reader of `process.env`. Each variable is parsed once, with a schema, into a typed
 * object; a bad value is one message that names the variable and the fix. Command-line flags
 * override these (see src/cli/).
 */
import { z } from "zod";
import { MIN_DIGEST_KEY_LENGTH } from "../contract/digest.js";
import { ConfigurationError } from "../errors.js";
import { logLevels } from "../log/logger.js";
import {
  MAIL_RATE_MAX_PER_SECOND,
  MAIL_RATE_MIN_PER_SECOND,
  MAIL_SEND_TIMEOUT_MAX_MS,
  MAIL_SEND_TIMEOUT_MIN_MS,
  PORT_MAX,
  PORT_MIN,
} from "./limits.js";

/**
 * Where a command finds the queue (QUEUE_SOURCE, --source): the local stack's outputs file, a
 * Pulumi stack or a Terraform folder. Here, at the bottom, so the resolver above imports it.
 */
export const queueSources = ["local", "pulumi", "terraform"] as const;
export type QueueSource = (typeof queueSources)[number];

/** How welcome emails leave (src/consumer/mail/). */
export const mailerKinds = ["outbox", "smtp", "ses"] as const;

const port = z.coerce.number().int().min(PORT_MIN).max(PORT_MAX);
const positive = z.coerce.number().int().min(1);
/** A Secrets Manager secret's ARN (arn:<partition>:secretsmanager:<region>:<account>:secret:<name>). */
const secretArn = z
  .string()
  .regex(/^arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:[\w/+=.@-]+$/, "a Secrets Manager secret ARN");

const envSchema = z.object({
  SQS_QUEUE_URL: z.string().min(1).optional(),
  QUEUE_SOURCE: z.enum(queueSources).optional(),
  PULUMI_STACK: z.string().min(1).optional(),
  TERRAFORM_DIR: z.string().min(1).optional(),
  TF_PLUGIN_MIRROR: z.string().min(1).optional(),
  SQS_STATE_DIR: z.string().min(1).optional(),
  LOCAL_SQS_PORT: port.optional(),
  LOG_LEVEL: z.enum(logLevels).optional(),
  CONSUMER_CONCURRENCY: positive.optional(),
  SENT_EMAIL_STORE: z.enum(["sqlite", "dynamodb"]).optional(),
  SENT_EMAILS_TABLE_NAME: z
    .string()
    .regex(/^[\w.-]{3,255}$/, "3–255 letters, digits, _, - or .")
    .optional(),
  BOUNCE_QUEUE_URL: z.url().optional(),
  HEALTH_PORT: port.optional(),
  HEALTH_HOST: z.string().min(1).optional(),
  REGISTRATION_DIGEST_KEY: z
    .string()
    .min(MIN_DIGEST_KEY_LENGTH, `at least ${MIN_DIGEST_KEY_LENGTH} characters`)
    // Blanks are no secret: "                                " would pass a length check.
    .refine((key) => key.trim().length >= MIN_DIGEST_KEY_LENGTH, {
      message: `at least ${MIN_DIGEST_KEY_LENGTH} characters that are not blanks`,
    })
    .optional(),
  // The Lambda function reads both secrets once per container (src/lambda/secrets.ts): an ECS task
  // gets the values injected instead (REGISTRATION_DIGEST_KEY, SMTP_URL), a function only the ARNs.
  REGISTRATION_DIGEST_KEY_SECRET_ARN: secretArn.optional(),
  SMTP_URL_SECRET_ARN: secretArn.optional(),
  // OpenTelemetry's standard variables (the SDK is started only when these ask for it).
  OTEL_SDK_DISABLED: z.enum(["true", "false"]).optional(),
  OTEL_TRACES_EXPORTER: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  MAILER: z.enum(mailerKinds).optional(),
  SMTP_URL: z.string().min(1).optional(),
  SES_CONFIGURATION_SET: z.string().min(1).optional(),
  MAIL_FROM: z.string().min(3).optional(),
  MAIL_SEND_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(MAIL_SEND_TIMEOUT_MIN_MS)
    .max(MAIL_SEND_TIMEOUT_MAX_MS)
    .optional(),
  MAIL_RATE_PER_SECOND: z.coerce
    .number()
    .min(MAIL_RATE_MIN_PER_SECOND)
    .max(MAIL_RATE_MAX_PER_SECOND)
    .optional(),
  METRICS_EMF: z
    .enum(["0", "1"])
    .transform((value) => value === "1")
    .optional(),
});

/** Never echoed in an error message. */
const secrets: ReadonlySet<string> = new Set(["REGISTRATION_DIGEST_KEY", "SMTP_URL"]);

export type Environment = z.infer<typeof envSchema>;

/** Variables this project reads, with what each one sets; shown in --help and the README. */
export const environmentHelp: Record<keyof Environment, string> = {
  SQS_QUEUE_URL: "queue URL; wins over stack outputs (--queue-url)",
  QUEUE_SOURCE: "where to read stack outputs: local | pulumi | terraform (--source)",
  PULUMI_STACK: "Pulumi stack to read outputs from (--stack)",
  TERRAFORM_DIR: "Terraform working directory, infra-terraform/ by default (--terraform-dir)",
  TF_PLUGIN_MIRROR: "provider mirror folder for an offline `terraform init` in tf:local (--plugin-mirror)",
  SQS_STATE_DIR: "local state folder: emulator data, outputs, outbox (--state-dir)",
  LOCAL_SQS_PORT: "port of the local SQS started by `npm run local` (--port)",
  LOG_LEVEL: "fatal | error | warn | info | debug | trace | silent (--log-level)",
  CONSUMER_CONCURRENCY: "messages the consumer works on at once (--concurrency)",
  SENT_EMAIL_STORE:
    "sqlite | dynamodb: where the consumer records sent emails; default dynamodb when the stack outputs name a table (--store)",
  SENT_EMAILS_TABLE_NAME:
    "the shared sent-email table when the queue comes from SQS_QUEUE_URL (the ECS task sets it from the stack); stack outputs name it otherwise",
  BOUNCE_QUEUE_URL:
    "the SES bounce queue when the queue comes from SQS_QUEUE_URL (the ECS task sets it when the stack has the mail part); stack outputs name it otherwise",
  HEALTH_PORT: "port of the consumer's /healthz and /metrics; off when unset (--health-port)",
  HEALTH_HOST: "address the health port listens on; 127.0.0.1 by default (--health-host)",
  REGISTRATION_DIGEST_KEY:
    "secret keying registration digests and default ids, e.g. `openssl rand -hex 32`; the same on every producer and consumer of a queue (default: generated once in <state-dir>/digest.key)",
  REGISTRATION_DIGEST_KEY_SECRET_ARN:
    "the Lambda function: ARN of the Secrets Manager secret holding the digest key, read once per container",
  SMTP_URL_SECRET_ARN:
    "the Lambda function with MAILER=smtp: ARN of the Secrets Manager secret holding the SMTP URL, read once per container",
  OTEL_SDK_DISABLED: "true: no tracing SDK whatever else is set",
  OTEL_TRACES_EXPORTER: "otlp: export traces over OTLP/HTTP; none (default without an OTLP endpoint): no SDK",
  OTEL_EXPORTER_OTLP_ENDPOINT: "OTLP collector, e.g. http://127.0.0.1:4318; turns tracing on",
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT:
    "OTLP traces URL, e.g. http://127.0.0.1:4318/v1/traces; turns tracing on",
  OTEL_SERVICE_NAME: "service name on the spans (default: the command, e.g. sqs-messaging-consumer)",
  MAILER: "how welcome emails leave: outbox | smtp | ses (--mailer)",
  SMTP_URL:
    "smtp://user:password@host:587 (STARTTLS) or smtps://…:465; plain only to loopback; a secret, never shown (--smtp-url)",
  SES_CONFIGURATION_SET: "SES configuration set whose events feed the bounce queue (--ses-config-set)",
  MAIL_FROM: 'sender of the welcome emails, e.g. "Cadastro <no-reply@example.com>" (--mail-from)',
  MAIL_SEND_TIMEOUT_MS: `longest one send may take, ${MAIL_SEND_TIMEOUT_MIN_MS}–${MAIL_SEND_TIMEOUT_MAX_MS} ms; the claim lease outlasts it (--send-timeout)`,
  MAIL_RATE_PER_SECOND: `emails a second this consumer sends at most, ${MAIL_RATE_MIN_PER_SECOND}–${MAIL_RATE_MAX_PER_SECOND}: account quota ÷ maximum tasks (--mail-rate)`,
  METRICS_EMF:
    "1: write the consumer's CloudWatch metrics as EMF lines on stderr once a minute; 0 or unset: off (--metrics-emf)",
};

/** Whether (and as what) to start the tracing SDK, from OpenTelemetry's standard variables. */
export interface TracingSettings {
  readonly enabled: boolean;
  readonly serviceName: string;
}

export function tracingSettings(env: Environment, defaultServiceName: string): TracingSettings {
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "").split(",").map((e) => e.trim());
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const asked =
    exporters.includes("otlp") || (env.OTEL_TRACES_EXPORTER === undefined && endpoint !== undefined);
  return {
    enabled: asked && env.OTEL_SDK_DISABLED !== "true",
    serviceName: env.OTEL_SERVICE_NAME ?? defaultServiceName,
  };
}

export function readEnvironment(env: NodeJS.ProcessEnv = process.env): Environment {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape)
      .filter((name) => env[name] !== undefined && env[name] !== "")
      .map((name) => [name, env[name]]),
  );
  const result = envSchema.safeParse(known);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    const shown = secrets.has(name) ? "(hidden)" : JSON.stringify(env[name]);
    return `${name}=${shown} is invalid (${issue.message}); ${environmentHelp[name as keyof Environment]}`;
  });
  throw new ConfigurationError(`Bad environment variable: ${problems.join("; ")}. Fix or unset it.`);
}

/** This process's environment plus `extra`, for a child process (the Terraform CLI). */
export function childEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}
