/**
 * Turns a raw SQS message into a welcome email. A body that is not a registration can never
 * succeed, so it becomes a PoisonMessageError (dead-lettered at once, with the reason).
 */
import type { Message } from "@aws-sdk/client-sqs";
import {
  NotJsonError,
  parseRegistration,
  processingIdOf,
  WrongShapeError,
} from "../contract/registration.js";
import type { MessageHandler } from "./consumer.js";
import { PoisonMessageError } from "./errors.js";
import type { WelcomeSender } from "./welcome-email.js";

export function registrationHandler(sender: WelcomeSender): MessageHandler {
  return async (message: Message) => {
    let registration: ReturnType<typeof parseRegistration>;
    try {
      registration = parseRegistration(message.Body ?? "");
    } catch (error) {
      if (error instanceof NotJsonError || error instanceof WrongShapeError) {
        throw new PoisonMessageError(error.reason, error.message, { cause: error });
      }
      throw error;
    }
    await sender.send(registration, processingIdOf(registration));
  };
}
