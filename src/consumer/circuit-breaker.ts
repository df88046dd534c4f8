/**
 * The consumer's circuit breaker for faults of its own environment.
 *
 * A handler error that is an EnvironmentFaultError (a full or read-only disk, the sent-email store
 * or the mail transport down or throttling) says nothing about the message: retrying the message
 * would spend its receive count and, after maxReceiveCount, drain the backlog into the dead-letter
 * queue. So the first such error opens the breaker: the consumer stops taking messages and hands
 * back what it holds. After `firstProbeMs` it lets one message through (a probe); a probe that
 * meets the fault again doubles the wait (up to `maxProbeMs`); a probe that does not closes the
 * breaker and the consumer resumes by itself.
 *
 * Pure state and timers, no SQS: the clock is injected so tests drive it.
 */
import { EventEmitter } from "node:events";
import { type Clock, systemClock } from "../time/clock.js";
import type { EnvironmentComponent, EnvironmentFaultError } from "./errors.js";

/** The part of the clock the breaker uses (time and timers, no sleep); tests pass a fake one. */
export type BreakerClock = Pick<Clock, "now" | "setTimeout">;

export interface CircuitBreakerOptions {
  /**
   * Wait before the first probe. Default 1 s: a disk that was full for a moment is back almost at
   * once, and a probe costs one handler call on a message we already hold.
   */
  readonly firstProbeMs?: number;
  /**
   * Longest wait between probes. Default 15 s, so that the consumer resumes within 15 s (plus one
   * handler run) after the fault clears: the goal is ≤ 30 s.
   */
  readonly maxProbeMs?: number;
  /** Growth of the wait after each failed probe. Default 2. */
  readonly probeGrowth?: number;
  readonly clock?: BreakerClock;
}

export type BreakerState = "closed" | "open" | "probing";

export interface CircuitBreakerEvents {
  /** The breaker opened: stop taking messages. */
  open: [reason: EnvironmentComponent, error: EnvironmentFaultError];
  /** Time for one probe: let one message through and report its outcome. */
  probe: [];
  /** A probe succeeded: take messages again. `pausedMs` is how long the pause lasted. */
  close: [pausedMs: number];
}

export class CircuitBreaker extends EventEmitter<CircuitBreakerEvents> {
  private readonly firstProbeMs: number;
  private readonly maxProbeMs: number;
  private readonly probeGrowth: number;
  private readonly clock: BreakerClock;
  private current: BreakerState = "closed";
  private currentReason: EnvironmentComponent | undefined;
  private openedAt = 0;
  private nextWaitMs: number;
  private timer: { cancel(): void } | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    super();
    this.firstProbeMs = options.firstProbeMs ?? 1_000;
    this.maxProbeMs = options.maxProbeMs ?? 15_000;
    this.probeGrowth = options.probeGrowth ?? 2;
    this.clock = options.clock ?? systemClock;
    this.nextWaitMs = this.firstProbeMs;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** Open or probing: the consumer takes no new work. */
  get paused(): boolean {
    return this.current !== "closed";
  }

  /** The component whose fault paused the consumer, while paused. */
  get reason(): EnvironmentComponent | undefined {
    return this.currentReason;
  }

  /** How long the consumer has been paused (0 when it is not). */
  pausedForMs(): number {
    return this.paused ? this.clock.now() - this.openedAt : 0;
  }

  /** A handler met a fault of the environment (a probe's failure included). */
  fault(error: EnvironmentFaultError): void {
    if (this.current === "open") return; // handlers running when it opened: already known
    if (this.current === "closed") {
      this.current = "open";
      this.currentReason = error.component;
      this.openedAt = this.clock.now();
      this.nextWaitMs = this.firstProbeMs;
      this.emit("open", error.component, error);
    } else {
      this.current = "open";
      this.currentReason = error.component;
    }
    this.schedule();
  }

  /** A probe ran without meeting the fault: close, and the consumer resumes. */
  success(): void {
    if (this.current === "closed") return;
    const pausedMs = this.pausedForMs();
    this.cancel();
    this.current = "closed";
    this.currentReason = undefined;
    this.nextWaitMs = this.firstProbeMs;
    this.emit("close", pausedMs);
  }

  /** A probe could not run (nothing to probe with): try again after the same kind of wait. */
  retry(): void {
    if (this.current !== "probing") return;
    this.current = "open";
    this.schedule();
  }

  /** Stops the probe timer (the consumer is stopping). */
  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private schedule(): void {
    this.cancel();
    const wait = this.nextWaitMs;
    this.nextWaitMs = Math.min(this.maxProbeMs, wait * this.probeGrowth);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.current = "probing";
      this.emit("probe");
    }, wait);
  }
}
