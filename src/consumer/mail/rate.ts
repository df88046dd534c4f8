/**
 * The send rate a fleet respects: each task's share of the account's quota (the formula lives
 * once in src/config/derived.ts, which the infrastructure programs read too).
 */

import { settingsTaskSendRate } from "../../config/derived.js";
import { settings } from "../../config/settings.js";
import type { Registration } from "../../contract/registration.js";
import { type Clock, systemClock } from "../../time/clock.js";
import { TokenBucket } from "../../time/token-bucket.js";
import type { Mailer } from "./mailer.js";

export const MAIL_SENDING = {
  /** SES's maximum send rate of the account, per second (settings `email`; 14 for a new account with production access). */
  accountQuotaPerSecond: settings.email.accountSendRatePerSecond,
  /** SES's sandbox: about one message a second, to verified recipients only. */
  sandboxQuotaPerSecond: 1,
  /** The most consumer tasks the fleet scales to (settings `email.maxConsumerTasks`). */
  maxTasks: settings.email.maxConsumerTasks,
} as const;

/** The default `--mail-rate` of the SES transport: 14 ÷ 4 = 3.5 emails a second per task. */
export const DEFAULT_SES_RATE_PER_SECOND = settingsTaskSendRate();

/**
 * A mailer whose `reserve` waits for a token: the bucket holds one (no burst), so two sends of a
 * task are at least 1/rate apart: a one-second window sees at most ⌈rate⌉ of them, and a longer
 * window of T seconds at most rate × T + 1.
 */
export class RateLimitedMailer implements Mailer {
  readonly kind;
  readonly sendTimeoutMs;
  private readonly bucket: TokenBucket;

  constructor(
    private readonly inner: Mailer,
    readonly ratePerSecond: number,
    clock: Clock = systemClock,
  ) {
    this.kind = inner.kind;
    this.sendTimeoutMs = inner.sendTimeoutMs;
    this.bucket = new TokenBucket(ratePerSecond, 1, clock);
  }

  /** Waits (never fails for want of a token); an aborted signal ends the wait. */
  reserve(signal?: AbortSignal): Promise<void> {
    return this.bucket.take(1, signal);
  }

  send(registration: Registration, id: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.inner.send(registration, id, options);
  }

  prepare(options: { staleAfterMs: number }): Promise<void> {
    return this.inner.prepare?.(options) ?? Promise.resolve();
  }

  close(): void {
    this.inner.close();
  }
}
