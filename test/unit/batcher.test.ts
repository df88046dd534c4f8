/** The batcher and the retry engine it shares with the producer: fake timers, no real waits. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BatchEntryError, type BatchEntryFailure, Batcher, type BatchSender } from "../../src/sqs/batcher.js";
import { backoffMs, sendWithRetries } from "../../src/sqs/retry.js";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function recorder(answer: (values: string[], call: number) => BatchEntryFailure[] | Error = () => []) {
  const calls: string[][] = [];
  const sender: BatchSender<string> = async (entries) => {
    const values = entries.map((e) => e.value);
    calls.push(values);
    const result = answer(values, calls.length);
    if (result instanceof Error) throw result;
    return result;
  };
  return { calls, sender };
}

const throttled = () => Object.assign(new Error("slow down"), { name: "ThrottlingException" });

describe("Batcher", () => {
  it("sends a full batch at once and a partial one after its wait", async () => {
    const { calls, sender } = recorder();
    const batcher = new Batcher(sender, { maxWaitMs: 1_000 });
    const full = Array.from({ length: 12 }, (_, i) => batcher.add(`m${i}`));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls[1]).toEqual(["m10", "m11"]);
    await Promise.all(full);
  });

  it("leaves at the earliest wait of the entries it holds", async () => {
    const { calls, sender } = recorder();
    const batcher = new Batcher(sender, { maxWaitMs: 1_000 });
    void batcher.add("patient");
    await vi.advanceTimersByTimeAsync(100);
    void batcher.add("hurried", 50);
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([["patient", "hurried"]]);
  });

  it("entries added in one tick with no wait share a request", async () => {
    const { calls, sender } = recorder();
    const batcher = new Batcher(sender, { maxWaitMs: 0 });
    const all = ["a", "b", "c"].map((v) => batcher.add(v));
    await vi.advanceTimersByTimeAsync(0);
    await Promise.all(all);
    expect(calls).toEqual([["a", "b", "c"]]);
  });

  it("retries entries SQS failed on its side with backoff, rejects the sender's fault at once", async () => {
    const { calls, sender } = recorder((values, call) =>
      call === 1
        ? [
            { id: String(values.indexOf("again")), code: "InternalError", message: "", senderFault: false },
            {
              id: String(values.indexOf("stale")),
              code: "ReceiptHandleIsInvalid",
              message: "",
              senderFault: true,
            },
          ]
        : [],
    );
    const batcher = new Batcher(sender, { maxWaitMs: 0 });
    const ok = batcher.add("ok");
    const again = batcher.add("again");
    const stale = batcher.add("stale").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    await ok;
    await again;
    const error = await stale;
    expect(error).toBeInstanceOf(BatchEntryError);
    expect((error as BatchEntryError).attempts).toBe(1);
    expect(calls).toEqual([["ok", "again", "stale"], ["again"]]);
  });

  it("addShared: one promise per request, and each value asks it whether it failed", async () => {
    const { calls, sender } = recorder((values, call) =>
      call === 1
        ? [
            {
              id: String(values.indexOf("stale")),
              code: "ReceiptHandleIsInvalid",
              message: "",
              senderFault: true,
            },
          ]
        : [],
    );
    const batcher = new Batcher(sender, { maxWaitMs: 0 });
    const first = ["ok", "stale"].map((v) => batcher.addShared(v));
    await vi.advanceTimersByTimeAsync(0);
    const later = Array.from({ length: 10 }, (_, i) => batcher.addShared(`m${i}`));
    expect(first[0]).toBe(first[1]);
    expect(new Set(later).size).toBe(1);
    expect(later[0]).not.toBe(first[0]);
    const outcome = await first[0];
    expect(outcome?.errorFor("ok")).toBeUndefined();
    expect(outcome?.errorFor("stale")).toBeInstanceOf(BatchEntryError);
    expect((await later[9])?.errorFor("m9")).toBeUndefined();
    expect(calls).toEqual([["ok", "stale"], Array.from({ length: 10 }, (_, i) => `m${i}`)]);
  });

  it("addShared and add share a request; a whole request that fails for good fails every value", async () => {
    const { calls, sender } = recorder(() => throttled());
    const batcher = new Batcher(sender, {
      maxWaitMs: 0,
      retry: { maxAttempts: 2, baseDelayMs: 100, maxDelayMs: 1_000 },
    });
    const shared = batcher.addShared("a");
    const single = batcher.add("b").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect((await shared).errorFor("a")).toBeInstanceOf(BatchEntryError);
    expect(await single).toBeInstanceOf(BatchEntryError);
    expect(calls).toEqual([
      ["a", "b"],
      ["a", "b"],
    ]);
  });

  it("gives up after maxAttempts on a whole request that keeps failing", async () => {
    const { calls, sender } = recorder(() => throttled());
    const batcher = new Batcher(sender, {
      maxWaitMs: 0,
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    });
    const result = batcher.add("x").catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toBeInstanceOf(BatchEntryError);
    expect(calls).toHaveLength(3);
  });

  it("flush sends what waits and resolves when SQS answered", async () => {
    const { calls, sender } = recorder();
    const batcher = new Batcher(sender, { maxWaitMs: 60_000 });
    const entry = batcher.add("waiting");
    await batcher.flush();
    await entry;
    expect(calls).toEqual([["waiting"]]);
  });
});

describe("the retry engine", () => {
  it("backs off with full jitter below a doubling, capped ceiling", () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffMs(1, policy, () => 0.999)).toBeCloseTo(99.9);
    expect(backoffMs(3, policy, () => 0.5)).toBe(200);
    expect(backoffMs(10, policy, () => 1)).toBe(1_000);
  });

  it("a whole-request error the classification calls fatal is not retried and is reported", async () => {
    let requests = 0;
    const denied = Object.assign(new Error("no"), { name: "AccessDenied" });
    const outcome = await sendWithRetries(["a", "b"], async () => {
      requests += 1;
      throw denied;
    });
    expect(requests).toBe(1);
    expect(outcome.fatal).toBe(denied);
    expect(outcome.failed.map((f) => f.entry)).toEqual(["a", "b"]);
  });
});
