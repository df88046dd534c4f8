/**
 * Turns a raw SQS message into a welcome email. A body that is not a registration can never
 * succeed, so it becomes a PoisonMessageError (dead-lettered at once, with the reason).
 */
import type { Message } from "@aws-sdk/client-sqs";
import {
  NotJsonError,
  parseRegistration,
  processingIdOf,
  type Registration,
  WrongShapeError,
} from "../contract/registration.js";
import type { HandlerContext, MessageHandler } from "./consumer.js";
import { PoisonMessageError } from "./errors.js";
import type { SentEmailStore } from "./sent-emails.js";
import type { WelcomeSender } from "./welcome-email.js";

/** A duplicate is being sent by another consumer right now: try again later. */
export class SendInProgressError extends Error {
  override readonly name = "SendInProgressError";
}

export interface RegistrationCounts {
  /** Welcome emails sent. */
  sent: number;
  /** Deliveries whose email had been sent already (at-least-once duplicates): nothing sent. */
  duplicates: number;
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

/** A send in progress elsewhere usually ends within milliseconds: look again before giving up. */
const IN_PROGRESS_WAITS_MS = [25, 50, 100, 200, 400, 800];

async function claimPatiently(store: SentEmailStore, id: string) {
  let claim = await store.claim(id);
  for (const wait of IN_PROGRESS_WAITS_MS) {
    if (claim !== "in-progress") break;
    await new Promise((resolve) => setTimeout(resolve, wait));
    claim = await store.claim(id);
  }
  return claim;
}

/**
 * With a store, each registration gets one welcome email however often SQS delivers it: the id is
 * claimed before sending and marked sent before the message is deleted.
 */
export function registrationHandler(
  sender: WelcomeSender,
  store?: SentEmailStore,
  counts: RegistrationCounts = { sent: 0, duplicates: 0 },
): MessageHandler {
  return async (message: Message, context?: HandlerContext) => {
    const signal = context?.signal;
    const registration = parse(message);
    const id = processingIdOf(registration);
    if (!store) {
      await sender.send(registration, id);
      counts.sent += 1;
      return;
    }
    const claim = await claimPatiently(store, id);
    if (claim === "already-sent") {
      counts.duplicates += 1;
      return;
    }
    if (claim === "in-progress") {
      throw new SendInProgressError(`the welcome email for ${id} is being sent by another consumer`);
    }
    // No send starts after the consumer's shutdown deadline (issue 9, item 6); the claim is left
    // to lapse, so a later delivery sends the email.
    signal?.throwIfAborted();
    try {
      await sender.send(registration, id, signal ? { signal } : {});
    } catch (error) {
      // A send cut off by the deadline may have reached the mail server (an ambiguous answer):
      // releasing the claim could cause a second email, so it is left to lapse instead.
      if (!signal?.aborted) await store.release(id);
      throw error;
    }
    await store.markSent(id);
    counts.sent += 1;
  };
}
