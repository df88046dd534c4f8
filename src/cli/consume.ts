#!/usr/bin/env node
/**
 * `npm run consume -- …` (or, under a supervisor, `node dist/src/cli/consume.js`): long-polls the queue and sends a welcome email for each registration.
 * SIGINT/SIGTERM: stop receiving, finish what is in flight, flush deletes, exit 0, all within the
 * shutdown deadline (`--shutdown-timeout`) plus about a second, whatever the handlers do.
 */
import { join } from "node:path";
import { Option } from "commander";
import { readEnvironment } from "../config/env.js";
import {
  MAIL_RATE_MAX_PER_SECOND,
  MAIL_RATE_MIN_PER_SECOND,
  MAIL_SEND_TIMEOUT_DEFAULT_MS,
  MAIL_SEND_TIMEOUT_MAX_MS,
  MAIL_SEND_TIMEOUT_MIN_MS,
  TIMER_MAX_MS,
} from "../config/limits.js";
import { acceptedDir } from "../config/paths.js";
import { buildBounceConsumer } from "../consumer/bounce-consumer.js";
import { createMailer, defaultMailFrom, mailerKinds } from "../consumer/mail/index.js";
import {
  buildRegistrationConsumer,
  openSuppressionList,
  type StoreKind,
  storeKinds,
} from "../consumer/registrations.js";
import {
  BATCHING_WINDOW_MAX_MS,
  CONCURRENCY_MAX,
  consumerSocketPool,
  SHUTDOWN_TIMEOUT_MAX_MS,
} from "../consumer/runtime/options.js";
import type { ConsumerStats } from "../consumer/runtime/types.js";
import { ConfigurationError } from "../errors.js";
import { type EmfWriter, startEmfWriter } from "../observability/emf.js";
import { type HealthServer, startHealthServer } from "../observability/health-server.js";
import { consumerMetrics } from "../observability/metrics.js";
import { withTracing } from "../observability/tracing.js";
import { createSqsClient, explained, explainSqsError, RUN_ANSWER_TIMEOUT_MS } from "../sqs/client.js";
import { LONG_POLL_MAX_SECONDS } from "../sqs/limits.js";
import { queueName } from "../sqs/queue-pair.js";
import { totalRequests } from "../sqs/request-counter.js";
import { withTaskEnvironment } from "../stack/resolve.js";
import {
  addQueueOptions,
  checkWritableFolder,
  connect,
  digestKeyFor,
  listenAddress,
  loggerFor,
  newCommand,
  numberInRange,
  parseFlags,
  portNumber,
  type QueueFlags,
  runCli,
  wholeNumber,
} from "./shared.js";
import { storeChoiceFor } from "./store-flags.js";

interface ConsumeFlags extends QueueFlags {
  untilEmpty?: boolean;
  maxMessages?: number;
  concurrency: number;
  waitTime?: number;
  outbox?: string;
  store?: StoreKind;
  mailer: (typeof mailerKinds)[number];
  smtpUrl?: string;
  sesConfigSet?: string;
  mailFrom?: string;
  mailRate?: number;
  sentStore?: string;
  sendLatency: number;
  sendTimeout: number;
  healthPort?: number;
  healthHost: string;
  shutdownTimeout: number;
  batchingWindow: number;
  metricsEmf: boolean;
}

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = addQueueOptions(
    newCommand("consume")
      .description("Receive registrations and send each a welcome email (written to the outbox).")
      .option("--until-empty", "exit when a receive finds the queue empty and nothing is in flight")
      .option("--max-messages <n>", "exit after N messages", wholeNumber("--max-messages"))
      .option(
        "--concurrency <n>",
        "messages worked on at once [env CONSUMER_CONCURRENCY]",
        wholeNumber("--concurrency", 1, CONCURRENCY_MAX),
        env.CONSUMER_CONCURRENCY ?? 20,
      )
      .option(
        "--wait-time <seconds>",
        `long-poll wait, 0–${LONG_POLL_MAX_SECONDS} (default ${LONG_POLL_MAX_SECONDS}; 1 with --until-empty)`,
        wholeNumber("--wait-time", 0, LONG_POLL_MAX_SECONDS),
      )
      .option(
        "--batching-window <ms>",
        "after a partial batch, wait up to this long before the next receive (fewer requests at a trickle, like Lambda's batching window); 0 = off; not for FIFO queues",
        wholeNumber("--batching-window", 0, BATCHING_WINDOW_MAX_MS),
        0,
      )
      .option("--outbox <dir>", "folder for the welcome emails (default: <state-dir>/outbox)")
      .addOption(
        new Option(
          "--store <kind>",
          "where sent emails are recorded: dynamodb (the stack's table; the default when the outputs name one) or sqlite [env SENT_EMAIL_STORE]",
        )
          .choices(storeKinds)
          .default(env.SENT_EMAIL_STORE),
      )
      .option(
        "--sent-store <file>",
        "SQLite file of sent emails (default: <state-dir>/sent-emails.sqlite; required with --store sqlite when the stack has a table)",
      )
      .addOption(
        new Option("--mailer <transport>", "how welcome emails leave [env MAILER]")
          .choices(mailerKinds)
          .default(env.MAILER ?? "outbox"),
      )
      .addOption(
        new Option(
          "--smtp-url <url>",
          "smtp://user:password@host:587 (STARTTLS; plain only to loopback) or smtps://…:465 [env SMTP_URL]",
        ).default(env.SMTP_URL, "from SMTP_URL"),
      )
      .addOption(
        new Option("--ses-config-set <name>", "SES configuration set [env SES_CONFIGURATION_SET]").default(
          env.SES_CONFIGURATION_SET,
        ),
      )
      .addOption(new Option("--mail-from <address>", "sender [env MAIL_FROM]").default(env.MAIL_FROM))
      .addOption(
        new Option(
          "--send-timeout <ms>",
          "a send still running after this long is aborted; the claim lease is this plus a margin [env MAIL_SEND_TIMEOUT_MS]",
        )
          .argParser(wholeNumber("--send-timeout", MAIL_SEND_TIMEOUT_MIN_MS, MAIL_SEND_TIMEOUT_MAX_MS))
          .default(env.MAIL_SEND_TIMEOUT_MS ?? MAIL_SEND_TIMEOUT_DEFAULT_MS),
      )
      .addOption(
        new Option(
          "--mail-rate <per-second>",
          "emails a second at most (account quota ÷ maximum tasks; default 3.5 with ses) [env MAIL_RATE_PER_SECOND]",
        )
          .argParser(numberInRange("--mail-rate", MAIL_RATE_MIN_PER_SECOND, MAIL_RATE_MAX_PER_SECOND))
          .default(env.MAIL_RATE_PER_SECOND),
      )
      .option(
        "--send-latency <ms>",
        "simulated mail-server latency per email",
        wholeNumber("--send-latency", 0, TIMER_MAX_MS),
        0,
      )
      .option(
        "--shutdown-timeout <seconds>",
        "on SIGTERM/SIGINT, exit within this many seconds (+1); unfinished messages reappear later",
        wholeNumber("--shutdown-timeout", 0, SHUTDOWN_TIMEOUT_MAX_MS / 1000),
        25,
      )
      .addOption(
        new Option("--health-port <port>", "serve /healthz and /metrics on this port [env HEALTH_PORT]")
          .argParser(portNumber("--health-port"))
          .default(env.HEALTH_PORT),
      )
      .addOption(
        new Option("--health-host <address>", "address of the health port [env HEALTH_HOST]")
          .argParser(listenAddress("--health-host"))
          .default(env.HEALTH_HOST ?? "127.0.0.1"),
      )
      .addOption(
        new Option(
          "--metrics-emf",
          "write CloudWatch metrics (namespace SqsMessaging/Consumer) as one EMF line a minute on stderr [env METRICS_EMF=1]",
        ).default(env.METRICS_EMF ?? false),
      ),
    env,
  );
  const flags = parseFlags<ConsumeFlags>(program, argv);
  const logger = loggerFor(flags, "consumer");
  const started = performance.now();
  const outbox = flags.outbox ?? join(flags.stateDir, "outbox");
  // Paths first: a bad one is one line now, not a consumer paused on its own fault later.
  if (env.REGISTRATION_DIGEST_KEY === undefined || (flags.mailer === "outbox" && !flags.outbox)) {
    await checkWritableFolder(flags.stateDir, "--state-dir");
  }
  if (flags.mailer === "outbox") await checkWritableFolder(outbox, flags.outbox ? "--outbox" : "--state-dir");
  const digestKey = await digestKeyFor(env, flags.stateDir);

  // Sockets sized from the pollers and batchers this concurrency runs: the pool is never the limit.
  const connected = await connect(flags, {
    answerTimeoutMs: RUN_ANSWER_TIMEOUT_MS,
    maxAttempts: 3,
    maxSockets: consumerSocketPool(flags.concurrency),
  });
  const { client, counts } = connected;
  // A queue given by URL (an ECS task) has no stack outputs: the task names its table and bounce queue.
  const location = withTaskEnvironment(connected.location, env);
  if (flags.batchingWindow > 0 && location.queueUrl.endsWith(".fifo")) {
    client.destroy();
    throw new ConfigurationError(
      "--batching-window is not for FIFO queues: a message group's next message waits for the previous one, so a window only adds latency. Drop the flag.",
    );
  }
  const mailer = createMailer({
    kind: flags.mailer,
    smtpUrl: flags.smtpUrl,
    // The flag wins; else the configuration set the stack declares (its events reach the bounce queue).
    sesConfigurationSet: flags.sesConfigSet ?? location.sesConfigurationSetName,
    from: flags.mailFrom ?? (location.mailDomain ? defaultMailFrom(location.mailDomain) : undefined),
    sendTimeoutMs: flags.sendTimeout,
    // The flag wins; with SES, the stack's share of the account's rate (settings `email`, as deployed).
    ratePerSecond: flags.mailRate ?? (flags.mailer === "ses" ? location.mailRatePerSecond : undefined),
    outboxDir: outbox,
    outboxLatencyMs: flags.sendLatency,
    queue: location,
    logger,
  });
  const store = storeChoiceFor(flags, location);
  // Hard bounces and complaints: in the chosen store's place, read before every send.
  const suppression = openSuppressionList(store);
  const runtime = {
    // With --until-empty a short poll ends the run soon after the queue drains.
    waitTimeSeconds: flags.waitTime ?? (flags.untilEmpty ? 1 : 20),
    stopWhenEmpty: flags.untilEmpty ?? false,
    shutdownTimeoutMs: flags.shutdownTimeout * 1000,
  };
  const built = await explained(
    () =>
      buildRegistrationConsumer({
        client,
        queueUrl: location.queueUrl,
        deadLetterQueueUrl: location.deadLetterQueueUrl,
        store,
        suppression,
        mailer,
        digestKey,
        sendTimeoutMs: flags.sendTimeout,
        acceptedDir: acceptedDir(flags.stateDir),
        logger,
        consumer: {
          concurrency: flags.concurrency,
          ...runtime,
          batchingWindowMs: flags.batchingWindow,
          ...(flags.maxMessages ? { maxMessages: flags.maxMessages } : {}),
        },
      }),
    location.queueUrl,
    "receive messages",
    location,
  ).catch(async (error: unknown) => {
    client.destroy();
    mailer.close();
    await suppression.close?.();
    throw error;
  });
  const { consumer, emails } = built;
  // The bounce queue, when the stack has one: the same runtime beside the registrations, on its
  // own SQS client (the summary's request counts stay the registrations'), stopped with them.
  const bounceClient = location.bounceQueueUrl
    ? createSqsClient(location, { answerTimeoutMs: RUN_ANSWER_TIMEOUT_MS, maxAttempts: 3 })
    : undefined;
  const bounces =
    location.bounceQueueUrl && bounceClient
      ? buildBounceConsumer({
          client: bounceClient,
          queueUrl: location.bounceQueueUrl,
          suppression,
          digestKey,
          logger,
          consumer: runtime,
        })
      : undefined;
  // `on`, not `once`: Ctrl-C under `npm run` delivers SIGINT twice (the terminal signals the
  // group, and npm 11 forwards its own copy to the child); a second signal must not kill the
  // graceful stop, which is bounded by the shutdown deadline anyway.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing messages in flight");
    void consumer.stop();
    void bounces?.consumer.stop();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  let health: HealthServer | undefined;
  let emf: EmfWriter | undefined;
  let stats: ConsumerStats;
  let bounceStats: ConsumerStats | undefined;
  try {
    if (flags.healthPort !== undefined) {
      const { registry } = consumerMetrics(consumer, client, emails);
      health = await startHealthServer(consumer, {
        port: flags.healthPort,
        host: flags.healthHost,
        registry,
        ...(bounces ? { others: [bounces.consumer] } : {}),
      });
      logger.info({ url: health.url }, "serving /healthz and /metrics");
    }
    // The registrations queue's metrics (the fleet's alarms read them); the dimension is the
    // queue's name from its URL. Lines go to stderr, which the task's awslogs driver ships.
    if (flags.metricsEmf) {
      emf = startEmfWriter({
        source: consumer,
        queueName: queueName(location.queueUrl),
        stream: process.stderr,
      });
    }
    // The bounce queue first: a missing one (or a role without it) fails the run before any
    // registration is taken.
    if (bounces && location.bounceQueueUrl) {
      const bounceQueueUrl = location.bounceQueueUrl;
      await explained(() => bounces.consumer.start(), bounceQueueUrl, "receive SES events", location);
      // A bounce consumer that fails for good stops the registrations too: one process, one fate.
      bounces.consumer.finished.catch(() => void consumer.stop());
    }
    await explained(() => consumer.start(), location.queueUrl, "receive messages", location);
    stats = await consumer.finished;
    // --until-empty drains both queues; otherwise the registrations' end (a signal, --max-messages)
    // ends the bounce consumer too.
    if (bounces && location.bounceQueueUrl) {
      if (!flags.untilEmpty) await bounces.consumer.stop();
      // Rejects when it failed for good: the run then fails too (exit code and message).
      const bounceQueueUrl = location.bounceQueueUrl;
      bounceStats = await bounces.consumer.finished.catch((error: unknown) => {
        throw explainSqsError(error, bounceQueueUrl, "receive SES events", location) ?? error;
      });
    }
  } catch (error) {
    await Promise.all([consumer.stop(), bounces?.consumer.stop()]);
    throw explainSqsError(error, location.queueUrl, "receive messages", location) ?? error;
  } finally {
    // The final flush: what the last partial minute counted.
    emf?.stop();
    await health?.close();
    client.destroy();
    bounceClient?.destroy();
    mailer.close();
    await built.close();
    await suppression.close?.();
  }
  const seconds = (performance.now() - started) / 1000;
  const summary = {
    queueUrl: location.queueUrl,
    ...stats,
    store: built.storeKind,
    emailsSent: emails.sent,
    duplicatesSkipped: emails.duplicates,
    idConflicts: emails.conflicts,
    staleClaims: emails.staleClaims ?? 0,
    secondSends: emails.secondSends ?? 0,
    recordedLate: emails.recordedLate ?? 0,
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
    outbox,
  };
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    process.stdout.write(
      `processed ${stats.processed} (${emails.sent} emails sent, ${emails.duplicates} duplicates skipped${emails.suppressed ? `, ${emails.suppressed} suppressed` : ""}, ${emails.secondSends ?? 0} second sends), failed ${stats.failed}, dead-lettered ${stats.deadLettered} in ${summary.seconds} s (${summary.messagesPerSecond} msg/s, ${summary.requests} SQS requests); outbox: ${outbox}\n`,
    );
  }
  return 0;
}

await runCli(() => withTracing("sqs-messaging-consumer", () => main(process.argv.slice(2))));
// Handlers abandoned at the shutdown deadline may still hold timers or sockets; the consumer has
// settled everything it will settle, so exit now rather than when they finish (
// the deadline is an exit, not a log line). stdout and the logger write synchronously.
process.exit();
