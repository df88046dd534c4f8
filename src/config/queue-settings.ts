/**
 * The queue pair's settings, written once. The local stack, the Pulumi program and the tests
 * import this module; the Terraform definition is proven equal to it by a test. It has no
 * dependencies so that every layer (including the Pulumi program) can import it cheaply.
 */

export interface QueueSettings {
  /** Main queue name. FIFO queues must end in `.fifo` (AWS rule). */
  readonly queueName: string;
  /** Dead-letter queue name. FIFO: must also end in `.fifo` (a FIFO queue's DLQ is FIFO). */
  readonly deadLetterQueueName: string;
  /** Seconds a received message stays invisible to other consumers (AWS: 0–43200). */
  readonly visibilityTimeoutSeconds: number;
  /** Seconds SQS keeps an unconsumed message on the main queue (AWS: 60–1209600). */
  readonly messageRetentionSeconds: number;
  /** Seconds the dead-letter queue keeps a message (AWS: 60–1209600). */
  readonly deadLetterRetentionSeconds: number;
  /** Largest accepted message, in bytes (AWS: 1024–1048576). */
  readonly maximumMessageSizeBytes: number;
  /** Long-poll wait of ReceiveMessage, in seconds (AWS: 0–20). */
  readonly receiveWaitTimeSeconds: number;
  /** Failed receives before SQS moves a message to the dead-letter queue (AWS: 1–1000). */
  readonly maxReceiveCount: number;
  /** Delay before a new message becomes visible, in seconds (AWS: 0–900). */
  readonly delaySeconds: number;
  /** FIFO pair (ordering per group, exactly-once send within 5 minutes). */
  readonly fifo: boolean;
  /** FIFO only: derive the deduplication id from the body's SHA-256. */
  readonly contentBasedDeduplication: boolean;
}

/**
 * Defaults chosen for welcome emails:
 * - visibility 60 s: sending one email takes well under a second, an SMTP server that hangs is cut
 *   off by its 30 s timeout, and the consumer's heartbeat extends visibility for slower work; a
 *   short timeout means a crashed consumer's messages come back within a minute.
 * - retention 4 days (the AWS default): a welcome email older than that is no longer welcome,
 *   but a weekend outage of the mail provider must not drop registrations.
 * - dead-letter retention 14 days (the AWS maximum): time for a human to look and redrive.
 * - maximum size 16 KiB: a registration is ~200 bytes; a small cap turns garbage into an early,
 *   clear error instead of a 1 MiB message that costs 16 billed requests.
 * - long poll 20 s (the AWS maximum): the fewest empty receives, so the cheapest idle consumer.
 * - maxReceiveCount 5: with the consumer's backoff (2 s, 4 s, 8 s, 16 s) a transient mail outage
 *   of about half a minute is ridden out; a message that fails five times is poison.
 * - no delay, standard queue: registrations are independent, order does not matter, and the
 *   consumer is idempotent (duplicates are expected under at-least-once delivery).
 */
export const defaultQueueSettings: QueueSettings = Object.freeze({
  queueName: "user-registrations",
  deadLetterQueueName: "user-registrations-dlq",
  visibilityTimeoutSeconds: 60,
  messageRetentionSeconds: 4 * 24 * 60 * 60,
  deadLetterRetentionSeconds: 14 * 24 * 60 * 60,
  maximumMessageSizeBytes: 16 * 1024,
  receiveWaitTimeSeconds: 20,
  maxReceiveCount: 5,
  delaySeconds: 0,
  fifo: false,
  contentBasedDeduplication: false,
});

/** AWS's documented ranges for each numeric setting, inclusive. */
export const queueSettingRanges = Object.freeze({
  visibilityTimeoutSeconds: [0, 43_200],
  messageRetentionSeconds: [60, 1_209_600],
  deadLetterRetentionSeconds: [60, 1_209_600],
  maximumMessageSizeBytes: [1_024, 1_048_576],
  receiveWaitTimeSeconds: [0, 20],
  maxReceiveCount: [1, 1_000],
  delaySeconds: [0, 900],
} as const satisfies Record<string, readonly [number, number]>);

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** Every problem with `settings`, each as a sentence that names the setting and the fix. */
export function queueSettingsProblems(settings: QueueSettings): string[] {
  const problems: string[] = [];
  for (const [key, [min, max]] of Object.entries(queueSettingRanges)) {
    const value = settings[key as keyof typeof queueSettingRanges];
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
  };
}

/**
 * The dead-letter queue must accept anything the main queue accepted plus the attributes the
 * consumer adds when it dead-letters an invalid body; 256 KiB is the limit every AWS provider
 * version accepts.
 */
export const DEAD_LETTER_MAXIMUM_MESSAGE_SIZE_BYTES = 262_144;

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
    MaximumMessageSize: String(DEAD_LETTER_MAXIMUM_MESSAGE_SIZE_BYTES),
    ReceiveMessageWaitTimeSeconds: String(settings.receiveWaitTimeSeconds),
    DelaySeconds: "0",
    SqsManagedSseEnabled: "true",
    ...(mainQueueArn ? { RedriveAllowPolicy: JSON.stringify(redriveAllowPolicy(mainQueueArn)) } : {}),
    ...fifoAttributes(settings),
  };
}
