import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { createSqsClient, md5Needed } from "../../src/sqs/client.js";

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
