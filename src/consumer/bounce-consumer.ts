/**
 * The bounce queue's consumer: the same runtime as the registrations', with the bounce
 * handler (mail/bounces.ts) writing the shared suppression list. Its poison messages go to the
 * bounce queue's own dead-letter queue, found from its redrive policy as the runtime always does.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DigestKey } from "../contract/digest.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { type BounceCounts, bounceHandler } from "./mail/bounces.js";
import type { SuppressionList } from "./mail/suppression.js";
import { Consumer } from "./runtime/state-machine.js";
import type { ConsumerOptions } from "./runtime/types.js";

export interface BounceConsumerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly suppression: SuppressionList;
  readonly digestKey: DigestKey;
  readonly logger?: Logger;
  /** Runtime options (polls, deadline, stop when empty…). */
  readonly consumer?: Omit<ConsumerOptions, "client" | "queueUrl" | "handler" | "logger">;
}

/**
 * Bounces arrive a few a minute at most (SES asks for under 5 % of sends): a couple of handlers
 * keep up, and leave the connections and the store to the registrations.
 */
export const BOUNCE_CONCURRENCY = 2;

export function buildBounceConsumer(options: BounceConsumerOptions): {
  consumer: Consumer;
  counts: BounceCounts;
} {
  const logger = options.logger ?? silentLogger;
  const counts: BounceCounts = { suppressed: 0, ignored: 0 };
  const consumer = new Consumer({
    concurrency: BOUNCE_CONCURRENCY,
    ...options.consumer,
    client: options.client,
    queueUrl: options.queueUrl,
    handler: bounceHandler({
      digestKey: options.digestKey,
      suppression: options.suppression,
      counts,
      logger,
    }),
    logger,
  });
  return { consumer, counts };
}
