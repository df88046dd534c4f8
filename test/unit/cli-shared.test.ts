import { afterEach, describe, expect, it, vi } from "vitest";
import { printSummary, throughput, wholeNumber } from "../../src/cli/shared.js";
import { LONG_POLL_MAX_SECONDS } from "../../src/sqs/limits.js";

describe("CLI summaries", () => {
  afterEach(() => vi.restoreAllMocks());

  it("prints one JSON line with --json, the human line otherwise", () => {
    const written: string[] = [];
    vi.spyOn(process.stdout, "write").mockImplementation((text) => written.push(String(text)) > 0);
    const summary = { sent: 3 };
    printSummary({ json: true }, summary, (s) => `sent ${s.sent}`);
    printSummary({}, summary, (s) => `sent ${s.sent}`);
    expect(written).toEqual(['{"sent":3}\n', "sent 3\n"]);
  });

  it("measures seconds since the start and the message rate", () => {
    const started = performance.now() - 2_000;
    const { seconds, messagesPerSecond } = throughput(started, 100);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(messagesPerSecond).toBeLessThanOrEqual(50);
    expect(messagesPerSecond).toBeGreaterThan(40);
  });
});

describe("wholeNumber", () => {
  it("names the flag and the range when a value is outside it", () => {
    const parse = wholeNumber("--wait-time", 0, LONG_POLL_MAX_SECONDS);
    expect(parse("20")).toBe(20);
    expect(() => parse("21")).toThrow("--wait-time must be a whole number from 0 to 20.");
    expect(() => wholeNumber("--count")("0")).toThrow("--count must be a whole number ≥ 1.");
  });
});
