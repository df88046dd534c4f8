import { InvalidArgumentError, Option } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  newCommand,
  numberInRange,
  parseFlags,
  portNumber,
  printSummary,
  throughput,
  wholeNumber,
} from "../../src/cli/shared.js";
import {
  MAIL_RATE_MAX_PER_SECOND,
  MAIL_RATE_MIN_PER_SECOND,
  MAIL_SEND_TIMEOUT_MAX_MS,
  TIMER_MAX_MS,
  VISIBILITY_MAX_MS,
} from "../../src/config/limits.js";
import { BATCHING_WINDOW_MAX_MS, SHUTDOWN_TIMEOUT_MAX_MS } from "../../src/consumer/runtime/options.js";
import { claimLeaseMs } from "../../src/consumer/store/timing.js";
import { ConfigurationError } from "../../src/errors.js";
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

describe("number ranges, checked at start", () => {
  it("refuses what Number() would quietly accept", () => {
    const count = wholeNumber("--count");
    for (const bad of ["1e30", "", " ", "0x", "2.5", String(2 ** 53)]) {
      expect(() => count(bad), bad).toThrow(InvalidArgumentError);
    }
    expect(count("1e3")).toBe(1000);
  });

  it("ports run from 0 to 65535", () => {
    const port = portNumber("--port");
    expect(port("0")).toBe(0);
    expect(port("65535")).toBe(65_535);
    expect(() => port("65536")).toThrow("--port must be a whole number from 0 to 65535.");
  });

  it("fractional numbers have a range too", () => {
    const rate = numberInRange("--mail-rate", MAIL_RATE_MIN_PER_SECOND, MAIL_RATE_MAX_PER_SECOND);
    expect(rate("3.5")).toBe(3.5);
    for (const bad of ["0", "1e-9", "Infinity", "NaN", "1e9"])
      expect(() => rate(bad), bad).toThrow(/--mail-rate/);
  });

  it("a default taken from an environment variable goes through the flag's parser", () => {
    const program = newCommand("x").addOption(
      new Option("--port <n>", "a port [env SOME_PORT]").argParser(portNumber("--port")).default(70_000),
    );
    expect(() => parseFlags(program, [])).toThrow(ConfigurationError);
    expect(() => parseFlags(program, [])).toThrow(/SOME_PORT="70000" is invalid: --port must be/);
    expect(parseFlags(program, ["--port", "80"])).toEqual({ port: 80 });
  });

  it("every timeout fits in a timer, and the longest send's lease in a message's visibility", () => {
    expect(claimLeaseMs(MAIL_SEND_TIMEOUT_MAX_MS)).toBeLessThanOrEqual(VISIBILITY_MAX_MS);
    expect(claimLeaseMs(MAIL_SEND_TIMEOUT_MAX_MS)).toBeLessThanOrEqual(TIMER_MAX_MS);
    expect(1000 / MAIL_RATE_MIN_PER_SECOND).toBeLessThanOrEqual(TIMER_MAX_MS);
    expect(SHUTDOWN_TIMEOUT_MAX_MS).toBeLessThanOrEqual(TIMER_MAX_MS);
    expect(BATCHING_WINDOW_MAX_MS).toBeLessThanOrEqual(TIMER_MAX_MS);
    // What the brief's 3,000,000,000 ms would have been: a timer Node clamps to 1 ms.
    expect(3_000_000_000).toBeGreaterThan(TIMER_MAX_MS);
  });
});
