/**
 * The function's entry point (`index.handler` in the bundle npm run build:lambda writes): an SQS
 * event in, the records to retry out (the event source mapping has ReportBatchItemFailures).
 * Everything that outlives an invocation is opened once per container, on the first event: the
 * configuration, the two secrets, the clients, the registration handler (src/lambda/runtime.ts).
 * A failure there is the invocation's error: the whole batch comes back after the queue's
 * visibility timeout, and the next invocation tries again.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { readEnvironment } from "../config/env.js";
import { createMailer } from "../consumer/mail/index.js";
import { DynamoDbSuppressionList } from "../consumer/mail/suppression-dynamodb.js";
import { DynamoDbSentEmailStore } from "../consumer/store/dynamodb.js";
import { createDynamoDbClient } from "../consumer/store/dynamodb-client.js";
import { storeTiming } from "../consumer/store/timing.js";
import { DigestKey } from "../contract/digest.js";
import { createLogger } from "../log/logger.js";
import { createSqsClient } from "../sqs/client.js";
import { lambdaConfig } from "./config.js";
import { type LambdaRuntime, startLambdaRuntime } from "./runtime.js";
import { readSecret } from "./secrets.js";

let container: Promise<LambdaRuntime> | undefined;

async function openContainer(): Promise<LambdaRuntime> {
  const config = lambdaConfig(readEnvironment());
  const logger = createLogger({ level: config.logLevel, pretty: false, name: "sqs-messaging-lambda" });
  const secrets = new SecretsManagerClient({});
  const [digestSecret, smtpUrl] = await Promise.all([
    "value" in config.digestKey
      ? config.digestKey.value
      : readSecret(secrets, config.digestKey.secretArn, "REGISTRATION_DIGEST_KEY_SECRET_ARN"),
    config.smtpUrl === undefined || "value" in config.smtpUrl
      ? config.smtpUrl?.value
      : readSecret(secrets, config.smtpUrl.secretArn, "SMTP_URL_SECRET_ARN"),
  ]).finally(() => secrets.destroy());
  // Region and credentials: Lambda's own (AWS_REGION and the role), through the SDK's defaults.
  const client = createSqsClient({}, { maxAttempts: 3 });
  const tables = createDynamoDbClient({});
  const { sendTimeoutMs } = config.mail;
  const mailer = createMailer({
    kind: config.mail.kind,
    smtpUrl,
    sesConfigurationSet: config.mail.sesConfigurationSet,
    from: config.mail.from,
    sendTimeoutMs,
    ratePerSecond: config.mail.ratePerSecond,
    outboxDir: "",
    queue: { queueUrl: config.queueUrl },
    logger,
  });
  return startLambdaRuntime({
    client,
    queueUrl: config.queueUrl,
    // No table check at start: a store that is down is then the first record's environment fault
    // (a growing visibility), not the invocation's error (the whole batch at the visibility timeout).
    store: new DynamoDbSentEmailStore({
      client: tables,
      table: { tableName: config.tableName },
      timing: storeTiming(sendTimeoutMs),
    }),
    suppression: new DynamoDbSuppressionList({ client: tables, tableName: config.tableName }),
    mailer,
    digestKey: new DigestKey(digestSecret),
    sendTimeoutMs,
    emfStream: config.metricsEmf ? process.stdout : undefined,
    logger,
  });
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  // The event source mapping never sends an empty batch; a test invocation may.
  if (event.Records.length === 0) return { batchItemFailures: [] };
  container ??= openContainer().catch((error: unknown) => {
    container = undefined;
    throw error;
  });
  const runtime = await container;
  return runtime.handle(event, () => context.getRemainingTimeInMillis());
}
