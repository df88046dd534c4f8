/**
 * Turns a raw SQS message into a welcome email. A body that is not a registration can never
 * succeed, so it becomes a PoisonMessageError (dead-lettered at once, with the reason).
 *
 * With a store, each registration gets one email however often SQS delivers it: the id is claimed
 * for the registration's digest, the email sent, the claim marked sent, and only then is the
 * message deleted. Whoever sends chooses the id, so a known id with another digest is a conflict
 * (dead-lettered as `id-conflict`), never a duplicate.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { type DigestKey, registrationDigests } from "../contract/digest.js";
import {
  NotJsonError,
  parseRegistration,
  processingIdOf,
  type Registration,
  WrongShapeError,
} from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";
import type { HandlerContext, MessageHandler } from "./consumer.js";
import { NotSentError, PoisonMessageError, RetryAfterError } from "./errors.js";
import type { WelcomeSender } from "./mail/mailer.js";
import { isAddressSuppressed, type SuppressionList } from "./mail/suppression.js";
import { type Claim, type SentEmailStore, StaleClaimError } from "./store/contract.js";
import { claimUnderAnyDigest } from "./store/digest-transition.js";

/** The claim ran out (or the consumer is stopping) before the send could start: nothing was sent. */
export class ClaimLapsedError extends Error {
  override readonly name = "ClaimLapsedError";
  constructor(readonly registrationId: string) {
    super(`the claim on registration ${registrationId} ran out before its email was sent; nothing was sent`);
  }
}

export interface RegistrationCounts {
  /** Welcome emails sent. */
  sent: number;
  /** Deliveries whose email had been sent already (at-least-once duplicates): nothing sent. */
  duplicates: number;
  /** Known ids with another registration's content: dead-lettered as `id-conflict`. */
  conflicts: number;
  /** Addresses on the suppression list (hard bounce, complaint): nothing sent, message deleted. */
  suppressed?: number;
  /**
   * Claims taken over by another consumer before this one marked them sent (it was paused past
   * its lease): the late write was rejected (StaleClaimError) and the message is retried.
   */
  staleClaims?: number;
}

export interface RegistrationHandlerOptions {
  /** Keys the registration digest and the default ids. */
  readonly digestKey: DigestKey;
  /** Without one every delivery sends (tests, one-shot tools). */
  readonly store?: SentEmailStore | undefined;
  /** Addresses never to mail again (hard bounces, complaints). */
  readonly suppression?: SuppressionList | undefined;
  readonly counts?: RegistrationCounts;
  readonly logger?: Logger;
  /** Epoch ms; the store's clock. */
  readonly now?: () => number;
  /**
   * A send still running after this long is aborted (an ambiguous end: its claim lapses). The
   * store's lease is this plus a margin (store/timing.ts), so a live holder never sends after its
   * lease. Default: no limit (one-shot tools without a shared store).
   */
  readonly sendTimeoutMs?: number;
}

function parse(message: Message): Registration {
  try {
    return parseRegistration(message.Body ?? "");
  } catch (error) {
    if (error instanceof NotJsonError || error instanceof WrongShapeError) {
      throw new PoisonMessageError(error.reason, error.message, { cause: error });
    }
    throw error;
  }
}

export function registrationHandler(
  sender: WelcomeSender,
  options: RegistrationHandlerOptions,
): MessageHandler {
  const { digestKey, store, suppression } = options;
  const counts = options.counts ?? { sent: 0, duplicates: 0, conflicts: 0 };
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;

  async function giveBack(claim: Claim): Promise<void> {
    try {
      await store?.release(claim);
    } catch (error) {
      // Taken over already: the record is someone else's now, nothing to give back.
      if (!(error instanceof StaleClaimError)) throw error;
      counts.staleClaims = (counts.staleClaims ?? 0) + 1;
      logger.warn(
        { registrationId: claim.id, err: error },
        "claim taken over by another consumer before it was given back: this late write was rejected",
      );
    }
  }

  return async (message: Message, context: HandlerContext) => {
    const registration = parse(message);
    const id = processingIdOf(registration, digestKey);
    if (suppression && (await isAddressSuppressed(suppression, registration.email, digestKey))) {
      counts.suppressed = (counts.suppressed ?? 0) + 1;
      logger.info({ registrationId: id }, "address suppressed (bounced or complained): no welcome email");
      return;
    }
    // The send rate's token before the claim: a wait for it cannot eat into the claim's lease.
    await sender.reserve?.(context.signal);
    if (!store) {
      await sender.send(registration, id).catch((error: unknown) => {
        throw error instanceof NotSentError ? error.cause : error;
      });
      counts.sent += 1;
      return;
    }
    const result = await claimUnderAnyDigest(registrationDigests(registration, digestKey), (digest) =>
      store.claim(id, digest),
    );
    switch (result.outcome) {
      case "already-sent":
        counts.duplicates += 1;
        return;
      case "conflict":
        counts.conflicts += 1;
        // The id and the message id only: the address is what this conflict must not leak.
        logger.warn(
          { registrationId: id, messageId: message.MessageId },
          "registration id already used by a different registration",
        );
        throw new PoisonMessageError(
          "id-conflict",
          `registration id ${id} is already used by a different registration (another name or address)`,
        );
      case "in-progress":
        throw new RetryAfterError(
          Math.max(0, (result.leaseUntil - now()) / 1000),
          `the welcome email for ${id} is being sent by another consumer; looking again when its claim ends`,
        );
      case "claimed":
        break;
    }
    const { claim } = result;
    // Right before sending: a claim that ran out (a long pause since the claim) may have been taken
    // over, and a stopping consumer starts no send. The send must end inside the lease, so the
    // transport's timeout counts too.
    if (now() + (sender.sendTimeoutMs ?? 0) >= claim.leaseUntil || context.signal.aborted) {
      await giveBack(claim);
      throw new ClaimLapsedError(id);
    }
    try {
      // The signal aborts at the consumer's shutdown deadline: a send cut off then may have
      // reached the mail server, so its claim is left to lapse (below), never released.
      const signal =
        options.sendTimeoutMs === undefined
          ? context.signal
          : AbortSignal.any([context.signal, AbortSignal.timeout(options.sendTimeoutMs)]);
      await sender.send(registration, id, { signal });
    } catch (error) {
      if (error instanceof NotSentError) {
        await giveBack(claim);
        throw error.cause;
      }
      // Ambiguous (a timeout, a cut-off send): the email may have left. Leave the claim to lapse.
      throw error;
    }
    try {
      await store.markSent(claim);
    } catch (error) {
      if (error instanceof StaleClaimError) {
        counts.staleClaims = (counts.staleClaims ?? 0) + 1;
        logger.warn(
          { registrationId: id, err: error },
          "claim taken over by another consumer during the send: this late write was rejected",
        );
      }
      throw error;
    }
    counts.sent += 1;
  };
}
