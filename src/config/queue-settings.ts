/**
 * The queue pair's settings: the `queues` section of the shared data file (see settings.ts), the
 * AWS ranges each value must respect, and the SQS attributes they become. The local stack, the
 * Pulumi program and the tests import this module; Terraform reads the same data file.
 */
import type { z } from "zod";
import { settings as dataFile, type queueSettingsSchema } from "./settings.js";
import { type Row, settingsTable } from "./settings-table.js";

export type QueueSettings = z.infer<typeof queueSettingsSchema>;

/** The defaults, from infra-terraform/settings.json (reasons in settings.ts). */
export const defaultQueueSettings: QueueSettings = dataFile.queues;

/** AWS's documented ranges for each numeric setting, inclusive: the table's rows. */
export const queueSettingRanges: Readonly<Record<string, readonly [number, number]>> = Object.freeze(
  Object.fromEntries(
    Object.entries(settingsTable.queues as Record<string, Row>).flatMap(
      ([key, row]): [string, readonly [number, number]][] =>
        row.kind === "integer" && row.min !== undefined && row.max !== undefined
          ? [[key, [row.min, row.max]]]
          : [],
    ),
  ),
);

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** Every problem with `settings`, each as a sentence that names the setting and the fix. */
export function queueSettingsProblems(settings: QueueSettings): string[] {
  const problems: string[] = [];
  for (const [key, [min, max]] of Object.entries(queueSettingRanges)) {
    const value = settings[key as keyof QueueSettings] as number;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${key} is ${value}; AWS accepts a whole number from ${min} to ${max}.`);
    }
  }
  for (const key of ["queueName", "deadLetterQueueName"] as const) {
    const name = settings[key];
    const base = settings.fifo ? name.replace(/\.fifo$/, "") : name;
    if (settings.fifo && !name.endsWith(".fifo")) {
      problems.push(`${key} "${name}" must end in ".fifo" for a FIFO queue (e.g. "${name}.fifo").`);
    } else if (!QUEUE_NAME.test(base)) {
      problems.push(
        `${key} "${name}" is not a valid queue name: use 1–80 letters, digits, "-" or "_"${settings.fifo ? ' before ".fifo"' : ""}.`,
      );
    }
  }
  if (settings.queueName === settings.deadLetterQueueName) {
    problems.push("queueName and deadLetterQueueName must differ.");
  }
  if (settings.contentBasedDeduplication && !settings.fifo) {
    problems.push("contentBasedDeduplication applies to FIFO queues only: set fifo too, or drop it.");
  }
  return problems;
}

export class InvalidQueueSettingsError extends Error {
  override readonly name = "InvalidQueueSettingsError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid queue settings:\n  - ${problems.join("\n  - ")}`);
  }
}

/** Returns `settings` when valid; throws one error listing every problem otherwise. */
export function validateQueueSettings(settings: QueueSettings): QueueSettings {
  const problems = queueSettingsProblems(settings);
  if (problems.length > 0) throw new InvalidQueueSettingsError(problems);
  return settings;
}

/** The RedrivePolicy document for the main queue (SQS expects a JSON string). */
export function redrivePolicy(settings: QueueSettings, deadLetterQueueArn: string) {
  return { deadLetterTargetArn: deadLetterQueueArn, maxReceiveCount: settings.maxReceiveCount };
}

/** The RedriveAllowPolicy of the dead-letter queue: only the main queue may use it. */
export function redriveAllowPolicy(mainQueueArn: string) {
  return { redrivePermission: "byQueue", sourceQueueArns: [mainQueueArn] };
}

function fifoAttributes(settings: QueueSettings): Record<string, string> {
  if (!settings.fifo) return {};
  return {
    FifoQueue: "true",
    ContentBasedDeduplication: String(settings.contentBasedDeduplication),
    DeduplicationScope: settings.deduplicationScope,
  };
}

/** CreateQueue attributes of the main queue, including its RedrivePolicy. */
export function mainQueueAttributes(
  settings: QueueSettings,
  deadLetterQueueArn: string,
): Record<string, string> {
  return {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(settings.messageRetentionSeconds),
    MaximumMessageSize: String(settings.maximumMessageSizeBytes),
    ReceiveMessageWaitTimeSeconds: String(settings.receiveWaitTimeSeconds),
    DelaySeconds: String(settings.delaySeconds),
    SqsManagedSseEnabled: "true",
    RedrivePolicy: JSON.stringify(redrivePolicy(settings, deadLetterQueueArn)),
    ...fifoAttributes(settings),
  };
}

/**
 * CreateQueue attributes of the dead-letter queue. Its RedriveAllowPolicy names the main queue's
 * ARN, which exists only after the main queue does: pass it once known (SetQueueAttributes).
 */
export function deadLetterQueueAttributes(
  settings: QueueSettings,
  mainQueueArn?: string,
): Record<string, string> {
  return {
    VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(settings.deadLetterRetentionSeconds),
    MaximumMessageSize: String(settings.deadLetterMaximumMessageSizeBytes),
    ReceiveMessageWaitTimeSeconds: String(settings.receiveWaitTimeSeconds),
    DelaySeconds: "0",
    SqsManagedSseEnabled: "true",
    ...(mainQueueArn ? { RedriveAllowPolicy: JSON.stringify(redriveAllowPolicy(mainQueueArn)) } : {}),
    ...fifoAttributes(settings),
  };
}
