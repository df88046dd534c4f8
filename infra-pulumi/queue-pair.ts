import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { type QueueSettings, redriveAllowPolicy, redrivePolicy } from "../src/config/queue-settings.js";
import { tlsOnlyQueuePolicy, topicSubscriberQueuePolicy } from "./policies.js";

export interface QueuePairArgs {
  /** Names, timeouts, retention, sizes, redrive count and FIFO flag: the shared settings. */
  readonly settings: QueueSettings;
  /** Customer-managed KMS key; SQS-managed encryption when absent. */
  readonly kmsKeyArn?: string;
  /**
   * An SNS topic allowed to send to the main queue (the SES events topic of the bounce pair);
   * without it the queue policy only denies requests without TLS.
   */
  readonly subscribedTopicArn?: pulumi.Input<string>;
  /**
   * Keep both queues (and their messages) when Pulumi would delete them: on `pulumi destroy`, and
   * when a replacement deletes the old queue (a renamed queue). On for AWS, off for an emulator
   * stack, which must come and go (the program decides: infra-pulumi/program.ts).
   */
  readonly retainOnDelete?: boolean;
}

/**
 * The main queue and its dead-letter queue: redrive after maxReceiveCount, a redrive-allow policy
 * that admits only the main queue, encryption at rest, and a TLS-only queue policy on both.
 * Child names derive from the component's name, so two pairs in one stack do not collide.
 */
export class QueuePair extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly redrivePolicy: aws.sqs.RedrivePolicy;
  readonly redriveAllowPolicy: aws.sqs.RedriveAllowPolicy;
  readonly queuePolicy: aws.sqs.QueuePolicy;
  readonly deadLetterQueuePolicy: aws.sqs.QueuePolicy;
  /** Whether both queues are kept when Pulumi would delete them. */
  readonly retainOnDelete: boolean;

  constructor(name: string, args: QueuePairArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:QueuePair", name, {}, options);
    const s = args.settings;
    const child = { parent: this };
    // Not `protect`: that would make `pulumi destroy` of the rest of the stack fail.
    this.retainOnDelete = args.retainOnDelete ?? false;
    const kept = { ...child, retainOnDelete: this.retainOnDelete };
    // SSE-SQS by default; a customer-managed key replaces it. AWS accepts one or the other, and
    // the provider rejects sqsManagedSseEnabled (even false) next to kmsMasterKeyId; the data-key
    // reuse period means something only with a key (the provider plans 0 without one).
    const encryption = args.kmsKeyArn
      ? { kmsMasterKeyId: args.kmsKeyArn, kmsDataKeyReusePeriodSeconds: s.kmsDataKeyReusePeriodSeconds }
      : { sqsManagedSseEnabled: true };
    // A standard queue has no deduplication: SQS refuses the FIFO-only attribute there.
    const fifo = {
      fifoQueue: s.fifo,
      contentBasedDeduplication: s.contentBasedDeduplication,
      ...(s.fifo ? { deduplicationScope: s.deduplicationScope } : {}),
    };

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: s.deadLetterQueueName,
        visibilityTimeoutSeconds: s.visibilityTimeoutSeconds,
        messageRetentionSeconds: s.deadLetterRetentionSeconds,
        maxMessageSize: s.deadLetterMaximumMessageSizeBytes,
        receiveWaitTimeSeconds: s.receiveWaitTimeSeconds,
        delaySeconds: 0,
        ...encryption,
        ...fifo,
      },
      kept,
    );
    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: s.queueName,
        visibilityTimeoutSeconds: s.visibilityTimeoutSeconds,
        messageRetentionSeconds: s.messageRetentionSeconds,
        maxMessageSize: s.maximumMessageSizeBytes,
        receiveWaitTimeSeconds: s.receiveWaitTimeSeconds,
        delaySeconds: s.delaySeconds,
        ...encryption,
        ...fifo,
      },
      kept,
    );
    // Redrive and redrive-allow as their own resources: each queue names the other's ARN.
    this.redrivePolicy = new aws.sqs.RedrivePolicy(
      `${name}-redrive`,
      {
        queueUrl: this.queue.url,
        redrivePolicy: this.deadLetterQueue.arn.apply((arn) => JSON.stringify(redrivePolicy(s, arn))),
      },
      child,
    );
    this.redriveAllowPolicy = new aws.sqs.RedriveAllowPolicy(
      `${name}-redrive-allow`,
      {
        queueUrl: this.deadLetterQueue.url,
        redriveAllowPolicy: this.queue.arn.apply((arn) => JSON.stringify(redriveAllowPolicy(arn))),
      },
      child,
    );
    this.queuePolicy = new aws.sqs.QueuePolicy(
      `${name}-queue-policy`,
      {
        queueUrl: this.queue.url,
        policy: args.subscribedTopicArn
          ? pulumi
              .all([this.queue.arn, args.subscribedTopicArn])
              .apply(([arn, topic]) => JSON.stringify(topicSubscriberQueuePolicy(arn, topic)))
          : this.queue.arn.apply((arn) => JSON.stringify(tlsOnlyQueuePolicy(arn))),
      },
      child,
    );
    this.deadLetterQueuePolicy = new aws.sqs.QueuePolicy(
      `${name}-dlq-policy`,
      {
        queueUrl: this.deadLetterQueue.url,
        policy: this.deadLetterQueue.arn.apply((arn) => JSON.stringify(tlsOnlyQueuePolicy(arn))),
      },
      child,
    );
    this.registerOutputs({
      queueUrl: this.queue.url,
      queueArn: this.queue.arn,
      deadLetterQueueUrl: this.deadLetterQueue.url,
      deadLetterQueueArn: this.deadLetterQueue.arn,
    });
  }
}
