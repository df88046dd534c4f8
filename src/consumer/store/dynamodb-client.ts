/**
 * The one place a DynamoDB client for the sent-email store is built, and the one place its
 * failures are sorted: what a user must fix (a missing table, refused credentials) from what is
 * the environment's passing fault (throttling, 5xx, the network), which the runtime's breaker
 * waits out instead of spending a message's retries on it.
 */
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import {
  DynamoDBClient,
  type DynamoDBClientConfig,
  ResourceNotFoundException,
} from "@aws-sdk/client-dynamodb";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { isServerError, isThrottlingError, isTransientError } from "@smithy/service-error-classification";
import { isLoopbackHost } from "../../config/endpoint.js";
import { StoreUnavailableError } from "../../errors.js";
import { EnvironmentFaultError } from "../errors.js";

/** A local DynamoDB-protocol server accepts any credentials; AWS never sees these. */
const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export interface DynamoDbLocation {
  readonly region?: string;
  /** A DynamoDB-protocol server to use instead of AWS's (the local one); dummy credentials then. */
  readonly endpoint?: string;
}

export interface DynamoDbClientOptions {
  /**
   * SDK attempts per request (standard mode: backoff with jitter, 500 ms base when throttled).
   * Bounded so that a fault reaches the runtime's breaker within seconds: 3 attempts wait at
   * most ~1.5 s between them when throttled.
   */
  readonly maxAttempts?: number;
  /**
   * One item request. DynamoDB answers in milliseconds, so anything past this is a dead path;
   * with 3 attempts a black-holed endpoint surfaces as a fault in about 7 s, inside the 10 s the
   * breaker has to pause in.
   */
  readonly requestTimeoutMs?: number;
}

export function createDynamoDbClient(
  location: DynamoDbLocation,
  options: DynamoDbClientOptions = {},
): DynamoDBClient {
  const config: DynamoDBClientConfig = {
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      httpAgent: new Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: 64 }),
      requestTimeout: options.requestTimeoutMs ?? 2_000,
      // Without this, @smithy/node-http-handler 4 only logs a warning when requestTimeout passes
      // and the request waits forever on a server that accepted it and never answers.
      throwOnRequestTimeout: true,
      connectionTimeout: 1_000,
    }),
  };
  if (location.region) config.region = location.region;
  if (location.endpoint) {
    config.endpoint = location.endpoint;
    config.credentials = LOCAL_CREDENTIALS;
    config.region ??= "us-east-1";
  }
  return new DynamoDBClient(config);
}

/**
 * Credential and permission failures. DynamoDB does not model these as classes (they are common
 * to every AWS service), so they are matched by their exact error names.
 */
const ACCESS_ERRORS = new Set([
  "AccessDeniedException",
  "UnrecognizedClientException",
  "InvalidClientTokenId",
  "MissingAuthenticationTokenException",
  "ExpiredTokenException",
  "IncompleteSignatureException",
  "InvalidSignatureException",
  "CredentialsProviderError",
]);

/**
 * Sorts a failed store request: StoreUnavailableError (fatal, one line naming the table and the
 * fix), EnvironmentFaultError("store") (throttling, 5xx, network: the breaker waits it out), or
 * the error itself (a bug: a malformed request is nobody's environment).
 */
export function classifyStoreError(error: unknown, tableName: string, action: string): Error {
  if (error instanceof StoreUnavailableError || error instanceof EnvironmentFaultError) return error;
  if (error instanceof ResourceNotFoundException) {
    return new StoreUnavailableError(
      `The sent-email table "${tableName}" does not exist (${action}): create it with the stack (\`npm run infra:up\`, or \`npm run local\` for the local one), or name the right table and region.`,
      tableName,
      "missing-table",
      { cause: error },
    );
  }
  const aws = (error ?? {}) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = aws.name ?? "";
  const sdkError = aws as Parameters<typeof isThrottlingError>[0];
  if (typeof error === "object" && error !== null) {
    if (isThrottlingError(sdkError)) {
      return new EnvironmentFaultError("store", `DynamoDB throttled ${action} on "${tableName}" (${name})`, {
        cause: error,
      });
    }
    // A signature that expired in flight is transient (the SDK says so); other signature
    // errors are credentials.
    if (isTransientError(sdkError) || isServerError(sdkError)) {
      return new EnvironmentFaultError(
        "store",
        `DynamoDB unavailable for ${action} on "${tableName}" (${name || "network error"}${aws.$metadata?.httpStatusCode ? ` ${aws.$metadata.httpStatusCode}` : ""})`,
        { cause: error },
      );
    }
  }
  if (ACCESS_ERRORS.has(name)) {
    return new StoreUnavailableError(
      `AWS refused ${action} on the sent-email table "${tableName}" (${name}): use credentials whose role has the consumer policy the stack creates (GetItem, PutItem, UpdateItem, DeleteItem on that table).`,
      tableName,
      "access-denied",
      { cause: error },
    );
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * The table check at start (consume, forget) met the environment's fault (nothing answers,
 * timeouts, 5xx, throttling): a running consumer would pause and wait it out, but one that has not
 * started has nothing to wait for — it stops with one line that names the store (not the queue:
 * the SQS endpoint may be fine) and the fix. A supervisor restarting it succeeds once the store
 * answers.
 */
export async function unreachableStoreError(
  fault: EnvironmentFaultError,
  tableName: string,
  client: DynamoDBClient,
): Promise<StoreUnavailableError> {
  const endpoint = await client.config.endpoint?.().catch(() => undefined);
  const region = await client.config.region().catch(() => undefined);
  const cause = fault.cause as { code?: string; name?: string } | undefined;
  const why = cause?.code ?? cause?.name ?? "no answer";
  const local = endpoint !== undefined && isLoopbackHost(endpoint.hostname);
  const where = endpoint
    ? `${endpoint.protocol}//${endpoint.hostname}${endpoint.port ? `:${endpoint.port}` : ""}`
    : `DynamoDB in ${region ?? "the configured region"}`;
  const fix = local
    ? "start the local stack's DynamoDB with `npm run local` in another terminal (or name the right store: --store, the stack outputs), then run the command again"
    : "check the network, the region (AWS_REGION) and the table's endpoint, then run the command again once DynamoDB answers";
  return new StoreUnavailableError(
    `Cannot reach the sent-email table "${tableName}" at ${where} (${why}): ${fix}.`,
    tableName,
    "unreachable",
    { cause: fault },
  );
}
