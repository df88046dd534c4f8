import { describe, expect, it } from "vitest";
import { type BreakerClock, CircuitBreaker } from "../../src/consumer/circuit-breaker.js";
import { EnvironmentFaultError } from "../../src/consumer/errors.js";

/** A clock whose time moves only when the test says so. */
function manualClock() {
  let now = 0;
  const timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  const clock: BreakerClock = {
    now: () => now,
    setTimeout(callback, ms) {
      const timer = { at: now + ms, callback, cancelled: false };
      timers.push(timer);
      return {
        cancel: () => {
          timer.cancelled = true;
        },
      };
    },
  };
  /** Moves to the next timer and fires it; returns its time. */
  const next = (): number => {
    const due = timers.filter((t) => !t.cancelled).sort((a, b) => a.at - b.at)[0];
    if (!due) throw new Error("no timer pending");
    due.cancelled = true;
    now = due.at;
    due.callback();
    return now;
  };
  return { clock, next, set: (t: number) => (now = t), pending: () => timers.some((t) => !t.cancelled) };
}

const diskFull = () => new EnvironmentFaultError("outbox", "ENOSPC: no space left on device");

describe("circuit breaker", () => {
  it("opens on the first environment fault and probes at growing intervals up to the cap", () => {
    const { clock, next } = manualClock();
    const breaker = new CircuitBreaker({ clock, firstProbeMs: 1_000, maxProbeMs: 8_000 });
    const opened: string[] = [];
    breaker.on("open", (reason) => opened.push(reason));
    const probes: number[] = [];
    breaker.on("probe", () => probes.push(clock.now()));

    breaker.fault(diskFull());
    expect(breaker.paused).toBe(true);
    expect(breaker.reason).toBe("outbox");
    breaker.fault(diskFull()); // a second handler failing at the same time changes nothing
    expect(opened).toEqual(["outbox"]);
    for (let i = 0; i < 6; i++) {
      next();
      breaker.fault(diskFull()); // the probe meets the fault again
    }
    // Waits 1, 2, 4, 8, 8, 8 s.
    expect(probes).toEqual([1_000, 3_000, 7_000, 15_000, 23_000, 31_000]);
    expect(opened).toEqual(["outbox"]);
  });

  it("closes on a successful probe and reports the pause; the next fault starts over", () => {
    const { clock, next } = manualClock();
    const breaker = new CircuitBreaker({ clock, firstProbeMs: 100, maxProbeMs: 1_000 });
    const closed: number[] = [];
    breaker.on("close", (ms) => closed.push(ms));
    breaker.fault(new EnvironmentFaultError("store", "SQLITE_FULL"));
    next();
    expect(breaker.state).toBe("probing");
    breaker.success();
    expect(breaker.paused).toBe(false);
    expect(breaker.reason).toBeUndefined();
    expect(closed).toEqual([100]);
    breaker.fault(diskFull());
    expect(next() - 100).toBe(100); // back to the first wait
  });

  it("with the defaults: a fault lasting 5 minutes is paused at once and resumed within 15 s of its end", () => {
    const { clock, next } = manualClock();
    const breaker = new CircuitBreaker({ clock });
    let resumedAt: number | undefined;
    breaker.on("close", () => {
      resumedAt = clock.now();
    });
    const faultEnds = 300_000;
    breaker.fault(diskFull());
    expect(breaker.paused).toBe(true); // paused at 0 s after the fault (target ≤ 10 s)
    while (resumedAt === undefined) {
      const t = next();
      if (t < faultEnds) breaker.fault(diskFull());
      else breaker.success();
    }
    expect(resumedAt - faultEnds).toBeLessThanOrEqual(15_000); // target ≤ 30 s
  });

  it("cancel() stops probing", () => {
    const { clock, pending } = manualClock();
    const breaker = new CircuitBreaker({ clock });
    breaker.fault(diskFull());
    expect(pending()).toBe(true);
    breaker.cancel();
    expect(pending()).toBe(false);
  });
});
