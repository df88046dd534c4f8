/**
 * The store's two durations as the docs state them, read back against the one function that
 * decides them (src/consumer/store/timing.ts). The lease's rule is parsed from
 * docs/email-delivery.md (the fraction of the timeout and the margin's bounds) and checked on
 * timeouts that reach each bound; the default figures in both pages are computed from the code.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recordRetentionMs } from "../../src/config/derived.js";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../../src/config/limits.js";
import { projectRoot } from "../../src/config/paths.js";
import { claimLeaseMs } from "../../src/consumer/store/timing.js";

const read = (path: string) => readFileSync(join(projectRoot, path), "utf8").replace(/\s+/g, " ");
const FRACTIONS: Record<string, number> = {
  "a half": 2,
  "a third": 3,
  "a quarter": 4,
  "a fifth": 5,
  "a tenth": 10,
};
const seconds = (ms: number) => ms / 1000;

describe("the store's timing as the docs state it", () => {
  it("email-delivery.md states the lease's rule, and the code follows it at and between both bounds", () => {
    const rule =
      /lease is the timeout plus (a \w+) of it \(([\d.]+)–([\d.]+) s: ([\d.]+) s at the default\)/.exec(
        read("docs/email-delivery.md"),
      );
    expect(
      rule,
      "email-delivery.md: 'lease is the timeout plus a … of it (A–B s: C s at the default)'",
    ).not.toBeNull();
    const [, fraction = "", low = "", high = "", atDefault = ""] = rule ?? [];
    const divisor = FRACTIONS[fraction];
    expect(divisor, `a fraction this test knows: ${fraction}`).toBeDefined();
    const margin = (timeoutMs: number) =>
      Math.min(Number(high) * 1000, Math.max(Number(low) * 1000, timeoutMs / (divisor ?? 1)));
    // Below the low bound, between the bounds, above the high bound, and the default.
    for (const timeoutMs of [
      100,
      1_000,
      2_000,
      10_000,
      24_000,
      60_000,
      600_000,
      MAIL_SEND_TIMEOUT_DEFAULT_MS,
    ]) {
      expect(claimLeaseMs(timeoutMs), `lease for a ${timeoutMs} ms timeout`).toBe(
        timeoutMs + margin(timeoutMs),
      );
    }
    expect(Number(atDefault)).toBe(seconds(claimLeaseMs(MAIL_SEND_TIMEOUT_DEFAULT_MS)));
  });

  it("usage.md's default timeout, margin and record retention are the code's", () => {
    const usage = read("docs/usage.md");
    const lease =
      /The lease is the mail send timeout plus a margin \(`--send-timeout`, ([\d.]+) s \+ ([\d.]+) s;/.exec(
        usage,
      );
    expect(
      lease,
      "usage.md: 'The lease is the mail send timeout plus a margin (`--send-timeout`, A s + B s;'",
    ).not.toBeNull();
    expect(Number(lease?.[1])).toBe(seconds(MAIL_SEND_TIMEOUT_DEFAULT_MS));
    expect(Number(lease?.[1]) + Number(lease?.[2])).toBe(seconds(claimLeaseMs(MAIL_SEND_TIMEOUT_DEFAULT_MS)));
    const retention = /retention \+ one day for a redrive \(([\d.]+) days with today's settings\)/.exec(
      usage,
    );
    expect(retention, "usage.md: '(N days with today's settings)'").not.toBeNull();
    expect(Number(retention?.[1])).toBe(recordRetentionMs() / 86_400_000);
  });
});
