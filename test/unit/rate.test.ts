import { describe, expect, it } from "vitest";
import { perTaskRate } from "../../src/config/derived.js";
import type { Mailer } from "../../src/consumer/mail/mailer.js";
import { MAIL_SENDING, RateLimitedMailer } from "../../src/consumer/mail/rate.js";
import type { Clock } from "../../src/time/clock.js";
import { busiestWindow } from "../support/windows.js";

/** A discrete-event clock: sleeps wake in time order, each at its own instant. */
function eventClock(): Clock & { runUntil(done: Promise<unknown>): Promise<void> } {
  let now = 0;
  const timers: { at: number; wake: () => void }[] = [];
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    now: () => now,
    setTimeout(callback, ms) {
      const timer = { at: now + ms, wake: callback };
      timers.push(timer);
      return {
        cancel: () => {
          if (timers.includes(timer)) timers.splice(timers.indexOf(timer), 1);
        },
      };
    },
    sleep: (ms) => new Promise<void>((wake) => timers.push({ at: now + ms, wake })),
    async runUntil(done) {
      let finished = false;
      void done.then(() => {
        finished = true;
      });
      for (;;) {
        await settle();
        if (finished) return;
        timers.sort((a, b) => a.at - b.at);
        const next = timers.shift();
        if (!next) throw new Error("nothing left to wake, and not done");
        now = Math.max(now, next.at);
        next.wake();
      }
    },
  };
}

const inner: Mailer = { kind: "smtp", sendTimeoutMs: 1_000, send: async () => {}, close: () => {} };

describe("the send rate", () => {
  it("is the account quota ÷ the maximum tasks", () => {
    expect(perTaskRate(14, 4)).toBe(3.5);
    expect(perTaskRate(MAIL_SENDING.sandboxQuotaPerSecond, 1)).toBe(1);
    expect(perTaskRate(14, 0)).toBe(14);
  });

  it.each([1, 3.5, 14])("%s/s: no window ever holds more, however many wait at once", async (rate) => {
    const clock = eventClock();
    const mailer = new RateLimitedMailer(inner, rate, clock);
    const times: number[] = [];
    // Ten handlers, each sending ten emails one after the other, all waiting on the one bucket.
    const handlers = Array.from({ length: 10 }, async () => {
      for (let i = 0; i < 10; i++) {
        await mailer.reserve();
        times.push(clock.now());
      }
    });
    await clock.runUntil(Promise.all(handlers));
    expect(times).toHaveLength(100);
    // Sends are at least 1/rate apart: a one-second window holds at most ⌈rate⌉ (4 at 3.5/s, then
    // 3 in the next), and any longer window at most rate × its length, plus the one it starts with.
    expect(busiestWindow(times, 1_000)).toBeLessThanOrEqual(Math.ceil(rate));
    expect(busiestWindow(times, 10_000)).toBeLessThanOrEqual(rate * 10 + 1);
    // And it is not slower than asked: 100 sends take about 100 / rate seconds.
    const span = (Math.max(...times) - Math.min(...times)) / 1000;
    expect(span).toBeLessThanOrEqual((99 / rate) * 1.05 + 0.01);
  });

  it("waits rather than fails, and an aborted wait ends at once without a token", async () => {
    const mailer = new RateLimitedMailer(inner, 0.001);
    await mailer.reserve();
    const controller = new AbortController();
    const waiting = mailer.reserve(controller.signal);
    controller.abort(new Error("stopping"));
    await expect(waiting).rejects.toThrow();
  });
});
