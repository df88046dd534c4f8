/**
 * The consumer runtime's core on a queue in memory and vitest's fake timers: receives counted at
 * each load, the adaptive pollers, delete batching, the batching window, the heartbeat. No real
 * waits: minutes of queue time run in milliseconds.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import type { ConsumerOptions, HandlerContext } from "../../src/consumer/runtime/types.js";
import { fakeQueue } from "../support/fake-queue.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

type Queue = ReturnType<typeof fakeQueue>;

function consumerOn(queue: Queue, options: Partial<ConsumerOptions> = {}): Consumer {
  return new Consumer({
    client: queue.client,
    queueUrl: queue.queueUrl,
    deadLetterQueueUrl: "https://sqs.test/000000000000/dlq",
    queueAttributes: queue.attributes,
    handler: async () => {},
    ...options,
  });
}

/** Stops on the fake clock: the long poll under way gets its grace, then is cut off. */
async function stop(consumer: Consumer) {
  const stopped = consumer.stop();
  await vi.advanceTimersByTimeAsync(2_000);
  return stopped;
}

/** Produces `perSecond` messages a second for `seconds`, one at a time, on the fake clock. */
async function trickle(queue: Queue, perSecond: number, seconds: number): Promise<number> {
  const gap = 1000 / perSecond;
  const count = Math.round(perSecond * seconds);
  for (let i = 0; i < count; i++) {
    queue.push(1);
    await vi.advanceTimersByTimeAsync(gap);
  }
  return count;
}

describe("consumer runtime: the handler's context", () => {
  it("gives no deadline: a send is bounded by its lease and the shutdown's abort, not by a run's end", async () => {
    const queue = fakeQueue();
    const contexts: HandlerContext[] = [];
    const consumer = consumerOn(queue, {
      handler: async (_message, context) => {
        contexts.push(context);
      },
    });
    queue.push(1);
    await consumer.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(contexts).toHaveLength(1);
    expect(contexts[0]?.deadline).toBeUndefined();
    await stop(consumer);
  });
});

describe("consumer runtime: receives by load", () => {
  it("idle: one poller, 20 s long polls, at most 3 receives a minute", async () => {
    const queue = fakeQueue();
    const consumer = consumerOn(queue, { concurrency: 1000 });
    await consumer.start();
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    const receives = queue.named("ReceiveMessage").length;
    expect(consumer.pollers).toBe(1);
    expect(receives).toBeLessThanOrEqual(31); // 10 minutes × 3, plus the one under way
    await stop(consumer);
  });

  it("backlog: pollers grow as batches fill, up to concurrency / 10, and shrink back when it is gone", async () => {
    const queue = fakeQueue();
    let most = 0;
    const consumer = consumerOn(queue, {
      concurrency: 100,
      handler: async () => {
        most = Math.max(most, consumer.pollers);
        await new Promise((resolve) => setTimeout(resolve, 5));
      },
    });
    queue.push(2_000);
    await consumer.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(queue.deleted).toHaveLength(2_000);
    expect(most).toBe(10);
    // Empty receives from here on: one poller left, with hysteresis (3 small receives per step).
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(consumer.pollers).toBe(1);
    // Full batches: about one receive and one delete request per 10 messages.
    expect(queue.named("DeleteMessageBatch").length).toBeLessThanOrEqual(2_000 / 10 + 10);
    await stop(consumer);
  });

  it("trickle (20 msg/s): one receive per message, deletes ten at a time", async () => {
    const queue = fakeQueue();
    const consumer = consumerOn(queue, { concurrency: 100 });
    await consumer.start();
    const count = await trickle(queue, 20, 30);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(queue.deleted).toHaveLength(count);
    expect(consumer.pollers).toBe(1);
    const receives = queue.named("ReceiveMessage").length;
    const deletes = queue.named("DeleteMessageBatch").length;
    expect(receives).toBeLessThanOrEqual(count + 2);
    expect(deletes).toBeLessThanOrEqual(Math.ceil(count / 10) + 1);
    expect((receives + deletes) / count).toBeLessThanOrEqual(1.15);
    await stop(consumer);
  });
});

describe("consumer runtime: deletes", () => {
  it("a lone delete waits for company up to 1 s", async () => {
    const queue = fakeQueue();
    const consumer = consumerOn(queue);
    await consumer.start();
    queue.push(1);
    await vi.advanceTimersByTimeAsync(990);
    expect(queue.named("DeleteMessageBatch")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(20);
    expect(queue.deleted).toEqual(["rh0"]);
    expect(consumer.stats.processed).toBe(1);
    await stop(consumer);
  });

  it("never waits more than a tenth of the remaining visibility", async () => {
    const queue = fakeQueue({ visibilityTimeoutSeconds: 2 });
    const consumer = consumerOn(queue, { visibilityTimeoutSeconds: 2 });
    await consumer.start();
    queue.push(1);
    await vi.advanceTimersByTimeAsync(201);
    expect(queue.deleted).toEqual(["rh0"]);
    await stop(consumer);
  });

  it("a full batch leaves at once", async () => {
    const queue = fakeQueue();
    const consumer = consumerOn(queue, { concurrency: 10 });
    await consumer.start();
    queue.push(10);
    await vi.advanceTimersByTimeAsync(5);
    expect(queue.named("DeleteMessageBatch")).toHaveLength(1);
    expect(queue.deleted).toHaveLength(10);
    await stop(consumer);
  });

  it("FIFO: deletes at once (a group's next message waits for this one)", async () => {
    const queue = fakeQueue({ fifo: true });
    const consumer = consumerOn(queue);
    await consumer.start();
    queue.push(1);
    await vi.advanceTimersByTimeAsync(5);
    expect(queue.deleted).toEqual(["rh0"]);
    await stop(consumer);
  });

  it("stop flushes the deletes that wait for company", async () => {
    const queue = fakeQueue();
    const consumer = consumerOn(queue);
    await consumer.start();
    queue.push(3);
    await vi.advanceTimersByTimeAsync(5);
    expect(queue.deleted).toHaveLength(0);
    const stats = await stop(consumer);
    expect(queue.deleted).toHaveLength(3);
    expect(stats.processed).toBe(3);
  });
});

describe("consumer runtime: batching window", () => {
  it("at a trickle, a poller that got a partial batch waits out the window: ~10 messages a receive", async () => {
    const queue = fakeQueue();
    const latencies: number[] = [];
    const consumer = consumerOn(queue, {
      concurrency: 100,
      batchingWindowMs: 1_000,
      handler: async (m) => {
        latencies.push(Date.now() - JSON.parse(m.Body ?? "{}").sentAt);
      },
    });
    await consumer.start();
    const count = await trickle(queue, 20, 30);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(queue.deleted).toHaveLength(count);
    const receives = queue.named("ReceiveMessage").length;
    const deletes = queue.named("DeleteMessageBatch").length;
    expect((receives + deletes) / count).toBeLessThanOrEqual(0.3);
    expect(Math.max(...latencies)).toBeLessThanOrEqual(1_100);
    await stop(consumer);
  });

  it("is refused for a FIFO queue, naming the option", async () => {
    const queue = fakeQueue({ fifo: true });
    expect(() => consumerOn(queue, { batchingWindowMs: 1_000 })).toThrow(/batchingWindowMs is not for FIFO/);
    const described = new Consumer({
      client: queue.client,
      queueUrl: queue.queueUrl,
      handler: async () => {},
      batchingWindowMs: 1_000,
    });
    await expect(described.start()).rejects.toThrow(/batchingWindowMs is not for FIFO/);
  });
});

describe("consumer runtime: heartbeat and errors", () => {
  it("extends a slow handler's message before its visibility runs out", async () => {
    const queue = fakeQueue();
    const consumer = consumerOn(queue, {
      handler: () => new Promise((resolve) => setTimeout(resolve, 40_000)),
    });
    await consumer.start();
    queue.push(1);
    await vi.advanceTimersByTimeAsync(16_000);
    const changes = queue.named("ChangeMessageVisibilityBatch");
    expect(changes.length).toBeGreaterThanOrEqual(1);
    expect(changes[0]?.input.Entries).toEqual([{ Id: "0", ReceiptHandle: "rh0", VisibilityTimeout: 30 }]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(queue.deleted).toEqual(["rh0"]);
    await stop(consumer);
  });

  it("a retry delay stops at SQS's limit of 12 h from the receive, not past it", async () => {
    const { RetryAfterError } = await import("../../src/consumer/errors.js");
    const { VISIBILITY_MAX_SECONDS } = await import("../../src/sqs/limits.js");
    const queue = fakeQueue();
    const consumer = consumerOn(queue, {
      // An hour of work (the heartbeat keeps it), then a mail service asks for 12 h.
      // A millisecond short of the hour: by SQS's clock (which received it earlier, and reads the
      // change after the batch's wait and the request's trip) the hour has passed.
      handler: async () => {
        await new Promise((resolve) => setTimeout(resolve, 3_600_000 - 1));
        throw new RetryAfterError(VISIBILITY_MAX_SECONDS, "quota");
      },
    });
    await consumer.start();
    queue.push(1);
    await vi.advanceTimersByTimeAsync(3_600_000 + 2_000);
    const last = queue.named("ChangeMessageVisibilityBatch").at(-1)?.input.Entries as {
      VisibilityTimeout: number;
    }[];
    expect(last).toHaveLength(1);
    const asked = last[0]?.VisibilityTimeout ?? 0;
    // Some room to spare below the limit (a round trip and a retry), and no more than a few minutes.
    expect(asked).toBeLessThanOrEqual(VISIBILITY_MAX_SECONDS - 3_600 - 10);
    expect(asked).toBeGreaterThanOrEqual(VISIBILITY_MAX_SECONDS - 3_600 - 300);
    await stop(consumer);
  });

  it("backs off after failed receives instead of spinning, and carries on", async () => {
    let failing = true;
    const queue = fakeQueue({
      receiveError: () =>
        failing ? Object.assign(new Error("slow down"), { name: "ThrottlingException" }) : undefined,
    });
    const consumer = consumerOn(queue);
    let errors = 0;
    consumer.on("receive-error", () => {
      errors += 1;
    });
    await consumer.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(errors).toBeGreaterThan(3);
    expect(errors).toBeLessThan(20); // 0.5 s doubling, jittered, capped at 20 s
    failing = false;
    queue.push(5);
    await vi.advanceTimersByTimeAsync(25_000);
    expect(queue.deleted).toHaveLength(5);
    await stop(consumer);
  });

  it("a poison message goes to the dead-letter queue at once and is deleted", async () => {
    const { PoisonMessageError } = await import("../../src/consumer/errors.js");
    const queue = fakeQueue();
    const consumer = consumerOn(queue, {
      handler: async () => {
        throw new PoisonMessageError("not-json", "body is not JSON");
      },
    });
    await consumer.start();
    queue.push(1);
    await vi.advanceTimersByTimeAsync(1_100);
    const sent = queue.named("SendMessage");
    expect(sent).toHaveLength(1);
    expect(sent[0]?.input.QueueUrl).toBe("https://sqs.test/000000000000/dlq");
    expect(queue.deleted).toEqual(["rh0"]);
    expect(consumer.stats.deadLettered).toBe(1);
    await stop(consumer);
  });
});

describe("consumer runtime: environment faults (the breaker)", () => {
  it("S13: a message that meets the fault while a probe runs is run once the probe succeeds, not held forever", async () => {
    const { EnvironmentFaultError } = await import("../../src/consumer/errors.js");
    const queue = fakeQueue();
    let storeUp = false;
    const runs = new Map<string, number>();
    const consumer = consumerOn(queue, {
      concurrency: 2,
      stopWhenEmpty: true,
      breaker: { firstProbeMs: 1_000 },
      handler: async (message) => {
        const id = message.MessageId ?? "";
        const run = (runs.get(id) ?? 0) + 1;
        runs.set(id, run);
        // m0 meets the fault at once, then probes for 1 s; m1 meets it at 1.5 s, while m0 probes.
        const delay = id === "m0" ? (run === 1 ? 0 : 1_000) : 1_500;
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (!storeUp) throw new EnvironmentFaultError("store", "the store does not answer");
      },
    });
    queue.push(2);
    await consumer.start();
    setTimeout(() => {
      storeUp = true;
    }, 1_600);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(queue.deleted.sort()).toEqual(["rh0", "rh1"]);
    expect(consumer.paused).toBe(false);
    expect(consumer.inFlight).toBe(0);
    await stop(consumer);
  });
});

describe("consumer runtime: held messages and faults reported by a running handler", () => {
  it("S8: a message whose handler asks to wait (HoldError) is kept invisible and run again, never handed back", async () => {
    const { HoldError } = await import("../../src/consumer/errors.js");
    const queue = fakeQueue({ visibilityTimeoutSeconds: 30 });
    let runs = 0;
    const consumer = consumerOn(queue, {
      handler: async () => {
        runs += 1;
        if (runs === 1) throw new HoldError(40_000, "our own claim is still leased");
      },
    });
    queue.push(1);
    await consumer.start();
    await vi.advanceTimersByTimeAsync(39_000);
    expect(runs).toBe(1);
    expect(queue.deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(runs).toBe(2);
    expect(queue.deleted).toEqual(["rh0"]);
    // Kept invisible past its 30 s visibility by the heartbeat; never handed back (1 s), never failed.
    const changes = queue
      .named("ChangeMessageVisibilityBatch")
      .flatMap((c) => c.input.Entries as { VisibilityTimeout: number }[]);
    expect(changes.length).toBeGreaterThan(0);
    expect(changes.every((e) => e.VisibilityTimeout >= 30)).toBe(true);
    expect(consumer.stats).toMatchObject({ failed: 0, released: 0, held: 1, processed: 1 });
    await stop(consumer);
  });

  it("S9: a handler that reports a fault and carries on pauses receiving; its success resumes", async () => {
    const { EnvironmentFaultError } = await import("../../src/consumer/errors.js");
    const queue = fakeQueue();
    const consumer = consumerOn(queue, {
      concurrency: 1,
      handler: async (message, context) => {
        if (message.MessageId !== "m0") return;
        for (let i = 0; i < 5; i++) {
          context.environmentFault?.(new EnvironmentFaultError("store", "the store does not answer"));
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      },
    });
    queue.push(1);
    await consumer.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(consumer.paused).toBe(true);
    queue.push(3);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(consumer.paused).toBe(true); // probes wait for the handler that works through the fault
    expect(queue.deleted).toEqual([]);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(consumer.paused).toBe(false);
    await vi.advanceTimersByTimeAsync(25_000);
    expect(queue.deleted.sort()).toEqual(["rh0", "rh1", "rh2", "rh3"]);
    expect(consumer.stats.failed).toBe(0);
    await stop(consumer);
  });
});

describe("the poller count", () => {
  it("doubles on each full batch, drops one after three small receives in a row", async () => {
    const { PollerCount } = await import("../../src/consumer/runtime/pollers.js");
    const count = new PollerCount(10);
    count.received(10);
    expect(count.target).toBe(2);
    for (let i = 0; i < 5; i++) count.received(10);
    expect(count.target).toBe(10); // capped at concurrency / 10
    count.received(0);
    count.received(7); // half a batch or more: neither grows nor counts as small
    count.received(0);
    count.received(0);
    expect(count.target).toBe(10);
    count.received(0);
    expect(count.target).toBe(9);
  });

  it("with a batching window, needs three full batches in a row to grow", async () => {
    const { GROW_AFTER_WINDOW, PollerCount } = await import("../../src/consumer/runtime/pollers.js");
    const count = new PollerCount(10, GROW_AFTER_WINDOW);
    for (const got of [10, 10, 3, 10, 10]) count.received(got);
    expect(count.target).toBe(1); // a partial batch breaks the run
    count.received(10);
    expect(count.target).toBe(2);
  });
});
