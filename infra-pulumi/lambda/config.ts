/**
 * The consumer function's configuration: the `lambda` section of the data file (each key
 * overridable by a config key of the same name), the consumer's keys it shares with the service
 * (mailer, log retention, alarms, secrets, sender: service/config.ts), and the numbers derived
 * from the mail quota and the queue (src/config/derived.ts). Checked in full with the rest of the
 * stack's config; every problem is one sentence naming the key and the fix.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { functionConcurrency, functionSendRate, functionTimingProblems } from "../../src/config/derived.js";
import { FUNCTION_FIFO_BATCH_SIZE_MAX } from "../../src/config/limits.js";
import { projectRoot } from "../../src/config/paths.js";
import type { Settings } from "../../src/config/settings.js";
import { overlaySection } from "../config-overlay.js";
import { IMAGE_KEY, type MailSending, readConsumerKeys, type ServiceSettings } from "../service/config.js";
import { LOG_RETENTION_DAYS } from "../service/sizing.js";

export type LambdaSettings = Settings["lambda"];

export interface FunctionConfig extends LambdaSettings {
  /** The bundle, resolved against the project root. */
  readonly bundlePath: string;
  readonly mailer: "smtp" | "ses";
  readonly logRetentionDays: number;
  readonly createAlarms: boolean;
  /** The event source mapping's maximum concurrency, and each invocation's send cap. */
  readonly maximumConcurrency: number;
  readonly mailRatePerSecond: number;
  readonly digestKeySecretArn: string;
  readonly mailSecretArn?: string;
  readonly sesIdentityArn?: string;
  readonly mailFrom: string;
  readonly alarmEmail?: string;
}

/** The service's own keys, which mean nothing to a function. */
const FARGATE_ONLY_KEYS = [IMAGE_KEY, "serviceSubnetIds", "serviceSecurityGroupIds"] as const;

export interface FunctionContext {
  readonly endpoint?: string | undefined;
  readonly hasTable: boolean;
  readonly fifo: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly mailSending: MailSending;
  readonly mailDomain: string;
  /** The service section, whose consumer settings (mailer, logs, alarms) the function shares. */
  readonly service: ServiceSettings;
}

/** The bundle path of the settings, from the project root unless absolute. */
export function bundlePath(path: string): string {
  return isAbsolute(path) ? path : resolve(projectRoot, path);
}

/** Reads the lambda section; `undefined` when the function is off. Problems go on `problems`. */
export function readFunctionConfig(
  config: pulumi.Config,
  defaults: LambdaSettings,
  context: FunctionContext,
  problems: string[],
): FunctionConfig | undefined {
  const key = (name: string) => `${config.name}:${name}`;
  const s = overlaySection(config, defaults, problems).value;
  if (!s.createFunction) return undefined;
  const before = problems.length;
  if (context.endpoint !== undefined) {
    problems.push(
      `${key("createFunction")} is true on an emulator stack (${key("endpoint")} is set): the emulator has no Lambda; turn one of them off.`,
    );
  }
  if (!context.hasTable) {
    problems.push(
      `${key("createFunction")} needs the shared sent-email table (${key("createSentEmailsTable")} true): invocations share no disk, so without the table they would send duplicate emails.`,
    );
  }
  const stray = FARGATE_ONLY_KEYS.filter((name) => config.get(name) !== undefined);
  if (stray.length > 0) {
    problems.push(
      `${stray.map(key).join(", ")} ${stray.length === 1 ? "is" : "are"} for the Fargate service, not the function: remove ${stray.length === 1 ? "it" : "them"}.`,
    );
  }
  const mailer = context.service.serviceMailer;
  const keys = readConsumerKeys(config, mailer, context.mailDomain, "the function", problems, true);
  if (!LOG_RETENTION_DAYS.includes(context.service.logRetentionDays)) {
    problems.push(
      `${key("logRetentionDays")} ${context.service.logRetentionDays} is not one of ${LOG_RETENTION_DAYS.join(", ")}.`,
    );
  }
  if (s.functionBatchSize > 10 && s.functionBatchingWindowSeconds < 1) {
    problems.push(
      `${key("functionBatchSize")} ${s.functionBatchSize} needs a batching window (AWS: above 10 only with one): set ${key("functionBatchingWindowSeconds")} to 1 or more, or the batch to 10.`,
    );
  }
  if (context.fifo && s.functionBatchingWindowSeconds > 0) {
    problems.push(
      `${key("functionBatchingWindowSeconds")} ${s.functionBatchingWindowSeconds} is set on a FIFO queue (${key("fifo")} true), and AWS refuses a batching window for FIFO queues: set it to 0.`,
    );
  }
  if (context.fifo && s.functionBatchSize > FUNCTION_FIFO_BATCH_SIZE_MAX) {
    problems.push(
      `${key("functionBatchSize")} ${s.functionBatchSize} is above ${FUNCTION_FIFO_BATCH_SIZE_MAX}, the most AWS hands a function from a FIFO queue: lower it.`,
    );
  }
  const mailRatePerSecond = functionSendRate(context.mailSending);
  for (const problem of functionTimingProblems({
    functionTimeoutSeconds: s.functionTimeoutSeconds,
    visibilityTimeoutSeconds: context.visibilityTimeoutSeconds,
    batchingWindowSeconds: s.functionBatchingWindowSeconds,
    batchSize: s.functionBatchSize,
    sendRatePerSecond: mailRatePerSecond,
  })) {
    problems.push(`${config.name}:${problem}`);
  }
  const path = bundlePath(s.functionBundlePath);
  if (!existsSync(path)) {
    problems.push(
      `${key("functionBundlePath")} "${s.functionBundlePath}" does not exist: run \`npm run build:lambda\` first (it writes dist/lambda/function.zip).`,
    );
  }
  const { digestKeySecretArn, mailSecretArn, sesIdentityArn, mailFrom, alarmEmail } = keys;
  if (problems.length > before || !digestKeySecretArn || !mailFrom) return undefined;
  return {
    ...s,
    bundlePath: path,
    mailer: mailer as "smtp" | "ses",
    logRetentionDays: context.service.logRetentionDays,
    createAlarms: context.service.createAlarms,
    maximumConcurrency: functionConcurrency(context.mailSending.maxConsumerTasks),
    mailRatePerSecond,
    digestKeySecretArn,
    ...(mailSecretArn ? { mailSecretArn } : {}),
    ...(sesIdentityArn && mailer === "ses" ? { sesIdentityArn } : {}),
    mailFrom,
    ...(alarmEmail ? { alarmEmail } : {}),
  };
}
