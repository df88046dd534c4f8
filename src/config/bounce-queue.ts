/**
 * The bounce queue pair (SES bounce and complaint events): its names from the `email`
 * settings, everything else from the registrations' queue settings, so it holds no number of its
 * own. The Pulumi program, the Terraform module (email.tf, the same rules) and the local stack
 * build it from here.
 */
import type { QueueSettings } from "./queue-settings.js";
import type { Settings } from "./settings.js";

export function bounceQueueSettings(email: Settings["email"], queue: QueueSettings): QueueSettings {
  return {
    ...queue,
    queueName: email.bounceQueueName,
    deadLetterQueueName: `${email.bounceQueueName}-dlq`,
    // SES events quote the email's headers: the dead-letter queue's size cap, not the 16 KiB
    // sized for registrations; and kept as long as dead letters are.
    maximumMessageSizeBytes: queue.deadLetterMaximumMessageSizeBytes,
    messageRetentionSeconds: queue.deadLetterRetentionSeconds,
    delaySeconds: 0,
    // SES publishes to standard SNS topics only, which deliver to standard queues only.
    fifo: false,
    contentBasedDeduplication: false,
  };
}
