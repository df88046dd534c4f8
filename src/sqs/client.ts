/**
 * The one place an SQS client is built. The same client talks to real SQS or to the local
 * emulator: only the endpoint and, for the emulator, dummy credentials differ.
 */
import { Agent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { isLoopbackHost, requireSecureTransport } from "../config/endpoint.js";
import type { QueueSource } from "../config/env.js";
import { SqsAccessError, UserFacingError } from "../errors.js";
import {
  isAccessDenied,
  isMissingCredentials,
  isMissingRegion,
  isQueueMissing,
  isUnreachable,
  networkErrorCode,
  sqsErrorName,
} from "./errors.js";
import { LONG_POLL_MAX_SECONDS } from "./limits.js";

/** Where SQS answers: AWS in a region, or another endpoint (the local emulator). All a client needs. */
export interface SqsEndpoint {
  readonly region?: string | undefined;
  readonly endpoint?: string | undefined;
}

/** Where a queue was found, for an error's fix: stack outputs of a kind, or a URL given by hand. */
export interface QueueOrigin {
  readonly endpoint?: string | undefined;
  readonly source?: QueueSource | "queue-url" | undefined;
}

/** The emulator accepts any credentials; real SQS never sees these. */
const EMULATOR_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

export interface SqsClientOptions {
  /**
   * Sockets per host: enough for every poller's long poll plus deletes and heartbeats (a consumer
   * passes socketPoolSize of its load). Default DEFAULT_MAX_SOCKETS.
   */
  readonly maxSockets?: number;
  /** SDK attempts per request (standard retry mode, with backoff and jitter). */
  readonly maxAttempts?: number;
  /**
   * Check the MD5 digests SQS returns for every body sent and received. Default: only where
   * nothing else guards the bytes — plain HTTP to another host. Over HTTPS (AWS) TLS already
   * authenticates every byte, and on loopback (the emulator) nothing sits between; skipping the
   * digests there saves 10–20 % of the client's CPU per message (measured with npm run bench).
   */
  readonly verifyMd5?: boolean;
  /**
   * Milliseconds a request may take before it fails. Default: the longest long poll (20 s) plus
   * 10 s; anything well past that is a dead connection.
   */
  readonly requestTimeoutMs?: number;
  /**
   * For commands a person waits on (status, dlq, forget): milliseconds any request may take beyond
   * its own long-poll wait (a receive's WaitTimeSeconds; the queue's, up to 20 s, when the request
   * names none), with one retry. An endpoint that accepts connections and never answers then ends
   * such a command within two of these (plus the wait), instead of three flat 30 s timeouts.
   * Unset (the consumer, the producer): requestTimeoutMs applies to every request.
   */
  readonly answerTimeoutMs?: number;
}

/** What status, dlq and forget give a request beyond its long poll (see answerTimeoutMs). */
export const OPS_ANSWER_TIMEOUT_MS = 5_000;

/**
 * What produce and consume give a request beyond its long poll: a 20 s receive keeps the 30 s it
 * always had, and anything else that takes 10 s is a dead connection (SQS answers in milliseconds).
 */
export const RUN_ANSWER_TIMEOUT_MS = 10_000;

/** Attempts of a request when answerTimeoutMs bounds it: one retry rides out a dropped connection. */
const ANSWER_BOUND_ATTEMPTS = 2;

type HandlerArguments = Parameters<NodeHttpHandler["handle"]>;

/** The long-poll wait a request asks SQS for, in ms (0 for anything but a receive). */
export function longPollWaitMs(request: HandlerArguments[0]): number {
  const target = request.headers["x-amz-target"] ?? request.headers["X-Amz-Target"];
  if (target !== "AmazonSQS.ReceiveMessage") return 0;
  try {
    const body: unknown = request.body;
    // The SDK's JSON body is bytes that also answer string methods (with a deprecation warning).
    const text = body instanceof Uint8Array ? new TextDecoder().decode(body) : String(body);
    const wait = (JSON.parse(text) as { WaitTimeSeconds?: unknown }).WaitTimeSeconds;
    return (typeof wait === "number" ? Math.min(wait, LONG_POLL_MAX_SECONDS) : LONG_POLL_MAX_SECONDS) * 1000;
  } catch {
    return LONG_POLL_MAX_SECONDS * 1000;
  }
}

/** A handler whose every request times out after its own long poll plus `answerMs`. */
class AnswerBoundHandler extends NodeHttpHandler {
  constructor(
    options: ConstructorParameters<typeof NodeHttpHandler>[0],
    private readonly answerMs: number,
  ) {
    super(options);
  }

  override handle(request: HandlerArguments[0], options: HandlerArguments[1] = {}) {
    return super.handle(request, {
      ...options,
      requestTimeout: options.requestTimeout ?? this.answerMs + longPollWaitMs(request),
    });
  }
}

const REQUEST_TIMEOUT_MS = (LONG_POLL_MAX_SECONDS + 10) * 1_000;

/** A TCP connection not made within this is an endpoint that is not there. */
const CONNECTION_TIMEOUT_MS = 5_000;

/** Sockets for a client that runs no pollers (the producer: 8 requests in flight; ops commands). */
export const DEFAULT_MAX_SOCKETS = 64;

/**
 * Requests one batcher (deletes, visibility changes) may have under way at a peak: at 4,000
 * msg/s a delete batcher sends 400 requests a second of ~10 ms each, about 4 at once.
 */
export const SOCKETS_PER_BATCHER = 8;

/** Requests outside the loops: GetQueueAttributes and GetQueueUrl at start, dead-letter sends. */
export const SPARE_SOCKETS = 4;

/**
 * Sockets a consumer needs so that the pool is never what limits it: one per poller (each holds
 * its socket for up to a 20 s long poll), the batchers' peaks, and a few spare. A pool smaller
 * than the pollers queues receives behind each other inside the agent, where no one sees them.
 */
export function socketPoolSize(load: { readonly pollers: number; readonly batchers: number }): number {
  return load.pollers + load.batchers * SOCKETS_PER_BATCHER + SPARE_SOCKETS;
}

/** Whether MD5 digests add anything on the way to `endpoint` (see SqsClientOptions.verifyMd5). */
export function md5Needed(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false; // AWS: HTTPS
  const url = new URL(endpoint);
  return url.protocol === "http:" && !isLoopbackHost(url.hostname);
}

/** The client settings of createSqsClient, for code that must build its own client class. */
export function sqsClientConfig(location: SqsEndpoint, options: SqsClientOptions = {}): SQSClientConfig {
  // Plain HTTP only to loopback: checked here too, for callers that skip resolveQueue.
  if (location.endpoint) requireSecureTransport(location.endpoint);
  const maxSockets = options.maxSockets ?? DEFAULT_MAX_SOCKETS;
  const handlerOptions = {
    httpAgent: new Agent({ keepAlive: true, maxSockets }),
    httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets }),
    requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    // Without this, @smithy/node-http-handler 4 only logs a warning when requestTimeout passes
    // and the request waits forever on a server that accepted it and never answers.
    throwOnRequestTimeout: true,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
  };
  const bounded = options.answerTimeoutMs !== undefined;
  const config: SQSClientConfig = {
    maxAttempts: options.maxAttempts ?? (bounded ? ANSWER_BOUND_ATTEMPTS : 3),
    requestHandler: bounded
      ? new AnswerBoundHandler(handlerOptions, options.answerTimeoutMs ?? OPS_ANSWER_TIMEOUT_MS)
      : new NodeHttpHandler(handlerOptions),
  };
  if (!(options.verifyMd5 ?? md5Needed(location.endpoint))) config.md5 = false;
  if (location.region) config.region = location.region;
  if (location.endpoint) {
    config.endpoint = location.endpoint;
    config.credentials = EMULATOR_CREDENTIALS;
    config.region ??= "us-east-1";
  }
  return config;
}

export function createSqsClient(location: SqsEndpoint, options: SqsClientOptions = {}): SQSClient {
  return new SQSClient(sqsClientConfig(location, options));
}

/**
 * Turns an SDK failure into one sentence that names the problem and the fix, or returns
 * undefined when the error is not one a user can act on (the caller rethrows it).
 */
export function explainSqsError(
  error: unknown,
  queueUrl: string,
  action: string,
  location: QueueOrigin,
): SqsAccessError | undefined {
  if (error instanceof SqsAccessError) return error;
  // Already one line that names its own problem and fix (the store, a path): not the queue's.
  if (error instanceof UserFacingError) return undefined;
  const name = sqsErrorName(error);
  const message = (error as { message?: string } | undefined)?.message ?? String(error);
  const code = networkErrorCode(error);
  const local = location.endpoint !== undefined;
  const make = (text: string) => new SqsAccessError(text, queueUrl, { cause: error });

  if (code && isUnreachable(error)) {
    const where = location.endpoint ?? new URL(queueUrl).host;
    const why = code === "ETIMEDOUT" ? "ETIMEDOUT: no answer in time" : code;
    return make(
      local
        ? `Cannot reach the local SQS at ${where} (${why}). Start it with \`npm run local\` in another terminal, or run \`npm run demo\`.`
        : `Cannot reach SQS at ${where} (${why}). Check the network and the queue URL's region.`,
    );
  }
  if (isMissingCredentials(error)) {
    return make(
      `No AWS credentials found to ${action} on ${queueUrl}. Configure them (AWS_PROFILE, \`aws sso login\`, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), or use the local stack: \`npm run local\`.`,
    );
  }
  if (isMissingRegion(error)) {
    return make(
      `No AWS region for ${queueUrl}. Set AWS_REGION (e.g. AWS_REGION=us-east-1) or read the queue from stack outputs (--source pulumi|terraform).`,
    );
  }
  if (isQueueMissing(error)) {
    const fix = {
      local: "start the local stack with `npm run local`",
      pulumi: "run `pulumi up`",
      terraform: "run `terraform -chdir=infra-terraform apply`",
      "queue-url": "check SQS_QUEUE_URL / --queue-url",
    }[location.source ?? "queue-url"];
    return make(`The queue ${queueUrl} does not exist. To create it, ${fix}.`);
  }
  if (isAccessDenied(error)) {
    return make(
      `AWS refused to ${action} on ${queueUrl} (${name}: ${message}). Use credentials whose role has the producer or consumer policy the stack creates.`,
    );
  }
  return undefined;
}

/** Runs `call`, turning failures a user can act on into SqsAccessError. */
export async function explained<T>(
  call: () => Promise<T>,
  queueUrl: string,
  action: string,
  location: QueueOrigin,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainSqsError(error, queueUrl, action, location) ?? error;
  }
}
