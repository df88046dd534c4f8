/** `npm run bench` prints only what it ran: no NaN ratio, no MISSED target for a group left out. */
import { describe, expect, it } from "vitest";
import { benchReport, type SummaryRow } from "../bench/report.js";

const row = (group: string, variant: string, label: string, messagesPerSecond: number): SummaryRow => ({
  group,
  variant,
  label,
  messagesPerSecond,
  requestsPerMessage: 0.2,
  receiveDeletePerMessage: 0.2,
  cpuSecondsPer1000: 0.1,
  peakRssMb: 90,
  timeBoxed: false,
});

const input = { count: 100, runs: 1, trickleSeconds: 30, date: "2026-12-04T00:00:00.000Z" };

describe("the bench report", () => {
  it("with only the producer group: its table rows, its ratios and targets, nothing else", () => {
    const report = benchReport({
      ...input,
      summary: [
        row("producer", "producer:one-per-request", "one SendMessage at a time", 100),
        row("producer", "producer:sqs-producer", "sqs-producer 8", 500),
        row("producer", "producer:ours", "ours (batch 10, 8 in flight)", 1000),
      ],
    });
    const text = report.lines.join("\n");
    expect(text).not.toMatch(/NaN|Infinity|undefined/);
    expect(text).not.toMatch(/bound|idle|Trickle|20ms|mixed|squiss|drain/);
    expect(Object.keys(report.ratios)).toEqual([
      "producer: ours / one-per-request",
      "producer: ours / sqs-producer",
    ]);
    expect(report.ratios["producer: ours / one-per-request"]).toBe(10);
    expect(report.targets).toEqual({
      "producer ≥ 9 × one-per-request": true,
      "producer ≥ 1.5 × sqs-producer": true,
      "producer at ≤ 0.1 requests per message": false,
    });
    expect(text).toContain("MISSED producer at ≤ 0.1 requests per message");
    expect(text.match(/^(MET|MISSED)/gm)).toHaveLength(3);
  });

  it("a ratio whose second row did not run is left out, and the bound is uncapped without the drain", () => {
    const report = benchReport({
      ...input,
      summary: [row("20ms", "consumer:ours", "ours, concurrency 100", 4000)],
    });
    expect(report.bound).toBe(5000);
    expect(report.ratios).toEqual({ "consumer 20ms: ours / bound": 0.8 });
    expect(report.lines.join("\n")).toContain("not capped (drain not run)");
    expect(report.lines.join("\n")).not.toMatch(/NaN|squiss-ts/);
  });

  it("the drain and c1000 groups: their rate, CPU and memory ratios, and a target for each", () => {
    const at = (base: SummaryRow, cpuSecondsPer1000: number, peakRssMb: number): SummaryRow => ({
      ...base,
      cpuSecondsPer1000,
      peakRssMb,
    });
    const report = benchReport({
      ...input,
      summary: [
        at(row("drain", "consumer:ours", "ours, no handler", 3800), 0.31, 180),
        at(row("drain", "consumer:bare-sdk", "bare SDK", 4000), 0.3, 170),
        at(row("c1000", "consumer:ours", "ours, concurrency 1000", 4600), 0.3, 176),
        at(row("c1000", "consumer:squiss-ts", "squiss-ts, maxInFlight 1000", 4000), 0.3, 175),
      ],
    });
    expect(report.ratios["backlog no-op CPU a message: ours / bare SDK"]).toBeCloseTo(0.31 / 0.3);
    expect(report.ratios["concurrency 1000, peak RSS: ours / squiss-ts"]).toBeCloseTo(176 / 175);
    expect(report.targets).toEqual({
      "backlog no-op ≥ 0.95 × bare SDK": true,
      "backlog no-op CPU a message ≤ 1.05 × bare SDK": true,
      "concurrency 1000 ≥ 1.1 × squiss-ts": true,
      "concurrency 1000 peak RSS ≤ squiss-ts": false,
    });
    expect(report.lines.join("\n")).toContain("MISSED concurrency 1000 peak RSS ≤ squiss-ts");
    // The ratios line up in one column, however long their names.
    const ratioLines = report.lines.filter((line) => / \d+\.\d\d×$/.test(line));
    expect(new Set(ratioLines.map((line) => line.lastIndexOf(" "))).size).toBe(1);
  });

  it("nothing ran: a header and no table, ratio or target", () => {
    const report = benchReport({ ...input, summary: [] });
    expect(report.ratios).toEqual({});
    expect(report.targets).toEqual({});
    expect(report.lines.join("\n")).not.toMatch(/\||NaN|MET|MISSED/);
  });

  it("the idle group alone gives its line and its one target", () => {
    const report = benchReport({ ...input, summary: [], idle: { receives: 2, seconds: 60 } });
    expect(report.targets).toEqual({ "idle: ≤ 3 receives a minute per consumer": true });
    expect(report.lines.join("\n")).toContain("= 2.00 receives/minute");
  });
});
