/**
 * The soak group's numbers, verdict and pace: the compiled consumer under a steady rate, sampled
 * every 30 s. Pure (the pace on an injected clock), so a unit test can check the verdict from a
 * series and the pace without waiting (test/unit/bench-soak.test.ts); soak-run.ts runs it.
 */
import type { OutgoingRegistration } from "../../src/contract/registration.js";

/** Messages a second the soak sends. */
export const SOAK_RATE = 1_500;
/** Seconds between samples of the consumer's memory. */
export const SOAK_SAMPLE_SECONDS = 30;
/** Samples before this are start-up (modules, pools, the first full GC) and not judged. */
export const SOAK_SETTLE_SECONDS = 120;
/** RSS after the settling stays within this fraction of the first sample after it. */
export const SOAK_BAND = 0.1;
/** RSS at most: a 512 MB task keeps more than half for the page cache, the mailer and spikes. */
export const SOAK_RSS_MAX_MB = 200;
/** Arrivals counted as the soak's rate: at least this fraction of SOAK_RATE. */
export const SOAK_RATE_FLOOR = 0.95;
/**
 * Messages waiting in the queue at most: past this the sender waits until the consumer has caught
 * up. fauxqs's receives slow down as its backlog grows past some 20,000 messages (docs/benchmarks.md,
 * "Known limits of the embedded SQS"), and the soak would measure those instead of the consumer. A
 * held sender still misses the rate target.
 */
export const SOAK_BACKLOG_MAX = 10_000;

export interface SoakSample {
  /** Since the consumer started taking messages. */
  readonly seconds: number;
  readonly rssMb: number;
  readonly heapUsedMb: number;
  /** Messages the consumer has processed (deleted) so far. */
  readonly processed: number;
  /** Messages sent so far. */
  readonly sent: number;
  /** Seconds so far the sender waited for the backlog to fall to SOAK_BACKLOG_MAX. */
  readonly heldSeconds: number;
}

export interface SoakRun {
  readonly minutes: number;
  readonly samples: readonly SoakSample[];
  /** What ran, for the header: the command line of the consumer. */
  readonly consumer: string;
}

export interface SoakVerdict {
  /** The first sample at or after SOAK_SETTLE_SECONDS: what the later ones are held to. */
  readonly reference?: SoakSample;
  /** Largest |RSS ÷ reference − 1| from the reference on. */
  readonly worstDeviation?: number;
  readonly peakRssMb?: number;
  readonly sentPerSecond?: number;
  /** Sent and not yet processed at the last sample. */
  readonly backlog?: number;
  /** Target → met; a target whose samples are missing is absent. */
  readonly targets: Record<string, boolean>;
}

const TARGET_FLAT = `soak: RSS after minute ${SOAK_SETTLE_SECONDS / 60} within ±${SOAK_BAND * 100} %`;
const TARGET_CAP = `soak: RSS after minute ${SOAK_SETTLE_SECONDS / 60} ≤ ${SOAK_RSS_MAX_MB} MB`;
const TARGET_RATE = `soak: ${SOAK_RATE.toLocaleString("en")} msg/s sent (≥ ${SOAK_RATE_FLOOR * 100} %) and kept up with (backlog ≤ 1 s of it)`;

export function soakVerdict(samples: readonly SoakSample[]): SoakVerdict {
  const judged = samples.filter((s) => s.seconds >= SOAK_SETTLE_SECONDS);
  const [reference] = judged;
  const last = samples.at(-1);
  const targets: Record<string, boolean> = {};
  if (reference === undefined || last === undefined || last.seconds <= 0) return { targets };
  const worstDeviation = Math.max(...judged.map((s) => Math.abs(s.rssMb / reference.rssMb - 1)));
  const peakRssMb = Math.max(...judged.map((s) => s.rssMb));
  const sentPerSecond = last.sent / last.seconds;
  const backlog = last.sent - last.processed;
  targets[TARGET_FLAT] = worstDeviation <= SOAK_BAND;
  targets[TARGET_CAP] = peakRssMb <= SOAK_RSS_MAX_MB;
  targets[TARGET_RATE] = sentPerSecond >= SOAK_RATE * SOAK_RATE_FLOOR && backlog <= SOAK_RATE;
  return { reference, worstDeviation, peakRssMb, sentPerSecond, backlog, targets };
}

/** The soak's part of the printout: what ran, one row a sample, the verdict's figures. */
export function soakLines(run: SoakRun, verdict: SoakVerdict): string[] {
  const { reference, worstDeviation, peakRssMb, sentPerSecond, backlog } = verdict;
  return [
    `Soak: ${run.consumer}, ${SOAK_RATE.toLocaleString("en")} msg/s for ${run.minutes} min; RSS and heap every ${SOAK_SAMPLE_SECONDS} s`,
    "",
    "| time | RSS MB | heap used MB | sent | processed | sender held s |",
    "|---:|---:|---:|---:|---:|---:|",
    ...run.samples.map(
      (s) =>
        `| ${clock(s.seconds)} | ${s.rssMb.toFixed(0)} | ${s.heapUsedMb.toFixed(0)} | ${s.sent} | ${s.processed} | ${s.heldSeconds.toFixed(0)} |`,
    ),
    "",
    ...(reference && worstDeviation !== undefined && peakRssMb !== undefined
      ? [
          `soak: after ${clock(reference.seconds)} RSS ${reference.rssMb.toFixed(0)} MB, at most ${(worstDeviation * 100).toFixed(1)} % from it, peak ${peakRssMb.toFixed(0)} MB; sent ${Math.round(sentPerSecond ?? 0)} msg/s (held ${(run.samples.at(-1)?.heldSeconds ?? 0).toFixed(0)} s with ${SOAK_BACKLOG_MAX.toLocaleString("en")} waiting), backlog at the end ${backlog}`,
        ]
      : [`soak: no sample after minute ${SOAK_SETTLE_SECONDS / 60}, no verdict`]),
  ];
}

function clock(seconds: number): string {
  const whole = Math.round(seconds);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** What the soak's sender reads and how it waits: the backlog check and a clock. */
export interface Pace {
  /** Messages a second. */
  readonly rate: number;
  /** Milliseconds between checks while held, and the least wait before the first send. */
  readonly tickMs: number;
  /** True once the soak is over: the registrations end. */
  stopped(): boolean;
  /** True while the sender should wait (more than SOAK_BACKLOG_MAX messages waiting). */
  held(): boolean;
  readonly clock: { now(): number; sleep(ms: number): Promise<unknown> };
}

/**
 * Registrations paced at `rate` a second until `stopped()`. While `held()` none comes, and the pace
 * starts again afterwards: no burst to catch up. `totals.heldMs` counts the time held.
 */
export async function* paced(pace: Pace, totals: { heldMs: number }): AsyncGenerator<OutgoingRegistration> {
  const { rate, tickMs, clock } = pace;
  let started = clock.now();
  const registeredAt = new Date().toISOString();
  for (let i = 0; !pace.stopped(); i++) {
    if (pace.held()) {
      const from = clock.now();
      while (pace.held() && !pace.stopped()) await clock.sleep(tickMs);
      if (pace.stopped()) return;
      totals.heldMs += clock.now() - from;
      // The pace starts again from now: neither the hold nor a lag before it is made up in a burst.
      started = clock.now() - (i * 1000) / rate;
    }
    // Early messages wait at least a tick, so that they go out together in full batches.
    const wait = started + (i * 1000) / rate - clock.now();
    if (wait > 0) await clock.sleep(Math.max(wait, tickMs));
    yield { nome: `Pessoa Número ${i}`, email: `pessoa${i}@example.com`, id: `soak_${i}`, registeredAt };
  }
}
