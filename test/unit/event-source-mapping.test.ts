/**
 * The local event source mapping refuses what AWS refuses for the mapping: a batching window on a
 * FIFO queue (MaximumBatchingWindowInSeconds is not accepted for FIFO event sources).
 */
import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../../src/errors.js";
import { EventSourceMapping } from "../../src/local/event-source-mapping.js";
import { stubSqs } from "../support/stub-sqs.js";

function mappingOn(fifo: boolean, batchingWindowMs: number) {
  const name = fifo ? "registrations.fifo" : "registrations";
  const sqs = stubSqs({
    GetQueueAttributes: () => ({
      Attributes: {
        QueueArn: `arn:aws:sqs:us-east-1:123456789012:${name}`,
        ...(fifo ? { FifoQueue: "true" } : {}),
      },
    }),
    ReceiveMessage: () => ({}),
  });
  const mapping = new EventSourceMapping({
    client: sqs.client,
    queueUrl: `https://sqs.us-east-1.amazonaws.com/123456789012/${name}`,
    batchingWindowMs,
    waitTimeSeconds: 0,
    stopWhenEmpty: true,
    openContainer: async () => ({ handle: async () => ({ batchItemFailures: [] }) }),
  });
  return { mapping, sqs };
}

describe("the local event source mapping", () => {
  it("refuses a FIFO queue with a batching window, in one line naming the problem and the fix", async () => {
    const { mapping, sqs } = mappingOn(true, 100);
    const refused = mapping.start();
    await expect(refused).rejects.toBeInstanceOf(ConfigurationError);
    await expect(refused).rejects.toThrow(
      /^the event source mapping of FIFO queue registrations\.fifo has a batching window of 100 ms, .*FIFO event sources.*: set the batching window to 0$/,
    );
    expect(sqs.named("ReceiveMessage")).toHaveLength(0);
  });

  it("takes a FIFO queue without a window, and a standard queue with one", async () => {
    for (const [fifo, windowMs] of [
      [true, 0],
      [false, 100],
    ] as const) {
      const { mapping, sqs } = mappingOn(fifo, windowMs);
      await mapping.start();
      await mapping.finished;
      expect(sqs.named("ReceiveMessage").length).toBeGreaterThan(0);
    }
  });
});
