/**
 * An ECS task of the fleet (issue 14) finds its queue by SQS_QUEUE_URL, so it has no stack outputs
 * to name the shared sent-email table: the task definition sets SENT_EMAILS_TABLE_NAME.
 */
import { describe, expect, it } from "vitest";
import { containerDefinitions } from "../../infra-pulumi/service/container.js";
import { readEnvironment } from "../../src/config/env.js";
import { chooseStore } from "../../src/consumer/registrations.js";

describe("SENT_EMAILS_TABLE_NAME", () => {
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
  const taskEnv = Object.fromEntries(
    (container.environment as { name: string; value: string }[]).map((e) => [e.name, e.value]),
  );

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
