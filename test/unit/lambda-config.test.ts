/** The function's environment: the names the infrastructure sets, each missing one named. */
import { describe, expect, it } from "vitest";
import { readEnvironment } from "../../src/config/env.js";
import { lambdaConfig } from "../../src/lambda/config.js";
import { readSecret } from "../../src/lambda/secrets.js";
import { deadLetterQueueUrlFromPolicy } from "../../src/sqs/queue-pair.js";

const DIGEST_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:digest-key-AbCdEf";
const SMTP_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:smtp-url-AbCdEf";
const base = {
  SQS_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/123456789012/user-registrations",
  SENT_EMAIL_STORE: "dynamodb",
  SENT_EMAILS_TABLE_NAME: "user-registrations-sent-emails",
  MAILER: "ses",
  MAIL_FROM: "Cadastro <no-reply@example.com>",
  MAIL_RATE_PER_SECOND: "1.4",
  REGISTRATION_DIGEST_KEY_SECRET_ARN: DIGEST_ARN,
  LOG_LEVEL: "info",
  METRICS_EMF: "1",
};

describe("the Lambda function's configuration", () => {
  it("reads the variables the stack sets, the secrets by ARN", () => {
    expect(lambdaConfig(readEnvironment(base))).toMatchObject({
      queueUrl: base.SQS_QUEUE_URL,
      tableName: base.SENT_EMAILS_TABLE_NAME,
      mail: { kind: "ses", ratePerSecond: 1.4 },
      digestKey: { secretArn: DIGEST_ARN },
      metricsEmf: true,
    });
    const smtp = lambdaConfig(readEnvironment({ ...base, MAILER: "smtp", SMTP_URL_SECRET_ARN: SMTP_ARN }));
    expect(smtp.smtpUrl).toEqual({ secretArn: SMTP_ARN });
  });

  it("names what is missing or refused", () => {
    const without = (name: keyof typeof base) => {
      const env: Record<string, string> = { ...base };
      delete env[name];
      return () => lambdaConfig(readEnvironment(env));
    };
    expect(without("SQS_QUEUE_URL")).toThrow(/SQS_QUEUE_URL/);
    expect(without("SENT_EMAILS_TABLE_NAME")).toThrow(/SENT_EMAILS_TABLE_NAME/);
    expect(without("MAIL_RATE_PER_SECOND")).toThrow(/MAIL_RATE_PER_SECOND/);
    expect(without("REGISTRATION_DIGEST_KEY_SECRET_ARN")).toThrow(/REGISTRATION_DIGEST_KEY_SECRET_ARN/);
    expect(() => lambdaConfig(readEnvironment({ ...base, MAILER: "smtp" }))).toThrow(/SMTP_URL_SECRET_ARN/);
    expect(() => lambdaConfig(readEnvironment({ ...base, SENT_EMAIL_STORE: "sqlite" }))).toThrow(
      /DynamoDB only/,
    );
    expect(() => readEnvironment({ ...base, REGISTRATION_DIGEST_KEY_SECRET_ARN: "digest-key" })).toThrow(
      /REGISTRATION_DIGEST_KEY_SECRET_ARN.*Secrets Manager secret ARN/,
    );
  });

  it("reads a secret's string once asked; a refusal names the variable and the grant", async () => {
    const asked: unknown[] = [];
    const ok = {
      send: async (command: { input: unknown }) => {
        asked.push(command.input);
        return { SecretString: " k \n" };
      },
    };
    expect(await readSecret(ok as never, DIGEST_ARN, "REGISTRATION_DIGEST_KEY_SECRET_ARN")).toBe("k");
    expect(asked).toEqual([{ SecretId: DIGEST_ARN }]);
    const denied = {
      send: async () => {
        throw Object.assign(new Error("denied"), { name: "AccessDeniedException" });
      },
    };
    await expect(
      readSecret(denied as never, DIGEST_ARN, "REGISTRATION_DIGEST_KEY_SECRET_ARN"),
    ).rejects.toThrow(
      /REGISTRATION_DIGEST_KEY_SECRET_ARN.*AccessDeniedException.*secretsmanager:GetSecretValue/,
    );
  });

  it("finds the dead-letter queue from the RedrivePolicy alone (no sqs:GetQueueUrl)", () => {
    const policy = JSON.stringify({
      deadLetterTargetArn: "arn:aws:sqs:us-east-1:123456789012:user-registrations-dlq",
      maxReceiveCount: 5,
    });
    const hint = { fix: "Give it one." };
    expect(deadLetterQueueUrlFromPolicy(base.SQS_QUEUE_URL, policy, hint)).toBe(
      "https://sqs.us-east-1.amazonaws.com/123456789012/user-registrations-dlq",
    );
    expect(deadLetterQueueUrlFromPolicy("http://127.0.0.1:4566/000000000000/q", policy, hint)).toBe(
      "http://127.0.0.1:4566/123456789012/user-registrations-dlq",
    );
    expect(() => deadLetterQueueUrlFromPolicy(base.SQS_QUEUE_URL, undefined, hint)).toThrow(
      /no dead-letter queue.*Give it one/,
    );
  });
});
