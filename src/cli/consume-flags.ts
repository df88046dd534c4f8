/**
 * The consume command's flags. Each option's default shows its variable (for --help and for
 * checkDefaults, which checks a variable with its flag's parser), but only what was typed on the
 * command line is a flag to resolveConsumerConfig: it applies the environment, the stack outputs
 * and CONSUMER_SETTINGS itself, in one order.
 */
import { Option, type OutputConfiguration } from "commander";
import type { Environment } from "../config/env.js";
import {
  MAIL_RATE_MAX_PER_SECOND,
  MAIL_RATE_MIN_PER_SECOND,
  MAIL_SEND_TIMEOUT_DEFAULT_MS,
  MAIL_SEND_TIMEOUT_MAX_MS,
  MAIL_SEND_TIMEOUT_MIN_MS,
  TIMER_MAX_MS,
} from "../config/limits.js";
import { defaultStateDir } from "../config/paths.js";
import { mailerKinds } from "../consumer/mail/index.js";
import { DEFAULT_SES_RATE_PER_SECOND } from "../consumer/mail/rate.js";
import { storeKinds } from "../consumer/registrations.js";
import {
  BATCHING_WINDOW_MAX_MS,
  CONCURRENCY_MAX,
  SHUTDOWN_TIMEOUT_MAX_MS,
} from "../consumer/runtime/options.js";
import { LONG_POLL_MAX_SECONDS } from "../sqs/limits.js";
import type { ConsumerFlags, ConsumerSettings } from "../stack/consumer-config.js";
import {
  addQueueOptions,
  listenAddress,
  newCommand,
  numberInRange,
  parseFlags,
  portNumber,
  wholeNumber,
} from "./shared.js";

/** The last source of every consumer setting (docs/usage.md). */
export const CONSUMER_SETTINGS: ConsumerSettings = {
  stateDir: defaultStateDir,
  source: "local",
  logLevel: "info",
  concurrency: 20,
  mailer: "outbox",
  sendTimeoutMs: MAIL_SEND_TIMEOUT_DEFAULT_MS,
  sesRatePerSecond: DEFAULT_SES_RATE_PER_SECOND,
  shutdownTimeoutSeconds: 25,
  healthHost: "127.0.0.1",
};

export function consumeProgram(env: Environment) {
  return addQueueOptions(
    newCommand("consume")
      .description("Receive registrations and send each a welcome email (written to the outbox).")
      .option("--until-empty", "exit when a receive finds the queue empty and nothing is in flight")
      .option("--max-messages <n>", "exit after N messages", wholeNumber("--max-messages"))
      .option(
        "--concurrency <n>",
        "messages worked on at once [env CONSUMER_CONCURRENCY]",
        wholeNumber("--concurrency", 1, CONCURRENCY_MAX),
        env.CONSUMER_CONCURRENCY ?? CONSUMER_SETTINGS.concurrency,
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
          .default(env.MAILER ?? CONSUMER_SETTINGS.mailer),
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
          .default(env.MAIL_SEND_TIMEOUT_MS ?? CONSUMER_SETTINGS.sendTimeoutMs),
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
        CONSUMER_SETTINGS.shutdownTimeoutSeconds,
      )
      .addOption(
        new Option("--health-port <port>", "serve /healthz and /metrics on this port [env HEALTH_PORT]")
          .argParser(portNumber("--health-port"))
          .default(env.HEALTH_PORT),
      )
      .addOption(
        new Option("--health-host <address>", "address of the health port [env HEALTH_HOST]")
          .argParser(listenAddress("--health-host"))
          .default(env.HEALTH_HOST ?? CONSUMER_SETTINGS.healthHost),
      )
      .addOption(
        new Option(
          "--metrics-emf",
          "write CloudWatch metrics (namespace SqsMessaging/Consumer) as one EMF line a minute on stderr [env METRICS_EMF=1]",
        ).default(env.METRICS_EMF ?? false),
      ),
    env,
  );
}

export interface ParsedConsumeFlags {
  /** Only what was typed. */
  readonly flags: ConsumerFlags;
  readonly json: boolean;
}

/** Parses argv (usage errors throw commander's errors, as every CLI's do). */
export function parseConsumeFlags(
  argv: readonly string[],
  env: Environment,
  output?: OutputConfiguration,
): ParsedConsumeFlags {
  const program = consumeProgram(env);
  if (output) program.configureOutput(output);
  const all = parseFlags<Record<string, unknown>>(program, argv);
  const flags = Object.fromEntries(
    Object.entries(all).filter(([key]) => program.getOptionValueSource(key) === "cli"),
  ) as ConsumerFlags;
  return { flags, json: all.json === true };
}
