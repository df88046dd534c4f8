/**
 * The one place a mail transport is chosen and built (`--mailer outbox|smtp|ses`), wrapped in the
 * send rate when one is set (the consumer's configuration gives ses its share of the account's
 * rate: src/stack/consumer-config.ts).
 */
import { isLoopbackHost } from "../../config/endpoint.js";
import { ConfigurationError } from "../../errors.js";
import type { Logger } from "../../log/logger.js";
import type { Mailer, MailerKind } from "./mailer.js";
import { OutboxMailer } from "./outbox.js";
import { RateLimitedMailer } from "./rate.js";
import { SesMailer } from "./ses.js";
import { SmtpMailer } from "./smtp.js";

export * from "./mailer.js";
export { OutboxMailer } from "./outbox.js";
export { RateLimitedMailer } from "./rate.js";
export { SesMailer } from "./ses.js";
export { SmtpMailer } from "./smtp.js";

/** The queue a consumer reads, as far as the choice of mailer cares. */
export interface ConsumedQueue {
  readonly queueUrl: string;
  readonly endpoint?: string | undefined;
}

export interface MailerConfig {
  readonly kind: MailerKind;
  /** Required with `smtp`. */
  readonly smtpUrl?: string | undefined;
  readonly sesConfigurationSet?: string | undefined;
  readonly from?: string | undefined;
  readonly sendTimeoutMs?: number | undefined;
  /** Emails a second at most; absent: unpaced. */
  readonly ratePerSecond?: number | undefined;
  /** The outbox folder, with `outbox`. */
  readonly outboxDir: string;
  /** Simulated latency of the outbox (demos and fault tests). */
  readonly outboxLatencyMs?: number | undefined;
  /** The queue this consumer reads: a production one refuses the outbox. */
  readonly queue: ConsumedQueue;
  readonly logger?: Logger | undefined;
}

/**
 * A queue in AWS (the SQS endpoint is not this machine) is production: its consumer runs in a
 * container whose files nobody reads, so an outbox there would send nothing while every message
 * counts as delivered. The local stack, the emulator and a Pulumi or Terraform stack applied to
 * the emulator all talk to loopback.
 */
export function isProductionQueue(queue: ConsumedQueue): boolean {
  return !isLoopbackHost(new URL(queue.endpoint ?? queue.queueUrl).hostname);
}

export function createMailer(config: MailerConfig): Mailer {
  const common = {
    ...(config.from ? { from: config.from } : {}),
    ...(config.sendTimeoutMs ? { sendTimeoutMs: config.sendTimeoutMs } : {}),
    ...(config.logger ? { logger: config.logger } : {}),
  };
  let mailer: Mailer;
  switch (config.kind) {
    case "outbox":
      if (isProductionQueue(config.queue)) {
        throw new ConfigurationError(
          "Refusing the outbox mailer on a production queue (it writes files nobody sends); use --mailer ses or --mailer smtp --smtp-url … (MAILER, SMTP_URL).",
        );
      }
      mailer = new OutboxMailer({
        outboxDir: config.outboxDir,
        ...common,
        ...(config.outboxLatencyMs ? { latencyMs: config.outboxLatencyMs } : {}),
      });
      break;
    case "smtp":
      if (!config.smtpUrl) {
        throw new ConfigurationError(
          "--mailer smtp needs --smtp-url smtp://user:password@host:587 (or SMTP_URL, from a secret).",
        );
      }
      mailer = new SmtpMailer({ url: config.smtpUrl, ...common });
      break;
    case "ses":
      mailer = new SesMailer({ configurationSet: config.sesConfigurationSet, ...common });
      break;
  }
  return config.ratePerSecond === undefined ? mailer : new RateLimitedMailer(mailer, config.ratePerSecond);
}
