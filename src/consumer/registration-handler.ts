/**
 * Turns a raw SQS message into a welcome email. A body that is not a registration can never
 * succeed, so it becomes a PoisonMessageError (dead-lettered at once, with the reason).
 *
 * With a store, each registration gets one email however often SQS delivers it: the id is claimed
 * for the registration's digest, the email sent, the claim marked sent, and only then is the
 * message deleted. Whoever sends chooses the id, so a known id with another digest is a conflict
 * (dead-lettered as `id-conflict`), never a duplicate.
 *
 * The send boundary's failure model (docs/email-delivery.md, rows S1–S16) in short:
 * - an ambiguous end (timeout, connection lost after DATA) is recorded on the claim, lapses it,
 *   and is a fault of the environment (the breaker pauses); a registration with such an attempt
 *   behind it is sent again only once this consumer has seen the mail server accept an email
 *   after that attempt — at most two copies per fault episode;
 * - a 250 is never forgotten: the fact is kept (AcceptedSends) until `markSent` is written, which
 *   is retried while the store is down, the message kept invisible meanwhile; a message may also
 *   carry the fact, signed (contract/accepted-send-attribute.ts: the Lambda function's hand-over);
 * - our own claim still leased (its ambiguous end could not be recorded) holds the message
 *   (HoldError) instead of handing it back to spend a receive;
 * - a claim that ran out before its send (a slow store answer, a stalled event loop) goes back
 *   unsent and is claimed again in the same run; LEASE_LAPSES_MAX in a row are a store fault.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { readAcceptedSend } from "../contract/accepted-send-attribute.js";
import { type DigestKey, registrationDigests } from "../contract/digest.js";
import {
  NotJsonError,
  parseRegistration,
  processingIdOf,
  type Registration,
  WrongShapeError,
} from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { sleepUnlessAborted, systemClock } from "../time/clock.js";
import { type AcceptedSend, AcceptedSends, claimOf } from "./accepted-sends.js";
import {
  EnvironmentFaultError,
  environmentFaultIn,
  HoldError,
  NotSentError,
  PoisonMessageError,
  RetryAfterError,
} from "./errors.js";
import type { WelcomeSender } from "./mail/mailer.js";
import { isAddressSuppressed, type SuppressionList } from "./mail/suppression.js";
import type { HandlerContext, MessageHandler } from "./runtime/types.js";
import {
  type AmbiguousAttempts,
  type Claim,
  type SentEmailStore,
  StaleClaimError,
} from "./store/contract.js";
import { claimUnderAnyDigest } from "./store/digest-transition.js";

/** Backoff of a `markSent` retried while the store is down: 250 ms doubling to 5 s. */
const MARK_SENT_BACKOFF = { firstMs: 250, maxMs: 5_000 };

/**
 * Claims in a row that ran out before their send before the store counts as too slow: each is a
 * claim's answer (or an event-loop stall) longer than the lease's margin (leaseForSendTimeoutMs).
 * Counted across the handler's messages, so a store slow for all of them pauses the consumer after
 * this many, not after this many for each message in hand.
 */
export const LEASE_LAPSES_MAX = 3;

/**
 * Why a send did not start after its claim: the lease ran short (a slow answer or stall), the
 * consumer is stopping, or the run's deadline (a Lambda invocation's) is too near.
 */
export type NotStartedReason = "lease-ran-out" | "stopping" | "deadline";

const NOT_STARTED_TEXT: Record<NotStartedReason, string> = {
  "lease-ran-out": "its claim ran out before the send",
  stopping: "the consumer is stopping",
  deadline: "the send could end after the run's deadline",
};

/** The send did not start after the claim (see `why`): the claim went back, nothing was sent. */
export class SendNotStartedError extends Error {
  override readonly name = "SendNotStartedError";
  constructor(
    readonly registrationId: string,
    readonly why: NotStartedReason,
  ) {
    super(`no email sent for registration ${registrationId}: ${NOT_STARTED_TEXT[why]}; the claim went back`);
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
  /**
   * Second copies: sends of a registration with an ambiguous attempt behind it (a timeout or a
   * connection lost after DATA), made once the mail server was seen healthy again.
   */
  secondSends?: number;
  /** Accepted sends whose record was written only after the store came back (or by a restart). */
  recordedLate?: number;
  /** Claims that ran out before their send (a slow store answer or stall) and were claimed again. */
  leaseLapses?: number;
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
  /**
   * Where accepted sends wait for their record (AcceptedSends). Default: memory only, which a
   * restart forgets (a documented row of the failure model).
   */
  readonly accepted?: AcceptedSends;
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
  const accepted = options.accepted ?? new AcceptedSends(undefined, logger);
  /** When this consumer last saw the mail server accept an email (epoch ms, the store's clock). */
  let healthyAt = Number.NEGATIVE_INFINITY;
  let healthCheck: Promise<void> | undefined;
  /** Ambiguous attempts made here, in case the store could not record them. */
  const attemptsHere = new Map<string, AmbiguousAttempts>();
  /** Claims left leased after an ambiguous end the store could not record: ours until they lapse. */
  const ownClaims = new Map<string, Claim>();

  /** Proves the mail server healthy (one check at a time); throws while it is not. */
  async function proveHealthy(id: string, signal: AbortSignal): Promise<void> {
    if (!sender.checkHealth) {
      throw new EnvironmentFaultError(
        "mailer",
        `a second copy for ${id} waits until the mail server accepts an email again (this transport has no health check)`,
      );
    }
    healthCheck ??= sender
      .checkHealth({ signal })
      .then(() => {
        healthyAt = Math.max(healthyAt, now());
      })
      .finally(() => {
        healthCheck = undefined;
      });
    try {
      await healthCheck;
    } catch (error) {
      throw new EnvironmentFaultError(
        "mailer",
        `a second copy for ${id} waits until the mail server is healthy again (its health check failed)`,
        { cause: error },
      );
    }
  }

  /**
   * Writes the record of an accepted send, retrying while the store is down; never sends.
   * Resolves with the number of attempts it took.
   */
  async function recordSent(claim: Claim, context: HandlerContext): Promise<number> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await store?.markSent(claim);
        return attempt;
      } catch (error) {
        const fault = environmentFaultIn(error);
        if (!fault || context.signal.aborted) throw error;
        if (attempt === 1) {
          logger.warn(
            { registrationId: claim.id, err: error },
            "the mail server accepted the email but the store could not record it: keeping the message and retrying",
          );
        }
        // The runtime pauses receiving (the store is down for every message) and keeps this one.
        context.environmentFault?.(fault);
        const wait = Math.min(MARK_SENT_BACKOFF.maxMs, MARK_SENT_BACKOFF.firstMs * 2 ** (attempt - 1));
        if (!(await sleepUnlessAborted(systemClock, wait, context.signal))) throw error;
      }
    }
  }

  /**
   * The fact a message carries (contract/accepted-send-attribute.ts), kept like one accepted here: until its
   * record is written, this consumer's later deliveries of the registration send nothing either.
   * An attribute that does not verify is ignored, the message handled as the registration it is.
   */
  function carriedFact(message: Message, id: string, digests: readonly string[]): AcceptedSend | undefined {
    const reading = readAcceptedSend(message.MessageAttributes, digestKey, { id, digests });
    if (reading.kind === "ignored") {
      logger.warn(
        { registrationId: id, messageId: message.MessageId, reason: reading.reason },
        "ignored an accepted-send attribute that does not verify; handling the message as a new registration",
      );
    }
    if (reading.kind !== "valid") return undefined;
    accepted.add(claimOf(reading.fact), reading.fact.acceptedAt);
    return accepted.get(id);
  }

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

  /**
   * Claims that ran out before their send in a row, whichever messages: a run that ends any other
   * way than a lapse or a fault of the store ends the streak (handle, the one place that counts it).
   */
  let lapsesInARow = 0;

  /**
   * A claim that ran out before its send went back unsent: the store's answer or this process was
   * slow, not the message. Claimed again at once, in the same run, so it spends no receive; after
   * LEASE_LAPSES_MAX in a row, a fault of the store (the breaker pauses, the message is kept).
   */
  const handle: MessageHandler = async (message, context) => {
    for (let run = 1; ; run += 1) {
      let lapse: SendNotStartedError;
      try {
        await handleOnce(message, context, run);
        lapsesInARow = 0;
        return;
      } catch (error) {
        if (!(error instanceof SendNotStartedError) || error.why !== "lease-ran-out") {
          // Any end but the store's own fault had the store answer in time: a send started, a
          // duplicate, a refusal, the mail server's fault.
          if (environmentFaultIn(error)?.component !== "store") lapsesInARow = 0;
          throw error;
        }
        lapse = error;
      }
      lapsesInARow += 1;
      counts.leaseLapses = (counts.leaseLapses ?? 0) + 1;
      if (lapsesInARow >= LEASE_LAPSES_MAX || run >= LEASE_LAPSES_MAX) {
        throw new EnvironmentFaultError(
          "store",
          `the claim on ${lapse.registrationId} ran out before its send, ${lapsesInARow} claims in a row: the store (or this process) answers slower than the lease's margin; nothing was sent`,
          { cause: lapse },
        );
      }
      // Stopped while the claim went back: no new claim, which could outlive the process.
      if (context.signal.aborted) throw new SendNotStartedError(lapse.registrationId, "stopping");
      logger.warn(
        { registrationId: lapse.registrationId, lapsesInARow },
        "the claim ran out before the send (slow store or event loop); nothing was sent: claiming again",
      );
    }
  };

  /** One claim and send; `run` > 1 after a claim ran out, whose send-rate token is still unspent. */
  const handleOnce = async (message: Message, context: HandlerContext, run: number): Promise<void> => {
    const registration = parse(message);
    const id = processingIdOf(registration, digestKey);
    if (suppression && (await isAddressSuppressed(suppression, registration.email, digestKey))) {
      counts.suppressed = (counts.suppressed ?? 0) + 1;
      logger.info({ registrationId: id }, "address suppressed (bounced or complained): no welcome email");
      return;
    }
    // The send rate's token before the claim: a wait for it cannot eat into the claim's lease. A
    // run after a lapse still holds the token of the send that did not start.
    if (run === 1) await sender.reserve?.(context.signal);
    if (!store) {
      await sender.send(registration, id).catch((error: unknown) => {
        throw error instanceof NotSentError ? error.cause : error;
      });
      counts.sent += 1;
      return;
    }
    // Current digest first, then the legacy one of before the address fold (digest-transition.ts).
    const digests = registrationDigests(registration, digestKey);
    const claimAny = () => claimUnderAnyDigest(digests, (digest) => store.claim(id, digest));
    // Accepted before (by this process, a predecessor on the same state folder, or the consumer
    // that sent this message's signed copy) and not yet recorded: write the record with that
    // claim, and send nothing.
    let acceptedBefore = false;
    const fact = accepted.get(id) ?? carriedFact(message, id, digests);
    if (fact !== undefined && digests.includes(fact.digest)) {
      try {
        await recordSent(claimOf(fact), context);
        accepted.delete(id);
        counts.recordedLate = (counts.recordedLate ?? 0) + 1;
        counts.duplicates += 1;
        return;
      } catch (error) {
        if (!(error instanceof StaleClaimError)) throw error;
        acceptedBefore = true; // the record moved on; claim it again, but the email has left
      }
    }
    let result = await claimAny();
    let claim: Claim | undefined;
    let prior: AmbiguousAttempts | undefined;
    for (let round = 1; claim === undefined; round += 1) {
      if (result.outcome !== "claimed") break;
      prior = latest(result.claim.ambiguous, attemptsHere.get(id));
      const held = prior && !result.claim.ambiguous ? { ...result.claim, ambiguous: prior } : result.claim;
      if (prior === undefined || prior.lastAt < healthyAt || acceptedBefore) {
        claim = held;
        break;
      }
      if (!sender.checkHealth && context.probe && prior.attempts < 2) {
        // A sender without a health check: the breaker's probe is the test, and may be the second
        // copy (a third waits for an email accepted after it).
        claim = held;
        break;
      }
      // A second copy only once the server has accepted an email after the ambiguous attempt.
      // The claim goes back first (its attempts kept): the check may take a whole send timeout.
      await giveBack(held);
      if (round > 1) {
        throw new EnvironmentFaultError(
          "mailer",
          `a second copy for ${id} waits until the mail server is healthy`,
        );
      }
      await proveHealthy(id, context.signal);
      result = await claimAny();
    }
    switch (result.outcome) {
      case "already-sent":
        counts.duplicates += 1;
        accepted.delete(id);
        attemptsHere.delete(id);
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
        if (ownClaims.get(id)?.owner === result.owner) {
          // Our own claim, left leased by an ambiguous end the store could not record: nobody else
          // may send until it lapses, and handing the message back would spend a receive each time.
          throw new HoldError(
            Math.max(0, result.leaseUntil - now()) + 100,
            `the claim on ${id} is this consumer's own, until its lease ends`,
          );
        }
        throw new RetryAfterError(
          Math.max(0, (result.leaseUntil - now()) / 1000),
          `the welcome email for ${id} is being sent by another consumer; looking again when its claim ends`,
        );
      case "claimed":
        break;
    }
    if (claim === undefined) throw new Error(`claim of ${id} lost`); // unreachable: "claimed" set it
    ownClaims.delete(id);
    if (acceptedBefore) {
      await recordSent(claim, context);
      accepted.delete(id);
      counts.recordedLate = (counts.recordedLate ?? 0) + 1;
      counts.duplicates += 1;
      return;
    }
    // Right before sending: a claim that ran out (a long pause since the claim) may have been taken
    // over, and a stopping consumer starts no send. The send must end inside the lease, so the
    // transport's timeout counts too; and inside the run's deadline (a Lambda invocation), or it is
    // cut off mid-way: an ambiguous end, a possible second copy.
    const sendEndsBy = now() + (sender.sendTimeoutMs ?? 0);
    const notStarted: NotStartedReason | undefined = context.signal.aborted
      ? "stopping"
      : context.deadline !== undefined && sendEndsBy >= context.deadline
        ? "deadline"
        : sendEndsBy >= claim.leaseUntil
          ? "lease-ran-out"
          : undefined;
    if (notStarted !== undefined) {
      await giveBack(claim);
      throw new SendNotStartedError(id, notStarted);
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
      // Ambiguous (a timeout, a connection lost after DATA, a cut-off send): the email may have
      // left. The attempt goes on the claim, which lapses: the send is over on our side.
      const attempts = { attempts: (prior?.attempts ?? 0) + 1, lastAt: now() };
      attemptsHere.set(id, attempts);
      try {
        await store.recordAmbiguous(claim, attempts);
      } catch (recordError) {
        if (recordError instanceof StaleClaimError) {
          counts.staleClaims = (counts.staleClaims ?? 0) + 1;
          logger.warn(
            { registrationId: id, err: recordError },
            "claim taken over by another consumer during the send: this late write was rejected",
          );
        } else {
          ownClaims.set(id, claim);
          logger.warn(
            { registrationId: id, err: recordError },
            "could not record an ambiguous send on its claim; the claim lapses at its lease end",
          );
        }
      }
      if (context.signal.aborted || environmentFaultIn(error)) throw error;
      // The mail server's health, not the message's fault: the breaker pauses and probes.
      throw new EnvironmentFaultError(
        "mailer",
        `the send of ${id} ended without an answer (${error instanceof Error ? error.message : String(error)})`,
        { cause: error },
      );
    }
    healthyAt = Math.max(healthyAt, now());
    if (prior !== undefined) counts.secondSends = (counts.secondSends ?? 0) + 1;
    accepted.add(claim, now());
    try {
      if ((await recordSent(claim, context)) > 1) counts.recordedLate = (counts.recordedLate ?? 0) + 1;
      accepted.delete(id);
      attemptsHere.delete(id);
    } catch (error) {
      if (error instanceof StaleClaimError) {
        counts.staleClaims = (counts.staleClaims ?? 0) + 1;
        logger.warn(
          { registrationId: id, err: error },
          "claim taken over by another consumer during the send: this late write was rejected",
        );
        // The fact stays: the email left all the same. If the taker gave the claim back unsent (or
        // `forget` erased the record), the message's next delivery claims it again and records it
        // instead of mailing a second time; if the taker sent, that delivery finds it sent.
      }
      throw error;
    }
    counts.sent += 1;
  };

  return handle;
}

/** The later of two records of ambiguous attempts (the store's, this process's own). */
function latest(
  a: AmbiguousAttempts | undefined,
  b: AmbiguousAttempts | undefined,
): AmbiguousAttempts | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return b.lastAt > a.lastAt ? b : a;
}
