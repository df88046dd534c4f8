/**
 * The consumer as an application: from one resolved configuration it starts the registration
 * consumer and, when the stack has one, the bounce consumer beside it, the health server and the
 * EMF metrics; `stop()` ends them within the shutdown deadline; `finished` is the run's summary.
 * What runs it (the consume CLI, a container, a test in process) only parses flags, wires signals
 * and prints.
 */
import { loadDigestKey } from "../config/digest-key.js";
import { checkWritableFolder } from "../config/folders.js";
import { acceptedDir } from "../config/paths.js";
import type { Logger } from "../log/logger.js";
import { type EmfWriter, startEmfWriter } from "../observability/emf.js";
import { type HealthServer, startHealthServer } from "../observability/health-server.js";
import { consumerMetrics } from "../observability/metrics.js";
import { createSqsClient, explained, explainSqsError, RUN_ANSWER_TIMEOUT_MS } from "../sqs/client.js";
import { queueName } from "../sqs/queue-pair.js";
import { countRequests, type RequestCounts, totalRequests } from "../sqs/request-counter.js";
import type { ConsumerConfig } from "../stack/consumer-config.js";
import { buildBounceConsumer } from "./bounce-consumer.js";
import { createMailer, defaultMailFrom } from "./mail/index.js";
import { buildRegistrationConsumer, chooseStore, openSuppressionList } from "./registrations.js";
import { consumerSocketPool } from "./runtime/options.js";
import type { ConsumerStats } from "./runtime/types.js";

export interface ConsumerAppDeps {
  readonly logger: Logger;
  /** A warning for the person running it (a generated digest key): one line. */
  readonly warn: (message: string) => void;
  /**
   * Called with the app's stop once both consumers exist, before anything starts: where a CLI
   * installs its signal handlers (a signal from then on stops the run gracefully).
   */
  readonly onStoppable?: (stop: () => void) => void;
  /** Where EMF lines go (the task's log driver ships stderr). */
  readonly emfStream?: NodeJS.WritableStream;
}

/** What a run did, as `--json` prints it. */
export interface ConsumerSummary extends ConsumerStats {
  readonly queueUrl: string;
  readonly store: string;
  readonly emailsSent: number;
  readonly duplicatesSkipped: number;
  readonly idConflicts: number;
  readonly staleClaims: number;
  readonly secondSends: number;
  readonly recordedLate: number;
  readonly leaseLapses: number;
  readonly suppressed: number;
  readonly bounceQueue?: {
    readonly processed: number;
    readonly addressesSuppressed: number;
    readonly ignored: number;
    readonly deadLettered: number;
    readonly failed: number;
  };
  readonly seconds: number;
  readonly messagesPerSecond: number;
  readonly requests: number;
  readonly requestsByOperation: RequestCounts;
  readonly outbox: string;
}

export interface ConsumerApp {
  /** The health server's address, when one was asked for. */
  readonly healthUrl?: string | undefined;
  /** Stop receiving, finish what is in flight within the shutdown deadline. Idempotent. */
  stop(): void;
  /** The summary once both consumers have ended and everything is closed; rejects on a failure for good. */
  readonly finished: Promise<ConsumerSummary>;
}

/**
 * Starts the consumer; resolves once both queues are being received (a queue that is missing or
 * refused rejects here, before any registration is taken).
 */
export async function startConsumerApp(config: ConsumerConfig, deps: ConsumerAppDeps): Promise<ConsumerApp> {
  const { logger } = deps;
  const { queue, mail, runtime, observability } = config;
  const started = performance.now();
  // Paths first: a bad one is one line now, not a consumer paused on its own fault later.
  if (runtime.digestSecret === undefined || (mail.kind === "outbox" && !mail.outboxGiven)) {
    await checkWritableFolder(runtime.stateDir, "--state-dir");
  }
  if (mail.kind === "outbox") {
    await checkWritableFolder(mail.outboxDir, mail.outboxGiven ? "--outbox" : "--state-dir");
  }
  const digestKey = await loadDigestKey({
    secret: runtime.digestSecret,
    stateDir: runtime.stateDir,
    warn: deps.warn,
  });

  // What is open so far, closed in reverse order on a failure at start and at the end of the run:
  // one list, so no step's cleanup can forget what an earlier step opened.
  const opened: (() => unknown)[] = [];
  const closeOpened = async () => {
    for (const closeOne of opened.splice(0).reverse()) await closeOne();
  };
  // Sockets sized from the pollers and batchers this concurrency runs: the pool is never the limit.
  const client = createSqsClient(queue, {
    answerTimeoutMs: RUN_ANSWER_TIMEOUT_MS,
    maxAttempts: 3,
    maxSockets: consumerSocketPool(runtime.concurrency),
  });
  opened.push(() => client.destroy());
  const counts = countRequests(client);
  const shared = {
    waitTimeSeconds: runtime.waitTimeSeconds,
    stopWhenEmpty: runtime.stopWhenEmpty,
    shutdownTimeoutMs: runtime.shutdownTimeoutMs,
  };
  let built: Awaited<ReturnType<typeof buildRegistrationConsumer>>;
  let suppression: ReturnType<typeof openSuppressionList>;
  try {
    const mailer = createMailer({
      kind: mail.kind,
      smtpUrl: mail.smtpUrl,
      sesConfigurationSet: mail.sesConfigurationSet,
      from: mail.from ?? (mail.senderDomain ? defaultMailFrom(mail.senderDomain) : undefined),
      sendTimeoutMs: mail.sendTimeoutMs,
      ratePerSecond: mail.ratePerSecond,
      outboxDir: mail.outboxDir,
      outboxLatencyMs: mail.outboxLatencyMs,
      queue,
      logger,
    });
    opened.push(() => mailer.close());
    const store = chooseStore({
      kind: config.store.kind,
      sqlitePath: config.store.sqlitePath,
      stateDir: runtime.stateDir,
      sentEmailsTableName: config.store.tableName,
      dynamoDbEndpoint: config.store.dynamoDbEndpoint,
      region: config.store.region,
    });
    // Hard bounces and complaints: in the chosen store's place, read before every send.
    const list = openSuppressionList(store);
    suppression = list;
    opened.push(() => list.close?.());
    const registrations = await explained(
      () =>
        buildRegistrationConsumer({
          client,
          queueUrl: queue.queueUrl,
          deadLetterQueueUrl: queue.deadLetterQueueUrl,
          store,
          suppression: list,
          mailer,
          digestKey,
          sendTimeoutMs: mail.sendTimeoutMs,
          acceptedDir: acceptedDir(runtime.stateDir),
          logger,
          consumer: {
            concurrency: runtime.concurrency,
            ...shared,
            batchingWindowMs: runtime.batchingWindowMs,
            ...(runtime.maxMessages ? { maxMessages: runtime.maxMessages } : {}),
          },
        }),
      queue.queueUrl,
      "receive messages",
      queue,
    );
    built = registrations;
    opened.push(() => registrations.close());
  } catch (error) {
    await closeOpened();
    throw error;
  }
  const { consumer, emails } = built;
  // The bounce queue, when the stack has one: the same runtime beside the registrations, on its
  // own SQS client (the summary's request counts stay the registrations'), stopped with them.
  const bounceQueueUrl = queue.bounceQueueUrl;
  const bounceClient = bounceQueueUrl
    ? createSqsClient(queue, { answerTimeoutMs: RUN_ANSWER_TIMEOUT_MS, maxAttempts: 3 })
    : undefined;
  if (bounceClient) opened.push(() => bounceClient.destroy());
  const bounces =
    bounceQueueUrl && bounceClient
      ? buildBounceConsumer({
          client: bounceClient,
          queueUrl: bounceQueueUrl,
          suppression,
          digestKey,
          logger,
          consumer: shared,
        })
      : undefined;

  const stop = () => {
    void consumer.stop();
    void bounces?.consumer.stop();
  };
  deps.onStoppable?.(stop);

  let health: HealthServer | undefined;
  let emf: EmfWriter | undefined;
  const close = async () => {
    // The final flush: what the last partial minute counted.
    emf?.stop();
    await health?.close();
    await closeOpened();
  };
  const fail = async (error: unknown): Promise<never> => {
    await Promise.all([consumer.stop(), bounces?.consumer.stop()]);
    await close();
    throw explainSqsError(error, queue.queueUrl, "receive messages", queue) ?? error;
  };

  try {
    if (observability.healthPort !== undefined) {
      const { registry } = consumerMetrics(consumer, client, emails);
      health = await startHealthServer(consumer, {
        port: observability.healthPort,
        host: observability.healthHost,
        registry,
        ...(bounces ? { others: [bounces.consumer] } : {}),
      });
      logger.info({ url: health.url }, "serving /healthz and /metrics");
    }
    // The registrations queue's metrics (the fleet's alarms read them); the dimension is the
    // queue's name from its URL.
    if (observability.metricsEmf) {
      emf = startEmfWriter({
        source: consumer,
        queueName: queueName(queue.queueUrl),
        stream: deps.emfStream ?? process.stderr,
      });
    }
    // The bounce queue first: a missing one (or a role without it) fails the run before any
    // registration is taken.
    if (bounces && bounceQueueUrl) {
      await explained(() => bounces.consumer.start(), bounceQueueUrl, "receive SES events", queue);
      // A bounce consumer that fails for good stops the registrations too: one process, one fate.
      bounces.consumer.finished.catch(() => void consumer.stop());
    }
    await explained(() => consumer.start(), queue.queueUrl, "receive messages", queue);
  } catch (error) {
    return fail(error);
  }

  const run = async (): Promise<ConsumerSummary> => {
    let stats: ConsumerStats;
    let bounceStats: ConsumerStats | undefined;
    try {
      stats = await consumer.finished;
      // --until-empty drains both queues; otherwise the registrations' end (a signal,
      // --max-messages) ends the bounce consumer too.
      if (bounces && bounceQueueUrl) {
        if (!runtime.stopWhenEmpty) await bounces.consumer.stop();
        // Rejects when it failed for good: the run then fails too (exit code and message).
        bounceStats = await bounces.consumer.finished.catch((error: unknown) => {
          throw explainSqsError(error, bounceQueueUrl, "receive SES events", queue) ?? error;
        });
      }
    } catch (error) {
      return fail(error);
    }
    await close();
    const seconds = (performance.now() - started) / 1000;
    return {
      queueUrl: queue.queueUrl,
      ...stats,
      store: built.storeKind,
      emailsSent: emails.sent,
      duplicatesSkipped: emails.duplicates,
      idConflicts: emails.conflicts,
      staleClaims: emails.staleClaims ?? 0,
      secondSends: emails.secondSends ?? 0,
      recordedLate: emails.recordedLate ?? 0,
      leaseLapses: emails.leaseLapses ?? 0,
      suppressed: emails.suppressed ?? 0,
      ...(bounces && bounceStats
        ? {
            bounceQueue: {
              processed: bounceStats.processed,
              addressesSuppressed: bounces.counts.suppressed,
              ignored: bounces.counts.ignored,
              deadLettered: bounceStats.deadLettered,
              failed: bounceStats.failed,
            },
          }
        : {}),
      seconds: Number(seconds.toFixed(3)),
      messagesPerSecond: Math.round(stats.processed / Math.max(seconds, 1e-3)),
      requests: totalRequests(counts),
      requestsByOperation: counts,
      outbox: mail.outboxDir,
    };
  };
  return {
    healthUrl: health?.url,
    stop,
    finished: run(),
  };
}

/** The summary as one line for a person. */
export function summaryLine(summary: ConsumerSummary): string {
  const s = summary;
  return `processed ${s.processed} (${s.emailsSent} emails sent, ${s.duplicatesSkipped} duplicates skipped${s.suppressed ? `, ${s.suppressed} suppressed` : ""}, ${s.secondSends} second sends), failed ${s.failed}, dead-lettered ${s.deadLettered} in ${s.seconds} s (${s.messagesPerSecond} msg/s, ${s.requests} SQS requests); outbox: ${s.outbox}`;
}
