import { CreateQueueCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/local/emulator.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { countRequests, onRequest, totalRequests } from "../../src/sqs/request-counter.js";

describe("request counter", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.stop());

  it("feeds every listener from one middleware, by operation and outcome", async () => {
    const client = createSqsClient({ endpoint: emulator.endpoint }, { maxAttempts: 1 });
    const counts = countRequests(client);
    const outcomes: string[] = [];
    onRequest(client, (operation, outcome) => outcomes.push(`${operation}:${outcome}`));
    const again = countRequests(client);
    try {
      await client.send(new CreateQueueCommand({ QueueName: "counted" }));
      await client.send(new GetQueueUrlCommand({ QueueName: "absent" })).catch(() => undefined);
      expect(counts).toEqual({ CreateQueue: 1, GetQueueUrl: 1 });
      expect(again).toEqual(counts);
      expect(totalRequests(counts)).toBe(2);
      expect(outcomes).toEqual([
        "CreateQueue:ok",
        expect.stringMatching(/^GetQueueUrl:.*NonExistentQueue|^GetQueueUrl:QueueDoesNotExist/),
      ]);
      const installed = client.middlewareStack.identify().filter((m) => m.startsWith("countSqsRequests"));
      expect(installed).toHaveLength(1);
    } finally {
      client.destroy();
    }
  });
});
