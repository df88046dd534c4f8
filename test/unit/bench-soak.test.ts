/** The bench's flags are checked before anything runs, and the soak's verdict reads a series. */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import { failureOf } from "../../src/cli/shared.js";
import { projectRoot } from "../../src/config/paths.js";
import { DEFAULT_GROUPS, groupWanted, parseBenchFlags, SOAK, SOAK_MINUTES_MIN } from "../bench/flags.js";
import { benchReport } from "../bench/report.js";
import {
  paced,
  SOAK_BACKLOG_MAX,
  SOAK_BAND,
  SOAK_RATE,
  SOAK_RSS_MAX_MB,
  SOAK_SAMPLE_SECONDS,
  SOAK_SETTLE_SECONDS,
  type SoakSample,
  soakVerdict,
} from "../bench/soak.js";
import { containerCommand } from "../bench/soak-run.js";

/** A sample every 30 s with these RSS values, sending and processing at the soak's rate. */
const series = (rss: readonly number[], behind = 0): SoakSample[] =>
  rss.map((rssMb, i) => {
    const seconds = (i + 1) * SOAK_SAMPLE_SECONDS;
    return {
      seconds,
      rssMb,
      heapUsedMb: rssMb / 3,
      sent: seconds * SOAK_RATE,
      processed: seconds * SOAK_RATE - behind,
      heldSeconds: 0,
    };
  });

const flat = "soak: RSS after minute 2 within ±10 %";
const cap = "soak: RSS after minute 2 ≤ 200 MB";
const rate = "soak: 1,500 msg/s sent (≥ 95 %) and kept up with (backlog ≤ 1 s of it)";

describe("bench flags", () => {
  const usage = (argv: string[]) => {
    try {
      parseBenchFlags(argv);
    } catch (error) {
      return error;
    }
    return undefined;
  };

  it("the soak runs only when named, for --soak-minutes", () => {
    const flags = parseBenchFlags(["--groups", "soak", "--soak-minutes", "3"]);
    expect(flags.soakMinutes).toBe(3);
    expect(groupWanted(flags, SOAK)).toBe(true);
    expect(groupWanted(flags, "drain")).toBe(false);
    const defaults = parseBenchFlags([]);
    expect(defaults.soakMinutes).toBe(30);
    expect(groupWanted(defaults, SOAK)).toBe(false);
    for (const group of DEFAULT_GROUPS) expect(groupWanted(defaults, group)).toBe(true);
  });

  it.each([["0"], ["2"], ["1.5"], ["thirty"], [""], ["100000"]])(
    "--soak-minutes %j is a usage error (exit 2) before anything starts",
    (value) => {
      const error = usage(["--groups", "soak", "--soak-minutes", value]);
      expect(error).toBeInstanceOf(CommanderError);
      expect(failureOf(error).code).toBe(2);
      expect((error as CommanderError).message).toContain(
        `--soak-minutes must be a whole number from ${SOAK_MINUTES_MIN}`,
      );
    },
  );

  it("--soak-minutes without the soak group is a usage error, not ignored", () => {
    const error = usage(["--groups", "drain", "--soak-minutes", "5"]);
    expect(error).toBeInstanceOf(CommanderError);
    expect(failureOf(error).code).toBe(2);
    expect((error as CommanderError).message).toContain("--groups soak");
  });

  it("an unknown group is a usage error", () => {
    expect(failureOf(usage(["--groups", "drain,soaks"])).code).toBe(2);
  });
});

describe("the soak's consumer", () => {
  it("is the image's command: Dockerfile.consumer's CMD without its node, ending in package.json's bin", () => {
    const command = containerCommand(readFileSync(join(projectRoot, "Dockerfile.consumer"), "utf8"));
    const { bin } = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));
    expect(command.at(-1)).toBe(bin["sqs-consume"]);
    expect(command.slice(0, -1).every((word) => word.startsWith("--"))).toBe(true);
  });

  it("reads the last CMD, not HEALTHCHECK's, and refuses a shell-form one", () => {
    const healthcheck = 'HEALTHCHECK --interval=30s \\\n  CMD ["node", "-e", "x"]\n';
    expect(containerCommand(`${healthcheck}CMD ["node", "--max-old-space-size=100", "a.js"]\n`)).toEqual([
      "--max-old-space-size=100",
      "a.js",
    ]);
    expect(() => containerCommand(`${healthcheck}CMD node a.js\n`)).toThrow(/Dockerfile.consumer/);
  });
});

describe("the soak's verdict", () => {
  it("benchmarks.md states the soak's rate and targets as the bench judges them", () => {
    const page = readFileSync(join(projectRoot, "docs", "benchmarks.md"), "utf8").replace(/\s+/g, " ");
    expect(page).toContain(`${SOAK_RATE.toLocaleString("en")} registrations a second`);
    expect(page).toContain(`RSS after minute ${SOAK_SETTLE_SECONDS / 60} within ±${SOAK_BAND * 100} %`);
    expect(page).toContain(`≤ ${SOAK_RSS_MAX_MB} MB`);
    expect(page).toContain(`every ${SOAK_SAMPLE_SECONDS} s`);
    expect(page).toContain(`more than ${SOAK_BACKLOG_MAX.toLocaleString("en")} messages wait`);
  });

  it("flat within the band after minute 2, under the cap, keeping up: every target met", () => {
    // Start-up climbs (not judged), then ±5 % around 150.
    const verdict = soakVerdict(series([90, 140, 180, 150, 157, 143, 150]));
    expect(verdict.reference?.seconds).toBe(SOAK_SETTLE_SECONDS);
    expect(verdict.reference?.rssMb).toBe(150);
    expect(verdict.peakRssMb).toBe(157);
    expect(verdict.worstDeviation).toBeCloseTo(0.0467, 3);
    expect(verdict.targets).toEqual({ [flat]: true, [cap]: true, [rate]: true });
  });

  it("a slow climb past the band after minute 2 is a leak", () => {
    const verdict = soakVerdict(series([100, 120, 130, 150, 160, 170]));
    expect(verdict.worstDeviation).toBeGreaterThan(SOAK_BAND);
    expect(verdict.targets[flat]).toBe(false);
    expect(verdict.targets[cap]).toBe(true);
  });

  it("flat but above the cap", () => {
    const verdict = soakVerdict(series([200, 210, 210, 212, 211]));
    expect(verdict.peakRssMb).toBeGreaterThan(SOAK_RSS_MAX_MB);
    expect(verdict.targets).toMatchObject({ [flat]: true, [cap]: false });
  });

  it("a consumer that falls behind does not count as soaked at the rate", () => {
    expect(soakVerdict(series([100, 100, 100, 100, 100], 5_000)).targets[rate]).toBe(false);
  });

  it("no sample after minute 2: no verdict, and the report prints no MET or MISSED for it", () => {
    const samples = series([100, 100, 100]);
    expect(soakVerdict(samples).targets).toEqual({});
    const report = benchReport({
      summary: [],
      count: 1,
      runs: 1,
      trickleSeconds: 1,
      date: "2026-12-05T00:00:00.000Z",
      soak: { minutes: 1.5, samples, consumer: "node dist/src/cli/consume.js" },
    });
    const text = report.lines.join("\n");
    expect(text).toContain("no verdict");
    expect(text).not.toMatch(/MET|MISSED|NaN/);
  });

  it("in the report: one row a sample and the three targets", () => {
    const report = benchReport({
      summary: [],
      count: 1,
      runs: 1,
      trickleSeconds: 1,
      date: "2026-12-05T00:00:00.000Z",
      soak: {
        minutes: 3,
        samples: series([120, 130, 140, 141, 139, 140]),
        consumer: "node dist/src/cli/consume.js",
      },
    });
    const text = report.lines.join("\n");
    expect(text).toContain("| 2:00 | 141 |");
    expect(text).toContain("| 3:00 | 140 |");
    expect(text.match(/^(MET|MISSED)\s+soak:/gm)).toHaveLength(3);
    expect(text).not.toMatch(/NaN|messages, median|Every variant/);
  });
});

describe("the soak's pace", () => {
  /** A clock that moves only when slept on: the pace's times without waiting for them. */
  function manualClock() {
    let now = 1_000_000;
    return {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
  }

  it("sends at the rate, holds while the backlog is past the cap, then goes on without a burst", async () => {
    const clock = manualClock();
    const start = clock.now();
    let heldFrom = Number.POSITIVE_INFINITY;
    let heldUntil = Number.POSITIVE_INFINITY;
    let stopped = false;
    const totals = { heldMs: 0 };
    const sentAt: number[] = [];
    const ids: string[] = [];
    const pace = {
      rate: 100,
      tickMs: 10,
      stopped: () => stopped,
      held: () => clock.now() >= heldFrom && clock.now() < heldUntil,
      clock,
    };
    for await (const registration of paced(pace, totals)) {
      sentAt.push(clock.now() - start);
      ids.push(registration.id ?? "");
      if (sentAt.length === 50) {
        // The backlog passes the cap now and falls back under it 2 s later.
        heldFrom = clock.now();
        heldUntil = clock.now() + 2_000;
      }
      if (sentAt.length === 100) stopped = true;
    }
    expect(sentAt).toHaveLength(100);
    expect(new Set(ids).size).toBe(100);
    const gaps = sentAt.slice(1).map((at, i) => at - (sentAt[i] ?? 0));
    // 10 ms apart before the hold (the first after a tick)…
    expect(gaps.slice(0, 49)).toEqual(Array(49).fill(10));
    expect(sentAt[49]).toBe(490);
    // …none while held, and 10 ms apart again after it: the held time is not made up in a burst.
    expect(gaps[49]).toBeGreaterThanOrEqual(2_000);
    expect(gaps.slice(50)).toEqual(Array(49).fill(10));
    expect(totals.heldMs).toBe(2_000);
  });

  it("ends while held when the soak stops, with nothing more sent", async () => {
    const clock = manualClock();
    let stopped = false;
    const totals = { heldMs: 0 };
    let sent = 0;
    const pace = {
      rate: 100,
      tickMs: 10,
      stopped: () => stopped,
      held: () => sent >= 5,
      clock: {
        now: clock.now,
        sleep: async (ms: number) => {
          await clock.sleep(ms);
          if (sent >= 5 && clock.now() > 1_000_000 + 5_000) stopped = true;
        },
      },
    };
    for await (const _ of paced(pace, totals)) sent += 1;
    expect(sent).toBe(5);
    expect(stopped).toBe(true);
  });
});
