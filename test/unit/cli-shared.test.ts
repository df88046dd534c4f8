import { afterEach, describe, expect, it, vi } from "vitest";
import { printSummary, throughput } from "../../src/cli/shared.js";

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
