/** Errors of the operations commands that a user can act on (exit codes as in src/errors.ts). */
import { ConfigurationError, UserFacingError } from "../errors.js";
import { MESSAGE_ATTRIBUTES_MAX } from "../sqs/limits.js";

/** `dlq show <id>`: no message with that id among those the dead-letter queue returned. */
export class DeadLetterNotFoundError extends UserFacingError {
  override name = "DeadLetterNotFoundError";
  constructor(
    readonly messageId: string,
    readonly queueUrl: string,
    seen: number,
  ) {
    super(
      `No message ${messageId} among the ${seen} message${seen === 1 ? "" : "s"} the dead-letter queue ${queueUrl} returned. Check the id with \`npm run dlq -- list\`; on real SQS a receive is a sample, so try again, or raise --max.`,
    );
  }
}

/** `dlq purge` without a terminal to confirm on and without --yes. Exit code 2 (usage). */
export class PurgeNotConfirmedError extends ConfigurationError {
  override name = "PurgeNotConfirmedError";
  constructor(queueUrl: string) {
    super(`Refusing to purge ${queueUrl} without confirmation: no terminal to ask on; pass --yes.`);
  }
}

/** The operator answered anything but "yes" to the purge question. */
export class PurgeCancelledError extends UserFacingError {
  override name = "PurgeCancelledError";
  constructor(queueUrl: string) {
    super(`Purge of ${queueUrl} cancelled: nothing was deleted.`);
  }
}

/** A message that would carry more than SQS's MESSAGE_ATTRIBUTES_MAX after redrive: it is not sent. */
export class TooManyAttributesError extends RangeError {
  override name = "TooManyAttributesError";
  constructor(readonly count: number) {
    super(
      `${count} message attributes after removing the dead-letter ones; SQS accepts at most ${MESSAGE_ATTRIBUTES_MAX}`,
    );
  }
}

/** SQS allows one PurgeQueue per queue every 60 seconds. */
export class PurgeInProgressError extends UserFacingError {
  override name = "PurgeInProgressError";
  constructor(queueUrl: string, options?: ErrorOptions) {
    super(
      `A purge of ${queueUrl} is already under way (SQS allows one every 60 seconds). Wait a minute and check with \`npm run status\`.`,
      options,
    );
  }
}

/** `forget`: SQS refused to delete some of the person's queued messages; a re-run finds them. */
export class ForgetIncompleteError extends UserFacingError {
  override name = "ForgetIncompleteError";
  constructor(
    readonly queueUrl: string,
    readonly failed: number,
    readonly code: string,
  ) {
    super(
      `SQS refused to delete ${failed} of the person's message(s) in ${queueUrl} (${code}); they reappear after their visibility timeout: run forget again.`,
    );
  }
}
