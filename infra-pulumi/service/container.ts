/**
 * The consumer's container definition, as plain data from plain values (Terraform writes the same
 * in service.tf; the parity test compares the two). No Pulumi import.
 */
import { CONTAINER_NAME, LOG_STREAM_PREFIX } from "./policies.js";

/** Where the task may write: the one scratch volume (the root filesystem is read-only). */
export const SCRATCH_VOLUME = "scratch";
export const SCRATCH_PATH = "/tmp";
/** The consumer's state folder (digest key fallback, SQLite fallback) inside the scratch volume. */
export const STATE_DIR = "/tmp/sqs-messaging";
/** The `node` user of the official Node image (uid/gid 1000): never root. */
export const CONTAINER_USER = "1000:1000";

export interface ContainerInput {
  readonly image: string;
  readonly region: string;
  readonly queueUrl: string;
  readonly tableName: string;
  readonly logGroupName: string;
  readonly mailer: "smtp" | "ses";
  readonly mailFrom: string;
  readonly mailRatePerSecond: number;
  readonly healthCheckPort: number;
  readonly stopTimeoutSeconds: number;
  readonly digestKeySecretArn: string;
  readonly mailSecretArn?: string | undefined;
  /** With the ses mailer and the stack's mail part: SES_CONFIGURATION_SET and BOUNCE_QUEUE_URL. */
  readonly sesConfigurationSet?: string | undefined;
  readonly bounceQueueUrl?: string | undefined;
}

/** The `/healthz` probe, run inside the task with the image's own Node (no curl in the image). */
export function healthCheckCommand(port: number): string[] {
  return [
    "CMD",
    "node",
    "-e",
    `fetch('http://127.0.0.1:${port}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`,
  ];
}

/** Sorts names as Terraform's sort() does (by code point), not by locale. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function containerDefinitions(input: ContainerInput): Record<string, unknown>[] {
  const environment: Record<string, string> = {
    AWS_REGION: input.region,
    HEALTH_HOST: "127.0.0.1",
    HEALTH_PORT: String(input.healthCheckPort),
    MAILER: input.mailer,
    MAIL_FROM: input.mailFrom,
    MAIL_RATE_PER_SECOND: String(input.mailRatePerSecond),
    // The consumer's own metrics (ConsumerPaused feeds the paused alarm), shipped by awslogs.
    METRICS_EMF: "1",
    SENT_EMAILS_TABLE_NAME: input.tableName,
    SENT_EMAIL_STORE: "dynamodb",
    SQS_QUEUE_URL: input.queueUrl,
    SQS_STATE_DIR: STATE_DIR,
    // The task finds its queue by URL, without stack outputs: it is told the bounce queue too.
    ...(input.sesConfigurationSet ? { SES_CONFIGURATION_SET: input.sesConfigurationSet } : {}),
    ...(input.bounceQueueUrl ? { BOUNCE_QUEUE_URL: input.bounceQueueUrl } : {}),
  };
  const secrets: Record<string, string> = {
    REGISTRATION_DIGEST_KEY: input.digestKeySecretArn,
    ...(input.mailSecretArn ? { SMTP_URL: input.mailSecretArn } : {}),
  };
  return [
    {
      name: CONTAINER_NAME,
      image: input.image,
      essential: true,
      user: CONTAINER_USER,
      readonlyRootFilesystem: true,
      stopTimeout: input.stopTimeoutSeconds,
      environment: Object.entries(environment)
        .sort(([a], [b]) => byteOrder(a, b))
        .map(([name, value]) => ({ name, value })),
      secrets: Object.entries(secrets)
        .sort(([a], [b]) => byteOrder(a, b))
        .map(([name, valueFrom]) => ({ name, valueFrom })),
      mountPoints: [{ sourceVolume: SCRATCH_VOLUME, containerPath: SCRATCH_PATH, readOnly: false }],
      healthCheck: {
        command: healthCheckCommand(input.healthCheckPort),
        interval: 30,
        timeout: 5,
        retries: 3,
        startPeriod: 30,
      },
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": input.logGroupName,
          "awslogs-region": input.region,
          "awslogs-stream-prefix": LOG_STREAM_PREFIX,
          // A slow CloudWatch must not block the consumer's writes to stderr (and so its loop).
          mode: "non-blocking",
          "max-buffer-size": "4m",
        },
      },
    },
  ];
}
