/** The consumer runtime's public types: its options, its stats and its events. */
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "../../log/logger.js";
import type { Clock } from "../../time/clock.js";
import type { CircuitBreakerOptions } from "../circuit-breaker.js";
import type {
  EnvironmentComponent,
  EnvironmentFaultError,
  HandlerError,
  PoisonMessageError,
} from "../errors.js";

export interface HandlerContext {
  /** Aborted when the consumer stops and its shutdown deadline has passed. */
  readonly signal: AbortSignal;
  /** How many times SQS has delivered this message, this time included. */
  readonly receiveCount: number;
  /**
   * For a handler that works through a fault of its environment instead of failing (it retries a
   * write it must not lose): the runtime pauses receiving as for a thrown EnvironmentFaultError,
   * keeps the message invisible while the handler runs, and takes the run's success as the
   * breaker's proof that the environment is back.
   */
  readonly environmentFault?: (error: EnvironmentFaultError) => void;
  /** This run is the circuit breaker's probe: the one message let through to test the environment. */
  readonly probe?: boolean;
  /**
   * Epoch ms by which the run must be over (a Lambda invocation's end, less its settling margin):
   * a send that could still be running then is not started. None: no such end (the long-running
   * consumer, whose shutdown deadline aborts `signal` instead).
   */
  readonly deadline?: number;
}

export type MessageHandler = (message: Message, context: HandlerContext) => Promise<void>;

export interface ConsumerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly handler: MessageHandler;
  /** Where poison messages go. Default: the queue's RedrivePolicy target. */
  readonly deadLetterQueueUrl?: string | undefined;
  /** Handlers running at once, 1–10,000. Default 20. */
  readonly concurrency?: number;
  /**
   * Received messages that may wait for a free handler, on top of `concurrency`. Default: a fifth
   * of the concurrency, at least one batch (10), at most a batch per poller (defaultPrefetch).
   * The heartbeat keeps them invisible too.
   */
  readonly prefetch?: number;
  /** Long-poll wait of each receive, 0–20 s. Default 20 (the cheapest). */
  readonly waitTimeSeconds?: number;
  /** Visibility timeout the heartbeat renews. Default: the queue's VisibilityTimeout. */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * The queue's attributes (VisibilityTimeout, RedrivePolicy, FifoQueue) when the caller has read
   * them already (describeQueue in registrations.ts): start() then does not ask SQS again.
   */
  readonly queueAttributes?: Readonly<Record<string, string>>;
  /** Backoff after a failure: base × 2^(receiveCount − 1) seconds, capped. Default 2. */
  readonly retryBaseDelaySeconds?: number;
  /** Cap of that backoff. Default 900 (15 minutes). */
  readonly maxRetryDelaySeconds?: number;
  /**
   * Longest wait of a processed message's delete for company, in ms, while the consumer is not
   * busy (one poller: a trickle). Default 1,000. Never more than a tenth of the message's
   * remaining visibility; 20 ms while busy; a full batch (10) leaves at once; FIFO queues delete
   * at once (a group waits for its message's delete).
   */
  readonly deleteBatchWaitMs?: number;
  /**
   * Like Lambda's MaximumBatchingWindowInSeconds: a poller whose receive came back with a partial
   * batch waits this long (ms) before its next receive, so that messages arriving at a trickle
   * are taken ten at a time. Default 0 (off). Not for FIFO queues.
   */
  readonly batchingWindowMs?: number;
  /**
   * How long `stop()` may take, from its call: handlers still running then are abandoned (their
   * signal is aborted) and stop() resolves within a further ~0.5 s. Default 25 s (ECS and
   * Kubernetes give 30 before SIGKILL).
   */
  readonly shutdownTimeoutMs?: number;
  /** Probe timings (and clock) of the breaker that pauses on environment faults. */
  readonly breaker?: CircuitBreakerOptions;
  /** Stop once a receive finds nothing and nothing is in flight. */
  readonly stopWhenEmpty?: boolean;
  /** Stop after this many messages have been received and settled. */
  readonly maxMessages?: number;
  readonly logger?: Logger;
  /** Timers and time (tests pass fake ones). Default: the system's. */
  readonly clock?: Clock;
}

export interface ConsumerStats {
  received: number;
  /** Handler succeeded and the delete was confirmed. */
  processed: number;
  /** Handler failed; the message went back to the queue with a backoff. */
  failed: number;
  /** Poison messages moved to the dead-letter queue by the consumer. */
  deadLettered: number;
  /** Handed back (visibility 1 s): unstarted at stop or at a pause, or received after either. */
  released: number;
  /** Handler succeeded but the delete failed for good: SQS will deliver it again. */
  deleteFailed: number;
  /** Receives that returned no message. */
  emptyReceives: number;
  /** Handler runs that met a fault of the environment (not counted as failed). */
  environmentFaults: number;
  /** Handlers still running at the shutdown deadline, left for SQS to redeliver. */
  abandoned: number;
  /** Runs that asked to wait (HoldError): kept invisible and run again, no receive spent. */
  held?: number;
}

export interface ConsumerEvents {
  /** A receive succeeded (empty or not): the loop is alive and SQS answers. */
  received: [messages: Message[]];
  /** A handler returned (ok) or threw, after `seconds`. */
  handled: [message: Message, seconds: number, ok: boolean];
  processed: [message: Message];
  failed: [error: HandlerError, message: Message];
  "dead-lettered": [error: PoisonMessageError, message: Message];
  "receive-error": [error: unknown];
  "delete-failed": [error: unknown, message: Message];
  /** An environment fault paused the consumer: it takes no messages until a probe succeeds. */
  paused: [reason: EnvironmentComponent, error: EnvironmentFaultError];
  /** A probe succeeded after a pause of `seconds`: the consumer takes messages again. */
  resumed: [seconds: number];
}

/** A received message the runtime holds (buffered, running, or held for a probe). */
export interface Tracked {
  readonly message: Message;
  readonly receiptHandle: string;
  readonly receiveCount: number;
  /** When the receive that brought it returned (clock ms): SQS's 12 h visibility limit counts from it. */
  readonly receivedAt: number;
  /** When SQS will make the message visible again unless the heartbeat extends it (clock ms). */
  deadline: number;
  extending: boolean;
  /** Its handler slot has been given back (guards against freeing it twice). */
  freed?: boolean;
  /** This run is the breaker's probe. */
  probe?: boolean;
  /** This run reported an environment fault and carries on (HandlerContext.environmentFault). */
  faulted?: boolean;
}
