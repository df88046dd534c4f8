/** The SQS client's socket pool follows the consumer's work: never the limit, even at 10,000. */
import { describe, expect, it } from "vitest";
import { BATCHERS, consumerSocketPool, maxPollersFor } from "../../src/consumer/runtime/options.js";
import { createSqsClient, SOCKETS_PER_BATCHER, socketPoolSize } from "../../src/sqs/client.js";

describe("socket pool", () => {
  it.each([1, 20, 100, 1_000, 10_000])(
    "at concurrency %i holds every poller's long poll and the batchers' peaks",
    (concurrency) => {
      const pollers = maxPollersFor(concurrency);
      const size = consumerSocketPool(concurrency);
      expect(size).toBeGreaterThanOrEqual(pollers + BATCHERS * SOCKETS_PER_BATCHER);
      expect(size).toBe(socketPoolSize({ pollers, batchers: BATCHERS }));
    },
  );

  it("at concurrency 1000: 100 pollers, and the pool is larger than the old fixed 64", () => {
    expect(maxPollersFor(1_000)).toBe(100);
    expect(consumerSocketPool(1_000)).toBeGreaterThanOrEqual(100 + BATCHERS);
    expect(consumerSocketPool(1_000)).toBeGreaterThan(64);
  });

  it("the client's agent gets that size", async () => {
    const client = createSqsClient(
      { endpoint: "https://sqs.example.test" },
      { maxSockets: consumerSocketPool(1_000) },
    );
    // @smithy/node-http-handler keeps its resolved options behind configProvider (not public API).
    const handler = client.config.requestHandler as unknown as {
      configProvider: Promise<{ httpsAgent: { maxSockets: number } }>;
    };
    expect((await handler.configProvider).httpsAgent.maxSockets).toBe(consumerSocketPool(1_000));
    client.destroy();
  });
});
