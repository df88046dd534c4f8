/**
 * What an SQS failure means, decided once (STYLE habit 13): through the SDK's exception classes
 * and @smithy/service-error-classification, not regular expressions over names and messages.
 *
 * One wrinkle: fauxqs 2.4.1 answers some errors with the query protocol's long names
 * (`AWS.SimpleQueueService.QueueNameExists`, `…NonExistentQueue`, `…InvalidAttributeName`), which
 * the SDK does not map to its classes, so `instanceof` fails for them. `is()` also accepts the
 * error by its name with that prefix removed; real SQS's JSON protocol gives the classes.
 */
import {
  InvalidAddress,
  InvalidSecurity,
  KmsAccessDenied,
  KmsThrottled,
  OverLimit,
  QueueDoesNotExist,
  RequestThrottled,
  UnsupportedOperation,
} from "@aws-sdk/client-sqs";
import { isServerError, isThrottlingError, isTransientError } from "@smithy/service-error-classification";

const QUERY_PREFIX = "AWS.SimpleQueueService.";

/** The query protocol's names for errors the JSON protocol names differently. */
const QUERY_NAMES: Readonly<Record<string, string>> = { NonExistentQueue: QueueDoesNotExist.name };

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function fields(error: unknown): ErrorLike {
  return typeof error === "object" && error !== null ? (error as ErrorLike) : {};
}

/** The error's name as the SDK's classes spell it (the emulator's prefix removed). */
export function sqsErrorName(error: unknown): string {
  const name = fields(error).name ?? "";
  const bare = name.startsWith(QUERY_PREFIX) ? name.slice(QUERY_PREFIX.length) : name;
  return QUERY_NAMES[bare] ?? bare;
}

/** `error instanceof type`, or the same error by name from an endpoint that prefixes it. */
export function is(error: unknown, type: abstract new (...args: never[]) => Error): boolean {
  return error instanceof type || sqsErrorName(error) === type.name;
}

/**
 * Credential and permission failures. AWS models these per service, not in the SQS client, so
 * they are the one place names are listed; the SDK's own classes cover the rest.
 */
const ACCESS_ERROR_NAMES = new Set([
  "AccessDenied",
  "AccessDeniedException",
  "InvalidClientTokenId",
  "UnrecognizedClient",
  "UnrecognizedClientException",
  "SignatureDoesNotMatch",
  "MissingAuthenticationToken",
  "ExpiredToken",
  "CredentialsProviderError",
]);

export function isQueueMissing(error: unknown): boolean {
  return is(error, QueueDoesNotExist);
}

export function isAccessDenied(error: unknown): boolean {
  return (
    ACCESS_ERROR_NAMES.has(sqsErrorName(error)) || is(error, InvalidSecurity) || is(error, KmsAccessDenied)
  );
}

/** The local SDK found no credentials at all (client side, before any request). */
export function isMissingCredentials(error: unknown): boolean {
  return sqsErrorName(error) === "CredentialsProviderError";
}

/** The local SDK has no region to sign for (client side; the SDK throws a plain Error). */
export function isMissingRegion(error: unknown): boolean {
  return (fields(error).message ?? "").startsWith("Region is missing");
}

/** Socket failures that mean the endpoint is not there (or not answering) at all. */
const UNREACHABLE = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "ECONNRESET"]);

/** The socket error code of a failed request, wherever the SDK put it (cause, AggregateError). */
export function networkErrorCode(error: unknown): string | undefined {
  const e = error as { code?: string; cause?: { code?: string }; errors?: { code?: string }[] };
  if (typeof e !== "object" || e === null) return undefined;
  return e.code ?? e.cause?.code ?? e.errors?.[0]?.code;
}

/**
 * Nothing answers at the endpoint. The SDK has already retried these with backoff by the time
 * the caller sees them, so callers stop and say what to start rather than retry again.
 */
export function isUnreachable(error: unknown): boolean {
  const code = networkErrorCode(error);
  return code !== undefined && UNREACHABLE.has(code);
}

/** Errors that retrying cannot fix: the queue is not there or we may not use it. */
export function isFatal(error: unknown): boolean {
  return isQueueMissing(error) || isAccessDenied(error) || is(error, InvalidAddress);
}

/**
 * Errors a whole request can fail with that another try may fix: throttling, 5xx, timeouts. Not
 * an unreachable endpoint (see isUnreachable).
 */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null || isUnreachable(error)) return false;
  const sdkError = error as Parameters<typeof isThrottlingError>[0];
  return (
    isThrottlingError(sdkError) ||
    isTransientError(sdkError) ||
    isServerError(sdkError) ||
    // SQS's own throttling classes, which smithy's name list does not know. OverLimit is what
    // ReceiveMessage answers when the queue has its 120,000 (FIFO: 20,000) messages in flight.
    is(error, RequestThrottled) ||
    is(error, KmsThrottled) ||
    is(error, OverLimit)
  );
}

/** The endpoint has no such action (fauxqs: InvalidAction for StartMessageMoveTask). */
export function isUnsupportedOperation(error: unknown): boolean {
  const name = sqsErrorName(error);
  return is(error, UnsupportedOperation) || name === "InvalidAction" || name === "UnknownOperationException";
}
