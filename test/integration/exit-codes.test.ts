/**
 * The exit-code table (docs/usage.md), walked through the real CLIs: every user error
 * is one line that names the problem and the fix, with the documented code, and no stack trace.
 */
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { startTestSqs, type TestSqs } from "../support/local-sqs.js";
import { smallTmpfs } from "../support/tmpfs.js";

/** A read-only file system (root only; the cases that need it skip themselves otherwise). */
const readOnly = smallTmpfs("1m", { readOnly: true });

let sqs: TestSqs;
let stateDir: string;
let scratch: string;
let busy: Server;
let busyPort: number;
/** Accepts connections, reads requests, never answers. */
let silent: Server;
let silentPort: number;
const silentSockets = new Set<Socket>();

beforeAll(async () => {
  sqs = await startTestSqs();
  stateDir = await mkdtemp(join(tmpdir(), "exit-codes-state-"));
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
  scratch = await mkdtemp(join(tmpdir(), "exit-codes-"));
  await writeFile(join(scratch, "a-file"), "not a folder\n");
  await mkdir(join(scratch, "a-folder"));
  await mkdir(join(scratch, "short-key"));
  await writeFile(join(scratch, "short-key", "digest.key"), "0123456789\n", { mode: 0o600 });
  busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
  busyPort = (busy.address() as { port: number }).port;
  silent = createServer((socket) => {
    silentSockets.add(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  silentPort = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => busy.close(resolve));
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
  readOnly?.unmount();
  await sqs.close();
});

interface Case {
  readonly cli: string;
  readonly args: () => string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly code: number;
  /** The one error line contains this. */
  readonly says: RegExp;
}

const state = () => ["--state-dir", stateDir];
const queue = () => ["--queue-url", sqs.queueUrl];
const consume = (...args: string[]) => ["--until-empty", "--wait-time", "0", ...queue(), ...args];

const cases: Record<string, Case> = {
  "unknown flag": {
    cli: "produce",
    args: () => ["--bogus", ...state()],
    code: 2,
    says: /unknown option '--bogus'.*--help/,
  },
  "bad --count": {
    cli: "produce",
    args: () => ["--count", "many", ...state()],
    code: 2,
    says: /--count must be a whole number/,
  },
  "zero --count": {
    cli: "produce",
    args: () => ["--count", "0", ...state()],
    code: 2,
    says: /--count must be a whole number/,
  },
  "bad --source": {
    cli: "consume",
    args: () => ["--source", "cloud"],
    code: 2,
    says: /Allowed choices are local, pulumi, terraform/,
  },
  "no input": { cli: "produce", args: () => state(), code: 2, says: /Nothing to send: pass --nome/ },
  "bad environment variable": {
    cli: "produce",
    args: () => ["--count", "1"],
    env: { LOG_LEVEL: "loud" },
    code: 2,
    says: /LOG_LEVEL="loud" is invalid/,
  },
  "no local stack": {
    cli: "produce",
    args: () => ["--count", "1", "--state-dir", join(scratch, "empty")],
    code: 2,
    says: /No local stack found.*npm run local/,
  },
  "no local stack (consume)": {
    cli: "consume",
    args: () => ["--state-dir", join(scratch, "empty")],
    code: 2,
    says: /No local stack found/,
  },
  "plain HTTP off loopback": {
    cli: "produce",
    args: () => ["--count", "1", "--queue-url", "http://10.0.0.5:4566/000000000000/q"],
    code: 2,
    says: /Refusing plain HTTP.*Use https:\/\//,
  },
  "--file missing": {
    cli: "produce",
    args: () => ["--file", join(scratch, "missing.ndjson"), ...state()],
    code: 2,
    says: /Cannot read --file .*missing\.ndjson/,
  },
  "--file is a folder": {
    cli: "produce",
    args: () => ["--file", join(scratch, "a-folder"), ...state()],
    code: 2,
    says: /Cannot read --file .*a-folder: it is a folder/,
  },
  "--state-dir through a file": {
    cli: "consume",
    args: () => consume("--state-dir", join(scratch, "a-file", "state")),
    code: 2,
    says: /Cannot use --state-dir .*a-file.*a part of the path is a file/,
  },
  "--outbox under a regular file (would hang --until-empty)": {
    cli: "consume",
    args: () => consume("--state-dir", join(scratch, "s4"), "--outbox", join(scratch, "a-file", "out")),
    code: 2,
    says: /Cannot use --outbox .*a-file.*a part of the path is a file/,
  },
  "--send-timeout past a timer": {
    cli: "consume",
    args: () => consume("--send-timeout", "3000000000"),
    code: 2,
    says: /--send-timeout must be a whole number from 100 to 120000/,
  },
  "--health-port out of range": {
    cli: "consume",
    args: () => consume("--health-port", "70000"),
    code: 2,
    says: /--health-port must be a whole number from 0 to 65535/,
  },
  "a variable out of its flag's range": {
    cli: "consume",
    args: () => consume(),
    env: { CONSUMER_CONCURRENCY: "20000" },
    code: 2,
    says: /CONSUMER_CONCURRENCY="20000" is invalid: --concurrency must be a whole number from 1 to 10000/,
  },
  "a digest.key too short": {
    cli: "consume",
    args: () => consume("--state-dir", join(scratch, "short-key")),
    code: 2,
    says: /digest key in .*short-key\/digest\.key is too short/,
  },
  "a REGISTRATION_DIGEST_KEY of blanks": {
    cli: "produce",
    args: () => ["--count", "1", ...state()],
    env: { REGISTRATION_DIGEST_KEY: " ".repeat(40) },
    code: 2,
    says: /REGISTRATION_DIGEST_KEY=\(hidden\) is invalid \(at least 32 characters that are not blanks\)/,
  },
  "--health-host not an address": {
    cli: "consume",
    args: () => consume("--health-port", "0", "--health-host", "nonsense.invalid"),
    code: 2,
    says: /--health-host must be an IP address of this machine/,
  },
  "local --port out of range": {
    cli: "local",
    args: () => ["--port", "99999", "--state-dir", join(scratch, "s5")],
    code: 2,
    says: /--port must be a whole number from 0 to 65535/,
  },
  "status unknown flag": {
    cli: "status",
    args: () => ["--bogus"],
    code: 2,
    says: /unknown option '--bogus'.*--help/,
  },
  "dlq without a command": { cli: "dlq", args: () => [], code: 2, says: /Missing command: use one of list/ },
  "dlq list bad --wait-time": {
    cli: "dlq",
    args: () => ["list", "--wait-time", "50"],
    code: 2,
    says: /--wait-time must be a whole number from 0 to 20/,
  },
  "dlq list --max past what SQS keeps in flight": {
    cli: "dlq",
    args: () => ["list", "--max", "200000"],
    code: 2,
    says: /--max must be a whole number from 1 to 120000/,
  },
  "forget without --email": {
    cli: "forget",
    args: () => ["--wait-time", "1"],
    code: 2,
    says: /required option '--email <address>' not specified/,
  },
  "forget with an empty --email (would erase nothing and say done)": {
    cli: "forget",
    args: () => ["--email", "", ...state()],
    code: 2,
    says: /--email must be one address/,
  },
  "replace-check without a plan": {
    cli: "replace-check",
    args: () => [],
    code: 2,
    says: /Give one plan file/,
  },
  "demo --consumers past the fleet limit": {
    cli: "demo",
    args: () => ["--consumers", "1000"],
    code: 2,
    says: /--consumers must be a whole number from 1 to 32/,
  },
  "--sent-store is a folder": {
    cli: "consume",
    args: () => consume("--sent-store", join(scratch, "a-folder"), "--outbox", join(scratch, "outbox")),
    code: 2,
    says: /sent-email store cannot be opened.*--sent-store/,
  },
  "--sent-store path too long": {
    cli: "consume",
    args: () => consume("--sent-store", join(scratch, "x".repeat(300), "sent.sqlite")),
    code: 2,
    says: /the path is too long/,
  },
  "health port in use": {
    cli: "consume",
    args: () => [...consume("--state-dir", join(scratch, "s2")), "--health-port", String(busyPort)],
    code: 2,
    says: /Cannot listen on 127\.0\.0\.1:\d+: it is in use/,
  },
  "local SQS port in use": {
    cli: "local",
    args: () => ["--port", String(busyPort), "--state-dir", join(scratch, "s3")],
    code: 2,
    says: /Port \d+ on 127\.0\.0\.1 is in use/,
  },
  "demo bad flag": {
    cli: "demo",
    args: () => ["--count", "-1"],
    code: 2,
    says: /--count must be a whole number/,
  },
  "bench unknown group": {
    cli: "test/bench/run.ts",
    args: () => ["--groups", "producer,nope"],
    code: 2,
    says: /--groups takes producer, .*; not nope/,
  },
  "infra without the Pulumi CLI": {
    cli: "infra",
    args: () => ["preview"],
    env: { PATH: "/nonexistent" }, // no pulumi to find
    code: 2,
    says: /The Pulumi CLI is not installed .*npm run local/,
  },
  "infra:adopt without --to": {
    cli: "adopt",
    args: () => ["--state", join(scratch, "missing.json")],
    code: 2,
    says: /required option '--to <program>' not specified/,
  },
  "tf:local unknown action": {
    cli: "tf-local",
    args: () => ["plan"],
    code: 2,
    says: /Unknown action "plan"/,
  },
  "infra unknown command": {
    cli: "infra",
    args: () => ["plan"],
    code: 2,
    says: /Unknown infra command "plan"/,
  },
  "SQS unreachable": {
    cli: "produce",
    args: () => ["--count", "1", "--queue-url", "http://127.0.0.1:9/000000000000/q"],
    code: 1,
    says: /Cannot reach the local SQS at http:\/\/127\.0\.0\.1:9/,
  },
};

async function expectOneLine(c: Case): Promise<void> {
  const result = await runCli(c.cli, c.args(), { env: cleanEnv(c.env) });
  const errors = result.stderr.split("\n").filter((line) => line.startsWith("error:"));
  expect(result.stderr).not.toMatch(/^\s+at /m); // no stack trace
  expect(errors, result.stderr).toHaveLength(1);
  expect(errors[0]).toMatch(c.says);
  expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
  expect(result.code).toBe(c.code);
}

/** An unwritable state folder, for each command that writes there: refused before any work. */
const readOnlyCases: Record<string, Case> = Object.fromEntries(
  (["local", "produce", "demo"] as const).map((cli) => [
    `${cli}: --state-dir on a read-only file system`,
    {
      cli,
      args: () => [
        ...(cli === "produce" ? ["--count", "1", ...queue()] : cli === "local" ? ["--port", "0"] : []),
        "--state-dir",
        join(readOnly?.dir ?? "", "state"),
      ],
      code: 2,
      says: /Cannot use --state-dir .*: the file system is read-only \(EROFS/,
    },
  ]),
);

describe("exit codes and one-line errors (docs/usage.md, Exit codes)", () => {
  it.each(Object.entries(cases))("%s", async (_, c) => expectOneLine(c));

  it.skipIf(readOnly === undefined).each(Object.entries(readOnlyCases))("%s", async (_, c) =>
    expectOneLine(c),
  );

  // Before, 3 attempts × 30 s: 90 s of nothing. Now each request is bounded by its own long poll
  // plus OPS_ANSWER_TIMEOUT_MS, with one retry (~10 s; the exact timeouts are unit-tested in
  // sqs-client.test.ts); the margin is a child's start on a loaded machine.
  it.concurrent.each(["status", "dlq"])(
    "%s against an endpoint that accepts and never answers ends with one line",
    async (cli) => {
      const started = performance.now();
      const result = await runCli(cli, [
        ...(cli === "dlq" ? ["list"] : []),
        "--queue-url",
        `http://127.0.0.1:${silentPort}/000000000000/q`,
      ]);
      const seconds = (performance.now() - started) / 1000;
      expect(result.stderr.trim().split("\n"), result.stderr).toHaveLength(1);
      expect(result.stderr).toMatch(/^error: Cannot reach the local SQS .*ETIMEDOUT: no answer in time/);
      expect(result.code).toBe(1);
      expect(seconds).toBeLessThan(25);
    },
  );

  it("--help is a success", async () => {
    const result = await runCli("produce", ["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("--file <path>");
  });

  it("invalid input lines exit 1, each reported by line number", async () => {
    const result = await runCli("produce", ["--file", "-", ...state()], {
      input: `${JSON.stringify({ nome: "Ana", email: "nope" })}\n`,
    });
    expect(result.stderr).toContain("invalid input, line 1:");
    expect(result.code).toBe(1);
  });
});
