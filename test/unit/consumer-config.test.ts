/**
 * resolveConsumerConfig: each source wins over the next (flags > environment > stack outputs >
 * settings), and a configuration that cannot run is refused naming the flag or variable and the fix.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONSUMER_SETTINGS } from "../../src/cli/consume-flags.js";
import type { Environment } from "../../src/config/env.js";
import { projectRoot } from "../../src/config/paths.js";
import { ConfigurationError } from "../../src/errors.js";
import {
  CONSUMER_CONFIG_PRECEDENCE,
  type ConsumerFlags,
  type ConsumerSettings,
  resolveConsumerConfig,
  stackOptions,
} from "../../src/stack/consumer-config.js";
import type { StackOutputs } from "../../src/stack/outputs.js";

const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations";
const outputs: StackOutputs = {
  queueUrl,
  queueArn: "arn:aws:sqs:eu-west-1:123456789012:user-registrations",
  deadLetterQueueUrl: `${queueUrl}-dlq`,
  deadLetterQueueArn: "arn:aws:sqs:eu-west-1:123456789012:user-registrations-dlq",
  region: "eu-west-1",
  sentEmailsTableName: "from-outputs",
  bounceQueueUrl: `${queueUrl}-ses-events`,
  sesConfigurationSetName: "set-from-outputs",
  mailDomain: "example.com",
  mailRatePerSecond: 2,
};
const settings: ConsumerSettings = { ...CONSUMER_SETTINGS, sesRatePerSecond: 3.5 };

const resolve = (flags: ConsumerFlags, env: Environment, out: StackOutputs | "none" = outputs) =>
  resolveConsumerConfig(flags, env, out === "none" ? undefined : out, settings);

describe("precedence: flags > environment > outputs > settings", () => {
  it("is the order docs/usage.md states", () => {
    const usage = readFileSync(join(projectRoot, "docs", "usage.md"), "utf8");
    expect(usage).toContain(`**${CONSUMER_CONFIG_PRECEDENCE}**`);
  });

  it("the SES configuration set: flag, then SES_CONFIGURATION_SET, then the outputs", () => {
    const env = { SES_CONFIGURATION_SET: "set-from-env" };
    expect(resolve({ sesConfigSet: "set-from-flag" }, env).mail.sesConfigurationSet).toBe("set-from-flag");
    expect(resolve({}, env).mail.sesConfigurationSet).toBe("set-from-env");
    expect(resolve({}, {}).mail.sesConfigurationSet).toBe("set-from-outputs");
  });

  it("the mail rate with ses: flag, then MAIL_RATE_PER_SECOND, then the outputs' share, then the settings'", () => {
    const ses = { mailer: "ses" } as const;
    const env = { MAIL_RATE_PER_SECOND: 5 };
    expect(resolve({ ...ses, mailRate: 7 }, env).mail.ratePerSecond).toBe(7);
    expect(resolve(ses, env).mail.ratePerSecond).toBe(5);
    expect(resolve(ses, {}).mail.ratePerSecond).toBe(2);
    expect(resolve(ses, {}, { ...outputs, mailRatePerSecond: undefined }).mail.ratePerSecond).toBe(3.5);
    // Not SES: no pacing unless asked for.
    expect(resolve({ mailer: "smtp" }, {}).mail.ratePerSecond).toBeUndefined();
  });

  it("the mailer, concurrency, send timeout, health host and log level: flag, variable, settings", () => {
    const env: Environment = {
      MAILER: "smtp",
      CONSUMER_CONCURRENCY: 7,
      MAIL_SEND_TIMEOUT_MS: 5000,
      HEALTH_HOST: "0.0.0.0",
      LOG_LEVEL: "debug",
    };
    const flagged = resolve(
      { mailer: "ses", concurrency: 3, sendTimeout: 2000, healthHost: "::1", logLevel: "error" },
      env,
    );
    expect([flagged.mail.kind, flagged.runtime.concurrency, flagged.mail.sendTimeoutMs]).toEqual([
      "ses",
      3,
      2000,
    ]);
    expect([flagged.observability.healthHost, flagged.observability.logLevel]).toEqual(["::1", "error"]);
    const fromEnv = resolve({}, env);
    expect([fromEnv.mail.kind, fromEnv.runtime.concurrency, fromEnv.mail.sendTimeoutMs]).toEqual([
      "smtp",
      7,
      5000,
    ]);
    expect([fromEnv.observability.healthHost, fromEnv.observability.logLevel]).toEqual(["0.0.0.0", "debug"]);
    const defaults = resolve({}, {});
    expect([defaults.mail.kind, defaults.runtime.concurrency, defaults.mail.sendTimeoutMs]).toEqual([
      settings.mailer,
      settings.concurrency,
      settings.sendTimeoutMs,
    ]);
    expect([defaults.observability.healthHost, defaults.observability.logLevel]).toEqual([
      settings.healthHost,
      settings.logLevel,
    ]);
  });

  it("the sender: flag, then MAIL_FROM, then the outputs' mail domain (the mailer's default sender there)", () => {
    expect(resolve({ mailFrom: "a@x.org" }, { MAIL_FROM: "b@x.org" }).mail.from).toBe("a@x.org");
    expect(resolve({}, { MAIL_FROM: "b@x.org" }).mail.from).toBe("b@x.org");
    expect(resolve({}, {}).mail).toMatchObject({ from: undefined, senderDomain: "example.com" });
  });

  it("the queue: a URL (flag, then SQS_QUEUE_URL) wins over the outputs", () => {
    const other = "https://sqs.eu-west-1.amazonaws.com/123456789012/other";
    expect(resolve({ queueUrl: other }, { SQS_QUEUE_URL: `${other}-env` }).queue).toMatchObject({
      queueUrl: other,
      source: "queue-url",
    });
    expect(resolve({}, { SQS_QUEUE_URL: `${other}-env` }).queue.queueUrl).toBe(`${other}-env`);
    expect(resolve({}, {}).queue).toMatchObject({
      queueUrl,
      deadLetterQueueUrl: `${queueUrl}-dlq`,
      region: "eu-west-1",
      source: "local",
    });
    expect(resolve({ source: "pulumi" }, { QUEUE_SOURCE: "terraform" }).queue.source).toBe("pulumi");
    expect(resolve({}, { QUEUE_SOURCE: "terraform" }).queue.source).toBe("terraform");
  });

  it("the table and bounce queue: the outputs, or for a queue given by URL the task's variables", () => {
    const env = { SENT_EMAILS_TABLE_NAME: "from-env", BOUNCE_QUEUE_URL: `${queueUrl}-env-events` };
    const fromOutputs = resolve({}, env);
    expect(fromOutputs.store.tableName).toBe("from-outputs");
    expect(fromOutputs.queue.bounceQueueUrl).toBe(`${queueUrl}-ses-events`);
    const byUrl = resolve({ queueUrl }, env, "none");
    expect(byUrl.store.tableName).toBe("from-env");
    expect(byUrl.queue.bounceQueueUrl).toBe(`${queueUrl}-env-events`);
  });

  it("the state folder and the outbox under it: flag, then SQS_STATE_DIR, then settings", () => {
    expect(resolve({ stateDir: "/f" }, { SQS_STATE_DIR: "/e" }).mail.outboxDir).toBe("/f/outbox");
    expect(resolve({}, { SQS_STATE_DIR: "/e" }).runtime.stateDir).toBe("/e");
    expect(resolve({}, {}).runtime.stateDir).toBe(settings.stateDir);
    expect(resolve({ outbox: "/o" }, {}).mail).toMatchObject({ outboxDir: "/o", outboxGiven: true });
    const options = stackOptions({}, { SQS_STATE_DIR: "/e", PULUMI_STACK: "dev" }, settings, "/root");
    expect(options).toMatchObject({ stateDir: "/e", stack: "dev", source: "local", projectRoot: "/root" });
  });

  it("--until-empty shortens the long poll; --wait-time wins over both", () => {
    expect(resolve({}, {}).runtime).toMatchObject({ waitTimeSeconds: 20, stopWhenEmpty: false });
    expect(resolve({ untilEmpty: true }, {}).runtime).toMatchObject({
      waitTimeSeconds: 1,
      stopWhenEmpty: true,
    });
    expect(resolve({ untilEmpty: true, waitTime: 0 }, {}).runtime.waitTimeSeconds).toBe(0);
  });
});

describe("refusals name the flag or variable and the fix", () => {
  it("no queue URL and no outputs", () => {
    expect(() => resolve({}, {}, "none")).toThrow(ConfigurationError);
    expect(() => resolve({}, {}, "none")).toThrow(/--queue-url \(SQS_QUEUE_URL\)/);
  });

  it("a queue URL that is not one", () => {
    expect(() => resolve({}, { SQS_QUEUE_URL: "nope" })).toThrow(
      /SQS_QUEUE_URL \/ --queue-url "nope" is not a URL/,
    );
  });

  it("a batching window on a FIFO queue", () => {
    expect(() => resolve({ queueUrl: `${queueUrl}.fifo`, batchingWindow: 100 }, {})).toThrow(
      /--batching-window is not for FIFO queues.*Drop the flag/,
    );
  });

  it("a bounce queue over plain HTTP off this machine", () => {
    expect(() => resolve({ queueUrl }, { BOUNCE_QUEUE_URL: "http://sqs.example.com/1/q" }, "none")).toThrow(
      /http/i,
    );
  });
});
