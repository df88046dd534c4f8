/**
 * The bounce queue's handler, for the same consumer runtime: SES publishes a configuration set's
 * bounce and complaint events to SNS, SNS to an SQS queue. A permanent (hard) bounce or a complaint
 * puts the address on the suppression list; transient bounces and other events are acknowledged and
 * ignored (SES retries a soft bounce itself).
 *
 * Both shapes are read: event publishing (`eventType`) and identity notifications
 * (`notificationType`), wrapped in an SNS envelope (`Type: "Notification"`, the event JSON in
 * `Message`) or delivered raw. Nothing about the address is logged.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { z } from "zod";
import { addressDigest, type DigestKey } from "../../contract/digest.js";
import { type Logger, silentLogger } from "../../log/logger.js";
import { PoisonMessageError } from "../errors.js";
import type { MessageHandler } from "../runtime/types.js";
import type { SuppressionList, SuppressionReason } from "./suppression.js";

const recipients = z.array(z.object({ emailAddress: z.string().min(3) })).min(1);

const bounceEvent = z.looseObject({
  bounce: z.looseObject({ bounceType: z.string(), bouncedRecipients: recipients }),
});
const complaintEvent = z.looseObject({ complaint: z.looseObject({ complainedRecipients: recipients }) });

const snsEnvelope = z.looseObject({ Type: z.literal("Notification"), Message: z.string() });

export interface BounceCounts {
  /** Addresses added to the suppression list (a repeat counts again; the list keeps one). */
  suppressed: number;
  /** Events that suppress nothing: transient bounces, deliveries, sends. */
  ignored: number;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PoisonMessageError("not-json", `${what} is not JSON`, { cause: error });
  }
}

/** `"Name" <a@b>` or `a@b` → `a@b`. */
function bareAddress(address: string): string {
  const angle = /<([^<>]+)>\s*$/.exec(address);
  return (angle?.[1] ?? address).trim();
}

/** The addresses an SES event asks to suppress, and why; none for the events that do not. */
export function suppressionsIn(body: string): { reason: SuppressionReason; addresses: string[] } | undefined {
  let event = parseJson(body, "bounce-queue message");
  const envelope = snsEnvelope.safeParse(event);
  if (envelope.success) event = parseJson(envelope.data.Message, "SNS notification's Message");
  const raw = event as Record<string, unknown> | null;
  const kind = raw && typeof raw === "object" ? (raw.eventType ?? raw.notificationType) : undefined;
  const wrongShape = () =>
    new PoisonMessageError(
      "wrong-shape",
      "bounce-queue message is not an SES event (no eventType or notificationType, or its recipients are missing)",
    );
  if (typeof kind !== "string") throw wrongShape();
  if (kind === "Bounce") {
    const parsed = bounceEvent.safeParse(raw);
    if (!parsed.success) throw wrongShape();
    const { bounceType, bouncedRecipients } = parsed.data.bounce;
    // A transient bounce (mailbox full, greylisting) is SES's to retry; only a permanent one suppresses.
    if (bounceType !== "Permanent") return undefined;
    return { reason: "bounce", addresses: bouncedRecipients.map((r) => bareAddress(r.emailAddress)) };
  }
  if (kind === "Complaint") {
    const parsed = complaintEvent.safeParse(raw);
    if (!parsed.success) throw wrongShape();
    return {
      reason: "complaint",
      addresses: parsed.data.complaint.complainedRecipients.map((r) => bareAddress(r.emailAddress)),
    };
  }
  return undefined;
}

export interface BounceHandlerOptions {
  readonly digestKey: DigestKey;
  readonly suppression: SuppressionList;
  readonly counts?: BounceCounts;
  readonly logger?: Logger;
}

export function bounceHandler(options: BounceHandlerOptions): MessageHandler {
  const counts = options.counts ?? { suppressed: 0, ignored: 0 };
  const logger = options.logger ?? silentLogger;
  return async (message: Message) => {
    const found = suppressionsIn(message.Body ?? "");
    if (!found) {
      counts.ignored += 1;
      return;
    }
    for (const address of found.addresses) {
      await options.suppression.suppress(addressDigest(address, options.digestKey), found.reason);
      counts.suppressed += 1;
    }
    logger.info(
      { messageId: message.MessageId, reason: found.reason, addresses: found.addresses.length },
      "suppressed addresses from an SES event",
    );
  };
}
