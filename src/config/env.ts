/**
 * The only reader of `process.env`. Each variable is parsed once, with a schema, into a typed
 * object; a bad value is one message that names the variable and the fix. Command-line flags
 * override these (see src/cli/).
 */
import { z } from "zod";
import { MIN_DIGEST_KEY_LENGTH } from "../contract/digest.js";
import { ConfigurationError } from "../errors.js";
import { logLevels } from "../log/logger.js";
import { queueSources } from "../stack/resolve.js";

const port = z.coerce.number().int().min(0).max(65_535);
const positive = z.coerce.number().int().min(1);

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
  HEALTH_PORT: port.optional(),
  HEALTH_HOST: z.string().min(1).optional(),
  REGISTRATION_DIGEST_KEY: z
    .string()
    .min(MIN_DIGEST_KEY_LENGTH, `at least ${MIN_DIGEST_KEY_LENGTH} characters`)
    .optional(),
});

/** Never echoed in an error message. */
const secrets: ReadonlySet<string> = new Set(["REGISTRATION_DIGEST_KEY"]);

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
  HEALTH_PORT: "port of the consumer's /healthz and /metrics; off when unset (--health-port)",
  HEALTH_HOST: "address the health port listens on; 127.0.0.1 by default (--health-host)",
  REGISTRATION_DIGEST_KEY:
    "secret keying registration digests and default ids, e.g. `openssl rand -hex 32`; the same on every producer and consumer of a queue (default: generated once in <state-dir>/digest.key)",
};

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
