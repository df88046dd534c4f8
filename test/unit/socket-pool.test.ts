/**
 * The SQS client's socket pool follows the consumer's pollers: never the limit, and no larger
 * at 10,000 than at 1,000, since the pollers stop at POLLERS_MAX.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import {
  BATCHERS,
  consumerSocketPool,
  maxPollersFor,
  POLLERS_MAX,
} from "../../src/consumer/runtime/options.js";
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

  it("pollers grow with the concurrency up to POLLERS_MAX, and no further", () => {
    expect(maxPollersFor(1)).toBe(1);
    expect(maxPollersFor(100)).toBe(10);
    expect(maxPollersFor(1_000)).toBe(POLLERS_MAX);
    expect(maxPollersFor(10_000)).toBe(POLLERS_MAX);
    expect(consumerSocketPool(10_000)).toBe(consumerSocketPool(1_000));
  });

  it("runtime.md states the pollers and sockets at concurrency 1,000 that the code sizes", () => {
    const page = readFileSync(join(projectRoot, "docs", "runtime.md"), "utf8").replace(/\s+/g, " ");
    const stated = /At concurrency 1,000 that is (\d+) pollers and (\d+) sockets/.exec(page);
    expect(stated, "runtime.md: 'At concurrency 1,000 that is N pollers and M sockets'").not.toBeNull();
    expect(Number(stated?.[1])).toBe(maxPollersFor(1_000));
    expect(Number(stated?.[2])).toBe(consumerSocketPool(1_000));
  });

  it.each(["runtime.md", "fleet-sizing.md"])("%s states POLLERS_MAX's value", (name) => {
    const page = readFileSync(join(projectRoot, "docs", name), "utf8").replace(/\s+/g, " ");
    const cap = /at most (\d+) pollers \(`POLLERS_MAX`\)/.exec(page);
    expect(cap, `${name}: 'at most N pollers (\`POLLERS_MAX\`)'`).not.toBeNull();
    expect(Number(cap?.[1])).toBe(POLLERS_MAX);
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
