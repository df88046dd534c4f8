/**
 * The CLIs as a user runs them: child processes (test/support/cli.ts), against a real fauxqs in
 * this process. Every failure path ends in one clear message and a non-zero exit.
 */
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv, runCli, startCli } from "../support/cli.js";
import { runConsumeApp } from "../support/consume-app.js";
import { fakeCli } from "../support/fake-cli.js";
import { purge, queueDepth, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";

let sqs: TestSqs;
let stateDir: string;

beforeAll(async () => {
  sqs = await startTestSqs();
  stateDir = await mkdtemp(join(tmpdir(), "cli-state-"));
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
});
afterAll(() => sqs.close());
beforeEach(() => purge(sqs.client, sqs.queueUrl, sqs.deadLetterQueueUrl));

const withState = (...args: string[]) => [...args, "--state-dir", stateDir];

describe("produce", () => {
  it("sends one registration from flags and prints a JSON summary", async () => {
    const result = await runCli(
      "produce",
      withState("--nome", "Ana Lúcia", "--email", "ana@example.com", "--json"),
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 1, failed: 0, invalid: 0, requests: 2 });
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(1);
  });

  it("rejects an invalid email before sending anything", async () => {
    const result = await runCli("produce", withState("--nome", "Ana", "--email", "not-an-email"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("invalid input, line 1: email must be a valid email address");
    expect(result.stderr).toContain("nothing was sent");
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it("reports invalid NDJSON lines by number, sends the valid ones, and exits non-zero", async () => {
    const lines = [
      JSON.stringify({ nome: "Ana", email: "ana@example.com" }),
      "{not json",
      JSON.stringify({ nome: "Sem Email" }),
      "",
      JSON.stringify({ nome: "Bia", email: "bia@example.com", bio: "x".repeat(20_000) }),
      JSON.stringify({ nome: "Caio", email: "caio@example.com" }),
    ].join("\n");
    const result = await runCli("produce", withState("--file", "-", "--json"), { input: lines });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("invalid input, line 2: not JSON");
    expect(result.stderr).toContain("invalid input, line 3: email");
    expect(result.stderr).toMatch(
      /invalid input, line 5: body is \d+ bytes; the queue accepts at most 16384/,
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 2, invalid: 3, failed: 0 });
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(2);
  });

  it("sends nothing with --strict when a line is invalid", async () => {
    const file = join(stateDir, "input.ndjson");
    await writeFile(file, `${JSON.stringify({ nome: "Ana", email: "ana@example.com" })}\n{"nome": "X"}\n`);
    const result = await runCli("produce", withState("--file", file, "--strict"));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("invalid input, line 2");
    expect(result.stderr).toContain("--strict is set: nothing was sent");
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it.each([
    [["--bogus"], "unknown option '--bogus'", 2],
    [[], "Nothing to send: pass --nome NAME --email ADDRESS, --count N, or --file FILE", 2],
    [["--count", "0"], "--count must be a whole number ≥ 1", 2],
    [["--count", "2", "--nome", "Ana"], "Choose one input", 2],
    [["--nome", "Ana"], "--nome and --email go together", 2],
    [
      ["--count", "2", "--source", "cloud"],
      "argument 'cloud' is invalid. Allowed choices are local, pulumi, terraform",
      2,
    ],
    [["--file", "/nonexistent/input.ndjson"], "Cannot read --file /nonexistent/input.ndjson", 2],
  ])("refuses %j with a clear message", async (args, message, code) => {
    const result = await runCli("produce", withState(...args));
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(code);
    expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
  });

  it("says to start the local stack when there is none", async () => {
    const empty = await mkdtemp(join(tmpdir(), "no-stack-"));
    const result = await runCli("produce", ["--count", "1", "--state-dir", empty]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("No local stack found");
    expect(result.stderr).toContain("npm run local");
  });

  it("says the local SQS is not running when its endpoint does not answer", async () => {
    const result = await runCli("produce", [
      "--count",
      "1",
      "--queue-url",
      "http://127.0.0.1:9/000000000000/q",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Cannot reach the local SQS at http://127.0.0.1:9");
    expect(result.stderr).toContain("npm run local");
  });

  it("says how to configure credentials for real AWS when there are none", async () => {
    const none = join(stateDir, "none");
    const env = cleanEnv({
      AWS_CONFIG_FILE: none,
      AWS_SHARED_CREDENTIALS_FILE: none,
      AWS_EC2_METADATA_DISABLED: "true",
    });
    const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations";
    const result = await runCli("produce", ["--count", "1", "--queue-url", queueUrl], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`No AWS credentials found to send messages on ${queueUrl}`);
    expect(result.stderr).toContain("AWS_PROFILE");
  });

  it("reads a bad environment variable once and names it", async () => {
    const result = await runCli("produce", ["--count", "1"], { env: cleanEnv({ QUEUE_SOURCE: "cloud" }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('QUEUE_SOURCE="cloud" is invalid');
  });

  it("finds the queue through `pulumi stack output` when asked to", async () => {
    const pulumi = await fakeCli("pulumi", { stdout: JSON.stringify(sqs.stack.outputs) });
    const env = cleanEnv({ PATH: `${pulumi.dir}${delimiter}${process.env.PATH}` });
    const result = await runCli(
      "produce",
      ["--count", "3", "--source", "pulumi", "--stack", "local", "--json"],
      { env },
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 3, queueUrl: sqs.queueUrl });
    expect((await pulumi.calls())[0]?.args).toEqual([
      "stack",
      "output",
      "--json",
      "--show-secrets",
      "--stack",
      "local",
    ]);
  });
});

describe("consume refuses bad input", () => {
  it.each([
    [["--bogus"], "unknown option '--bogus'", 2],
    [["--concurrency", "0"], "--concurrency must be a whole number from 1 to 10000", 2],
    [
      ["--queue-url", "http://127.0.0.1:9/000000000000/q"],
      "Cannot reach the local SQS at http://127.0.0.1:9",
      1,
    ],
    [["--queue-url", "nope"], '"nope" is not a URL', 2],
  ])("%j", async (args, message, code) => {
    const result = await runConsumeApp(withState(...args));
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(code);
  });

  it("says to start the local stack when there is none", async () => {
    const empty = await mkdtemp(join(tmpdir(), "no-stack-"));
    const result = await runConsumeApp(["--until-empty", "--state-dir", empty]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("npm run local");
  });
});

describe("produce then consume through the local stack outputs", () => {
  it("delivers 100 generated registrations into 100 welcome emails", async () => {
    const produced = await runCli("produce", withState("--count", "100", "--json"));
    expect(produced.code).toBe(0);
    expect(JSON.parse(produced.stdout)).toMatchObject({ sent: 100, requests: 11 });

    const outbox = await mkdtemp(join(tmpdir(), "outbox-"));
    const consumed = await runConsumeApp(withState("--until-empty", "--json", "--outbox", outbox));
    expect(consumed.code).toBe(0);
    expect(JSON.parse(consumed.stdout)).toMatchObject({
      processed: 100,
      failed: 0,
      deadLettered: 0,
      emailsSent: 100,
      duplicatesSkipped: 0,
      outbox,
    });
    expect((await readdir(outbox)).filter((f) => f.endsWith(".eml"))).toHaveLength(100);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it("sends one email per registration when the same registrations arrive twice", async () => {
    // One after the other: two copies in flight at once are handed back until the first one's
    // claim ends (the handler's unit tests cover that), which --until-empty would not wait for.
    const outbox = await mkdtemp(join(tmpdir(), "outbox-"));
    const summaries = [];
    for (let i = 0; i < 2; i++) {
      expect((await runCli("produce", withState("--count", "5", "--seed", "9"))).code).toBe(0);
      const consumed = await runConsumeApp(withState("--until-empty", "--json", "--outbox", outbox));
      summaries.push(JSON.parse(consumed.stdout));
    }
    expect(summaries[0]).toMatchObject({ processed: 5, emailsSent: 5, duplicatesSkipped: 0 });
    expect(summaries[1]).toMatchObject({ processed: 5, emailsSent: 0, duplicatesSkipped: 5 });
    expect((await readFile(join(outbox, "sent.log"), "utf8")).trim().split("\n")).toHaveLength(5);
  }, 60_000); // four CLI runs

  it("stops after --max-messages", async () => {
    await runCli("produce", withState("--count", "30", "--seed", "2"));
    const outbox = await mkdtemp(join(tmpdir(), "outbox-"));
    const consumed = await runConsumeApp(
      withState("--max-messages", "10", "--concurrency", "10", "--json", "--outbox", outbox),
    );
    expect(consumed.code).toBe(0);
    expect(JSON.parse(consumed.stdout)).toMatchObject({ received: 10, processed: 10 });
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(20);
  });

  it("finishes in-flight work on SIGTERM, exits 0 and loses nothing", async () => {
    await runCli("produce", withState("--count", "400", "--seed", "3"));
    const outbox = await mkdtemp(join(tmpdir(), "outbox-"));
    const child = startCli("consume", withState("--json", "--outbox", outbox, "--concurrency", "10"));
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    await waitFor(async () => (await readdir(outbox).catch(() => [])).length >= 20, "some emails written");
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const summary = JSON.parse(stdout);
    const left = await queueDepth(sqs.client, sqs.queueUrl);
    expect(summary.processed).toBeGreaterThan(0);
    expect(summary.processed + left).toBe(400);
  });

  it("moves a hand-written invalid message to the dead-letter queue", async () => {
    const { SendMessageCommand } = await import("@aws-sdk/client-sqs");
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: "oops" }));
    const consumed = await runConsumeApp(withState("--until-empty", "--json", "--outbox", stateDir));
    expect(JSON.parse(consumed.stdout)).toMatchObject({ processed: 0, deadLettered: 1 });
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(1);
  });
});

describe("infra scripts", () => {
  it("says how to install Pulumi when the CLI is missing, and exits 2", async () => {
    const empty = await mkdtemp(join(tmpdir(), "empty-path-"));
    const result = await runCli("infra", ["preview"], { env: cleanEnv({ PATH: empty }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("The Pulumi CLI is not installed");
  });

  it("runs `pulumi up` for PULUMI_STACK from the project root and passes its exit code on", async () => {
    const pulumi = await fakeCli("pulumi", { exitCode: 3 });
    const env = cleanEnv({ PATH: `${pulumi.dir}${delimiter}${process.env.PATH}`, PULUMI_STACK: "dev" });
    const result = await runCli("infra", ["up", "--yes"], { env });
    expect(result.code).toBe(3);
    expect((await pulumi.calls())[0]?.args).toEqual(["up", "--stack", "dev", "--yes"]);
  });
});

describe("tf:local", () => {
  it("says to start the local stack first when there is none", async () => {
    const empty = await mkdtemp(join(tmpdir(), "no-stack-"));
    const result = await runCli("tf-local", ["--state-dir", empty]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("npm run local");
  });

  it("refuses an unknown action", async () => {
    const result = await runCli("tf-local", ["plan"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown action "plan": use apply or destroy');
  });
});

describe("demo", () => {
  it("runs the whole job on the embedded SQS: 1,000 produced, 1,000 processed, 0 dead-lettered", async () => {
    const demoState = await mkdtemp(join(tmpdir(), "demo-"));
    const result = await runCli("demo", ["--json", "--state-dir", demoState]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      sent: 1000,
      sendFailed: 0,
      processed: 1000,
      deadLettered: 0,
      secondSends: 0,
      leftInQueue: 0,
      leftInDeadLetterQueue: 0,
      outbox: join(demoState, "demo-outbox"),
    });
    expect((await readdir(summary.outbox)).filter((f) => f.endsWith(".eml"))).toHaveLength(1000);
  });

  it("--runtime lambda: the same summary through the Lambda handler and the local event source mapping, 0 duplicates, 0 lost", async () => {
    const demoState = await mkdtemp(join(tmpdir(), "demo-lambda-"));
    const result = await runCli("demo", [
      "--runtime",
      "lambda",
      "--count",
      "50",
      "--json",
      "--state-dir",
      demoState,
    ]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout);
    expect(summary).toMatchObject({
      runtime: "lambda",
      sent: 50,
      processed: 50,
      deadLettered: 0,
      duplicates: 0,
      lost: 0,
      leftInQueue: 0,
      leftInDeadLetterQueue: 0,
    });
    expect((await readdir(summary.outbox)).filter((f) => f.endsWith(".eml"))).toHaveLength(50);
  });
});
