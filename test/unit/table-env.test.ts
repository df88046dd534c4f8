/**
 * An ECS task of the fleet finds its queue by SQS_QUEUE_URL, so it has no stack outputs
 * to name the shared sent-email table or the bounce queue: the task definition sets
 * SENT_EMAILS_TABLE_NAME (and BOUNCE_QUEUE_URL with the mail part).
 */
import { describe, expect, it } from "vitest";
import { containerDefinitions } from "../../infra-pulumi/service/container.js";
import { CONSUMER_SETTINGS } from "../../src/cli/consume-flags.js";
import { readEnvironment } from "../../src/config/env.js";
import { chooseStore } from "../../src/consumer/registrations.js";
import { resolveConsumerConfig } from "../../src/stack/consumer-config.js";
import type { StackOutputs } from "../../src/stack/outputs.js";

/** The environment the fleet's task definition gives the consumer (ses mailer, no mail part). */
const [container = {}] = containerDefinitions({
  image: "x",
  region: "eu-west-1",
  queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations",
  tableName: "user-registrations-sent-emails",
  logGroupName: "/ecs/consumer",
  mailer: "ses",
  mailFrom: "a@example.com",
  mailRatePerSecond: 2,
  healthCheckPort: 9090,
  stopTimeoutSeconds: 120,
  digestKeySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k",
});
const taskEnv: Record<string, string> = Object.fromEntries(
  (container.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
);

describe("SENT_EMAILS_TABLE_NAME", () => {
  it("is what the task sets, and the consumer's environment reads it", () => {
    const env = readEnvironment(taskEnv);
    expect(env.SENT_EMAILS_TABLE_NAME).toBe("user-registrations-sent-emails");
    expect(env.SENT_EMAIL_STORE).toBe("dynamodb");
    expect(env.MAILER).toBe("ses");
    expect(
      chooseStore({
        kind: env.SENT_EMAIL_STORE,
        sentEmailsTableName: env.SENT_EMAILS_TABLE_NAME,
        stateDir: "/tmp/x",
      }),
    ).toMatchObject({ kind: "dynamodb", tableName: "user-registrations-sent-emails" });
  });

  it("is refused when it is not a DynamoDB table name, naming the variable", () => {
    expect(() => readEnvironment({ SENT_EMAILS_TABLE_NAME: "a b" })).toThrow(/SENT_EMAILS_TABLE_NAME=/);
  });
});

/**
 * With the ses mailer and the stack's mail part, the task definition also names the bounce queue
 * (BOUNCE_QUEUE_URL): the consume CLI's location then has it, and the bounce handler runs.
 */
describe("BOUNCE_QUEUE_URL", () => {
  const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations";
  const bounceQueueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations-ses-events";
  const [container = {}] = containerDefinitions({
    image: "x",
    region: "eu-west-1",
    queueUrl,
    tableName: "user-registrations-sent-emails",
    logGroupName: "/ecs/consumer",
    mailer: "ses",
    mailFrom: "a@example.com",
    mailRatePerSecond: 2,
    healthCheckPort: 9090,
    stopTimeoutSeconds: 120,
    digestKeySecretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:k",
    sesConfigurationSet: "user-registrations-welcome",
    bounceQueueUrl,
  });
  const taskEnv = Object.fromEntries(
    (container.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
  );

  it("is what the task sets, and reaches the consume CLI's location beside the table", () => {
    const env = readEnvironment(taskEnv);
    expect(env.BOUNCE_QUEUE_URL).toBe(bounceQueueUrl);
    expect(env.SES_CONFIGURATION_SET).toBe("user-registrations-welcome");
    const config = resolveConsumerConfig({}, env, undefined, CONSUMER_SETTINGS);
    expect(config.queue).toMatchObject({ queueUrl, source: "queue-url", bounceQueueUrl });
    expect(config.store.tableName).toBe("user-registrations-sent-emails");
  });

  it("gives way to the stack outputs, and is absent when neither names one", () => {
    const outputs: StackOutputs = {
      queueUrl,
      queueArn: "arn:aws:sqs:eu-west-1:123456789012:user-registrations",
      deadLetterQueueUrl: `${queueUrl}-dlq`,
      deadLetterQueueArn: "arn:aws:sqs:eu-west-1:123456789012:user-registrations-dlq",
      region: "eu-west-1",
      bounceQueueUrl: `${bounceQueueUrl}-2`,
    };
    const fromOutputs = resolveConsumerConfig(
      {},
      { BOUNCE_QUEUE_URL: bounceQueueUrl },
      outputs,
      CONSUMER_SETTINGS,
    );
    expect(fromOutputs.queue.bounceQueueUrl).toBe(`${bounceQueueUrl}-2`);
    expect(resolveConsumerConfig({ queueUrl }, {}, undefined, CONSUMER_SETTINGS).queue).not.toHaveProperty(
      "bounceQueueUrl",
    );
  });

  it("is refused when it is not a URL, naming the variable; plain HTTP off loopback too", () => {
    expect(() => readEnvironment({ BOUNCE_QUEUE_URL: "user-registrations-ses-events" })).toThrow(
      /BOUNCE_QUEUE_URL=/,
    );
    expect(() =>
      resolveConsumerConfig(
        { queueUrl },
        { BOUNCE_QUEUE_URL: "http://sqs.example.com/1/q" },
        undefined,
        CONSUMER_SETTINGS,
      ),
    ).toThrow();
  });
});

/**
 * The fleet's alarms read the consumer's own EMF metrics (src/observability/emf.ts): the task
 * definition turns them on with METRICS_EMF=1, which the consume CLI reads as --metrics-emf.
 */
describe("METRICS_EMF", () => {
  it("is set by the task and read as on; 0 or unset is off", () => {
    expect(taskEnv.METRICS_EMF).toBe("1");
    expect(readEnvironment(taskEnv).METRICS_EMF).toBe(true);
    expect(readEnvironment({ METRICS_EMF: "0" }).METRICS_EMF).toBe(false);
    expect(readEnvironment({}).METRICS_EMF).toBeUndefined();
  });

  it("is refused when it is neither 0 nor 1, naming the variable", () => {
    expect(() => readEnvironment({ METRICS_EMF: "yes" })).toThrow(/METRICS_EMF="yes" is invalid/);
  });
});
