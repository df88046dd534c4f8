import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GetQueueUrlCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { describe, expect, it, vi } from "vitest";
import { createSqsClient, longPollWaitMs, md5Needed } from "../../src/sqs/client.js";

describe("SQS client factory", () => {
  it("checks MD5 digests only where nothing else guards the bytes", () => {
    expect(md5Needed(undefined)).toBe(false); // AWS over HTTPS
    expect(md5Needed("https://sqs.eu-west-1.amazonaws.com")).toBe(false);
    expect(md5Needed("http://127.0.0.1:4566")).toBe(false);
    expect(md5Needed("http://localhost:4566")).toBe(false);
    expect(md5Needed("http://sqs.internal.example:9324")).toBe(true);
  });

  it("gives the emulator dummy credentials and keeps real AWS on the default chain", async () => {
    const local = createSqsClient({ endpoint: "http://127.0.0.1:4566" });
    expect(await local.config.credentials()).toMatchObject({ accessKeyId: "local" });
    expect(local.config.md5).toBe(false);
    const aws = createSqsClient({ region: "eu-west-1" }, { verifyMd5: true });
    expect(aws.config.md5).not.toBe(false);
    expect(await aws.config.region()).toBe("eu-west-1");
    local.destroy();
    aws.destroy();
  });
});

describe("SQS client request timeout", () => {
  it("fails a request the server accepted and never answers, after requestTimeoutMs", async () => {
    // A server that reads the request and never replies: a dead connection, as a black hole.
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = createSqsClient(
      { endpoint: `http://127.0.0.1:${port}` },
      { maxAttempts: 1, requestTimeoutMs: 200 },
    );
    try {
      const started = performance.now();
      await expect(client.send(new GetQueueUrlCommand({ QueueName: "silent" }))).rejects.toMatchObject({
        name: "TimeoutError",
      });
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      client.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("SQS client bounded for commands a person waits on (answerTimeoutMs)", () => {
  it("gives each request its own long poll plus the answer time, and retries once", async () => {
    const server = createServer(() => {});
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const client = createSqsClient({ endpoint: `http://127.0.0.1:${port}` }, { answerTimeoutMs: 150 });
    const spy = vi.spyOn(NodeHttpHandler.prototype, "handle");
    try {
      const queueUrl = `http://127.0.0.1:${port}/000000000000/q`;
      await expect(client.send(new GetQueueUrlCommand({ QueueName: "silent" }))).rejects.toMatchObject({
        code: "ETIMEDOUT",
      });
      await expect(
        client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 })),
      ).rejects.toMatchObject({ code: "ETIMEDOUT" });
      const seen = spy.mock.calls.map(([, options]) => options?.requestTimeout);
      // Two attempts each: 150 ms for GetQueueUrl, 1 s of long poll + 150 ms for the receive.
      expect(seen).toEqual([150, 150, 1_150, 1_150]);
    } finally {
      spy.mockRestore();
      client.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("reads a receive's wait from its body; a receive naming none may wait the queue's 20 s", () => {
    const request = (target: string, body: unknown) =>
      ({ headers: { "x-amz-target": target }, body: JSON.stringify(body) }) as never;
    expect(longPollWaitMs(request("AmazonSQS.ReceiveMessage", { WaitTimeSeconds: 7 }))).toBe(7_000);
    expect(longPollWaitMs(request("AmazonSQS.ReceiveMessage", {}))).toBe(20_000);
    expect(longPollWaitMs(request("AmazonSQS.SendMessage", { WaitTimeSeconds: 7 }))).toBe(0);
  });
});
