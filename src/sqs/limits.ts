/**
 * SQS's documented limits, once (STYLE habit 13). Every module that sends, receives, validates a
 * setting or builds a batch takes its numbers from here, so a limit has one name.
 * Source: the Amazon SQS Developer Guide, "Amazon SQS quotas" (messages, queues, batches).
 * It imports nothing, so any layer may import it (config's setting ranges do) without a circle.
 */

/** Entries per batch action (SendMessageBatch, DeleteMessageBatch, ChangeMessageVisibilityBatch). */
export const BATCH_MAX_ENTRIES = 10;

/** Payload of one SendMessageBatch request: 256 KiB for all entries together. */
export const BATCH_MAX_BYTES = 262_144;

/** Messages one ReceiveMessage may return (MaxNumberOfMessages: 1–10). */
export const RECEIVE_MAX_MESSAGES = BATCH_MAX_ENTRIES;

/** Long-poll wait of ReceiveMessage and the ReceiveMessageWaitTimeSeconds attribute: 0–20 s. */
export const LONG_POLL_MAX_SECONDS = 20;

/** Visibility timeout of a queue or of one message (ChangeMessageVisibility): 0–43200 s (12 h). */
export const VISIBILITY_MAX_SECONDS = 43_200;

/**
 * Messages received and not yet deleted (in flight) per queue: about 120,000, after which a
 * receive returns an OverLimit error. A command that holds what it receives stops there.
 */
export const IN_FLIGHT_MAX_MESSAGES = 120_000;

/** Message attributes per message. */
export const MESSAGE_ATTRIBUTES_MAX = 10;

/** MaximumMessageSize attribute: 1 KiB to 1 MiB (the largest message SQS takes). */
export const MESSAGE_SIZE_MIN_BYTES = 1_024;
export const MESSAGE_SIZE_MAX_BYTES = 1_048_576;

/** MessageRetentionPeriod attribute: 60 s to 14 days. */
export const RETENTION_MIN_SECONDS = 60;
export const RETENTION_MAX_SECONDS = 1_209_600;

/** DelaySeconds of a queue or a message: 0–900 s (15 min). */
export const DELAY_MAX_SECONDS = 900;

/** maxReceiveCount of a redrive policy: 1–1000. */
export const MAX_RECEIVE_COUNT_MAX = 1_000;

/** KmsDataKeyReusePeriodSeconds: 60 s to 24 h. */
export const KMS_DATA_KEY_REUSE_MIN_SECONDS = 60;
export const KMS_DATA_KEY_REUSE_MAX_SECONDS = 86_400;
