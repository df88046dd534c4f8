/**
 * The consume CLI as a child process with `--mailer smtp`, against a real SMTP server on
 * 127.0.0.1: one mail per registration although every registration is sent twice and a consumer
 * is killed mid-drain; the send rate seen by the server; the outbox refused on a production queue.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv, runCli, startCli } from "../support/cli.js";
import { runConsumeApp } from "../support/consume-app.js";
import { purge, queueDepth, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";
import { startTestSmtp, type TestSmtp } from "../support/smtp.js";
import { smallestBurst } from "../support/windows.js";

let sqs: TestSqs;
let smtp: TestSmtp;
let stateDir: string;

beforeAll(async () => {
  // A short visibility: the killed consumer's messages come back within the test.
  sqs = await startTestSqs({ visibilityTimeoutSeconds: 2 });
  smtp = await startTestSmtp();
  stateDir = await mkdtemp(join(tmpdir(), "mail-cli-"));
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
});
afterAll(async () => {
  await smtp.close();
  await sqs.close();
});
beforeEach(async () => {
  await purge(sqs.client, sqs.queueUrl, sqs.deadLetterQueueUrl);
  smtp.received.length = 0;
});

const withState = (...args: string[]) => [...args, "--state-dir", stateDir];
// A 1 s send timeout keeps the claim lease at 3 s, so a dead consumer's claims lapse quickly.
const env = () => cleanEnv({ MAIL_SEND_TIMEOUT_MS: "1000" });

describe("consume --mailer smtp", () => {
  it("one mail per registration: each sent twice, a consumer SIGKILLed mid-drain, then another", async () => {
    const count = 40;
    for (let i = 0; i < 2; i++) {
      expect((await runCli("produce", withState("--count", String(count), "--seed", "12"))).code).toBe(0);
    }
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(2 * count);
    const smtpArgs = ["--mailer", "smtp", "--smtp-url", smtp.url, "--concurrency", "4", "--mail-rate", "25"];
    const killed = startCli("consume", withState(...smtpArgs), env());
    await waitFor(() => smtp.received.length >= 10, "some mails delivered by the first consumer");
    const exited = new Promise((resolve) => killed.once("exit", resolve));
    killed.kill("SIGKILL");
    await exited;
    const atKill = smtp.received.length;
    expect(atKill).toBeLessThan(count);
    // Runs until the queue is empty: the killed consumer's messages come back after 2 s.
    await waitFor(
      async () => {
        const run = await runConsumeApp(withState("--until-empty", "--json", ...smtpArgs), {
          env: env(),
        });
        // Warnings are expected (a claim the killed consumer left is waited out); failures are not.
        expect(run.code).toBe(0);
        expect(run.stderr).not.toMatch(/@example|"level":50/);
        return (await queueDepth(sqs.client, sqs.queueUrl)) === 0;
      },
      "the queue drained",
      30_000,
    );
    const ids = new Set(smtp.received.map((r) => r.messageId));
    expect(ids.size).toBe(count);
    // A mail the server took in the instant before the kill, before its claim was marked sent, is
    // sent again (its Message-ID is the same, so a mailbox keeps one): at most the kill's in-flight.
    expect(smtp.received.length - count).toBeLessThanOrEqual(4);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  }, 60_000);

  it("the server sees the sends paced by --mail-rate: a token bucket of that rate, its burst plus a latency allowance", async () => {
    const rate = 1;
    const count = 6;
    expect((await runCli("produce", withState("--count", String(count), "--seed", "13"))).code).toBe(0);
    const run = await runConsumeApp(
      withState(
        "--until-empty",
        "--json",
        "--mailer",
        "smtp",
        "--smtp-url",
        smtp.url,
        "--mail-rate",
        String(rate),
      ),
      // The default send timeout: a send slowed by a loaded machine is not cut off as ambiguous.
      { env: cleanEnv() },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ emailsSent: count, secondSends: 0 });
    expect(smtp.received).toHaveLength(count);
    // Each send opens its own connection after taking its token, so the server's accept times
    // are the token times plus the claim and the connect. The consumer's bucket (capacity 1) lets
    // any span of T seconds hold at most rate × T + 1 tokens; a latency from token to connection
    // that varies by up to L seconds moves at most rate × L more connections into a span. L = 1 s
    // is far above what a loaded 2-core machine adds here (measured: under 0.4 s with two busy
    // loops beside the test). Unpaced, the 6 sends come within a fraction of a second: about 6.
    const bucketBurst = 1;
    const latencyAllowanceSeconds = 1;
    expect(
      smallestBurst(
        smtp.received.map((r) => r.connectedAt),
        rate,
      ),
    ).toBeLessThanOrEqual(bucketBurst + rate * latencyAllowanceSeconds);
  }, 60_000);

  it("refuses the outbox on a production queue, in one line, exit 2", async () => {
    const result = await runConsumeApp(
      ["--until-empty", "--queue-url", "https://sqs.us-east-1.amazonaws.com/123456789012/registrations"],
      { env: cleanEnv({ AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" }) },
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/Refusing the outbox mailer on a production queue/);
  });

  it("a bad SMTP URL is one line that never repeats the password", async () => {
    const result = await runConsumeApp(
      withState("--until-empty", "--mailer", "smtp", "--smtp-url", "smtpx://user:hunter2@mail.example.com"),
      { env: env() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("smtpx://***@mail.example.com");
    expect(result.stderr).not.toContain("hunter2");
  });
});
