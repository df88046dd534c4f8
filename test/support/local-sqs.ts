/**
 * A real fauxqs on 127.0.0.1, port 0, with the queue pair from the settings module (optionally
 * overridden). Test endpoints and credentials live here and nowhere else.
 */
import {
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { defaultQueueSettings, type QueueSettings } from "../../src/config/queue-settings.js";
import { type LocalStack, startLocalStack } from "../../src/local/stack.js";
import { createSqsClient } from "../../src/sqs/client.js";

export interface TestSqs {
  readonly stack: LocalStack;
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startTestSqs(
  settings: Partial<QueueSettings> = {},
  options: { dataDir?: string; port?: number; dynamoDb?: boolean } = {},
): Promise<TestSqs> {
  const stack = await startLocalStack({
    port: options.port ?? 0,
    ...(options.dynamoDb ? { dynamoDb: true as const } : {}),
    settings: { ...defaultQueueSettings, ...settings },
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
  });
  const client = createSqsClient(stack.outputs);
  return {
    stack,
    client,
    queueUrl: stack.outputs.queueUrl,
    deadLetterQueueUrl: stack.outputs.deadLetterQueueUrl,
    endpoint: stack.emulator.endpoint,
    async close() {
      client.destroy();
      await stack.stop();
    },
  };
}

/** Receives (and keeps invisible) every message that is visible now. */
export async function receiveAll(client: SQSClient, queueUrl: string): Promise<Message[]> {
  const all: Message[] = [];
  for (;;) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 600,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) return all;
    all.push(...Messages);
  }
}

/** Visible + in flight + delayed, as SQS reports it. */
export async function queueDepth(client: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes = {} } = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed)
  );
}

export async function purge(client: SQSClient, ...queueUrls: string[]): Promise<void> {
  for (const QueueUrl of queueUrls) await client.send(new PurgeQueueCommand({ QueueUrl }));
}

/**
 * Polls `condition` until it holds; fails with `what` after `timeoutMs`. The default is generous:
 * it only catches a condition that never comes, and a loaded machine is slow, not wrong.
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
