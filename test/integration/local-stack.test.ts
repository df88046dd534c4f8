import { existsSync } from "node:fs";
import { mkdtemp, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  deadLetterQueueAttributes,
  defaultQueueSettings,
  mainQueueAttributes,
} from "../../src/config/queue-settings.js";
import { settings } from "../../src/config/settings.js";
import { dynamoDbDataDir } from "../../src/local/dynamodb.js";
import { provisionQueues } from "../../src/local/provision.js";
import { startLocalStack } from "../../src/local/stack.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { startCli } from "../support/cli.js";
import { startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("local stack", () => {
  let sqs: TestSqs;
  beforeAll(async () => {
    sqs = await startTestSqs();
  });
  afterAll(() => sqs.close());

  it("listens on 127.0.0.1 only", async () => {
    const port = sqs.stack.emulator.port;
    expect(await canConnect("127.0.0.1", port)).toBe(true);
    const external = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address && !address.internal && address.family === "IPv4");
    if (external.length === 0) console.warn("no non-loopback IPv4 interface here: only loopback was checked");
    for (const address of external) {
      expect(await canConnect(address?.address ?? "", port), `reachable on ${address?.address}`).toBe(false);
    }
  });

  it("hands out queue URLs that the SDK uses as they are", async () => {
    expect(sqs.queueUrl).toBe(`${sqs.endpoint}/000000000000/${defaultQueueSettings.queueName}`);
    // No endpoint configured: the SDK sends to the queue URL's host.
    const plain = new SQSClient({
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    await plain.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "ping" }));
    const { Messages = [] } = await plain.send(new ReceiveMessageCommand({ QueueUrl: sqs.queueUrl }));
    expect(Messages.map((m) => m.Body)).toEqual(["ping"]);
    plain.destroy();
  });

  it("creates both queues with exactly the settings module's attributes", async () => {
    const read = async (url: string) =>
      (await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] })))
        .Attributes ?? {};
    const main = await read(sqs.queueUrl);
    const dlq = await read(sqs.deadLetterQueueUrl);
    expect(main).toMatchObject(
      mainQueueAttributes(defaultQueueSettings, sqs.stack.outputs.deadLetterQueueArn),
    );
    expect(dlq).toMatchObject(deadLetterQueueAttributes(defaultQueueSettings, sqs.stack.outputs.queueArn));
  });

  it("creates a FIFO pair with the FIFO attributes both programs declare (deduplication scope too)", async () => {
    const fifo = {
      ...defaultQueueSettings,
      fifo: true,
      contentBasedDeduplication: true,
      deduplicationScope: "messageGroup" as const,
      queueName: "local-stack-fifo.fifo",
      deadLetterQueueName: "local-stack-fifo-dlq.fifo",
    };
    const pair = await provisionQueues(sqs.client, fifo);
    for (const url of [pair.queue.url, pair.deadLetterQueue.url]) {
      const { Attributes = {} } = await sqs.client.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
      );
      expect(Attributes, url).toMatchObject({
        FifoQueue: "true",
        ContentBasedDeduplication: "true",
        DeduplicationScope: fifo.deduplicationScope,
      });
    }
  });

  it("removes an attribute set to an empty string, as real SQS does", async () => {
    const { SetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
    const read = async () =>
      (
        await sqs.client.send(
          new GetQueueAttributesCommand({ QueueUrl: sqs.deadLetterQueueUrl, AttributeNames: ["All"] }),
        )
      ).Attributes ?? {};
    expect(await read()).toHaveProperty("RedriveAllowPolicy");
    await sqs.client.send(
      new SetQueueAttributesCommand({
        QueueUrl: sqs.deadLetterQueueUrl,
        Attributes: { RedriveAllowPolicy: "", Policy: "" },
      }),
    );
    const after = await read();
    expect(after).not.toHaveProperty("RedriveAllowPolicy");
    expect(after).not.toHaveProperty("Policy");
    expect(after.MessageRetentionPeriod).toBe(String(defaultQueueSettings.deadLetterRetentionSeconds));
    await provisionQueues(sqs.client, defaultQueueSettings); // put the allow policy back
  });

  it("provisions idempotently and updates only what changed", async () => {
    const again = await provisionQueues(sqs.client, defaultQueueSettings);
    expect([again.queue.change, again.deadLetterQueue.change]).toEqual(["unchanged", "unchanged"]);
    expect(again.queue.url).toBe(sqs.queueUrl);

    const changed = await provisionQueues(sqs.client, { ...defaultQueueSettings, maxReceiveCount: 7 });
    expect(changed.queue).toMatchObject({ change: "updated", updatedAttributes: ["RedrivePolicy"] });
    expect(changed.deadLetterQueue.change).toBe("unchanged");
    await provisionQueues(sqs.client, defaultQueueSettings);
  });
});

describe("durable local state", () => {
  it("keeps queues and messages across a restart", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "sqs-data-"));
    const first = await startLocalStack({ port: 0, dataDir });
    const client = createSqsClient(first.outputs);
    await client.send(new SendMessageCommand({ QueueUrl: first.outputs.queueUrl, MessageBody: "kept" }));
    client.destroy();
    await first.stop();

    const second = await startLocalStack({ port: 0, dataDir });
    expect(second.provisioned.queue.change).toBe("unchanged");
    const again = createSqsClient(second.outputs);
    const { Messages = [] } = await again.send(
      new ReceiveMessageCommand({ QueueUrl: second.outputs.queueUrl }),
    );
    expect(Messages.map((m) => m.Body)).toEqual(["kept"]);
    again.destroy();
    await second.stop();
  });
});

describe("npm run local", () => {
  it("provisions, writes the outputs, stays up until Ctrl-C, then stops cleanly; a second run changes nothing", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "local-cli-"));
    for (const expected of ["created", "unchanged"]) {
      const child = startCli("local", ["--port", "0", "--state-dir", stateDir]);
      let stdout = "";
      child.stdout?.on("data", (chunk) => {
        stdout += chunk;
      });
      await waitFor(() => stdout.includes("Press Ctrl-C"), "the local stack to start");
      expect(stdout).toMatch(new RegExp(`${expected} +user-registrations\n`));
      expect(stdout).toContain("127.0.0.1 only");
      const outputs = JSON.parse(await readFile(join(stateDir, "outputs.json"), "utf8"));
      expect(outputs.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(outputs.queueUrl).toBe(`${outputs.endpoint}/000000000000/user-registrations`);
      expect(outputs.deadLetterQueueUrl.startsWith(outputs.endpoint)).toBe(true);
      // The shared sent-email store: dynalite on loopback, the table named from the settings data.
      expect(outputs.sentEmailsTableName).toBe(settings.table.sentEmailsTableName);
      expect(outputs.dynamoDbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(existsSync(dynamoDbDataDir(stateDir))).toBe(true);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(stdout).toContain("Local SQS and DynamoDB stopped");
    }
  });
});
