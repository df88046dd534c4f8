/**
 * The producer CLI streams its input and reads what other tools write (the producer's half of
 * input compatibility), against a real fauxqs: sending starts before stdin ends, a BOM is not "not
 * JSON", an emoji name arrives intact, --strict on stdin validates everything before sending.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseRegistration } from "../../src/contract/registration.js";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv, cliPath, runCli } from "../support/cli.js";
import { purge, queueDepth, receiveAll, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";

let sqs: TestSqs;
let stateDir: string;

beforeAll(async () => {
  sqs = await startTestSqs();
  stateDir = await mkdtemp(join(tmpdir(), "produce-stream-"));
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
});
afterAll(() => sqs.close());
beforeEach(() => purge(sqs.client, sqs.queueUrl, sqs.deadLetterQueueUrl));

const line = (i: number) => `${JSON.stringify({ nome: `Pessoa ${i}`, email: `p${i}@example.com` })}\n`;

describe("produce streams its input", () => {
  it("sends from a stdin that stays open, before it ends", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", cliPath("produce"), "--file", "-", "--json", "--state-dir", stateDir],
      { env: cleanEnv(), stdio: ["pipe", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      for (let i = 0; i < 20; i++) child.stdin.write(line(i));
      // stdin is still open: the first 20 must arrive anyway.
      await waitFor(
        async () => (await queueDepth(sqs.client, sqs.queueUrl)) >= 20,
        "20 sent with stdin open",
        25_000,
      );
      expect(child.exitCode).toBeNull();
      child.stdin.end(line(20));
      expect(await exited, stderr).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ sent: 21, failed: 0, invalid: 0 });
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("reads a file with a UTF-8 BOM and CRLF line ends, and sends emoji names intact", async () => {
    const file = join(stateDir, "bom.ndjson");
    const names = ["Ana 😀", "Bia 🇧🇷"];
    await writeFile(
      file,
      `\uFEFF${names.map((nome, i) => JSON.stringify({ nome, email: `e${i}@example.com` })).join("\r\n")}\r\n`,
    );
    const result = await runCli("produce", ["--file", file, "--json", "--state-dir", stateDir]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ sent: 2, invalid: 0 });
    const bodies = (await receiveAll(sqs.client, sqs.queueUrl)).map((m) => m.Body ?? "");
    expect(bodies.map((b) => parseRegistration(b).nome).sort()).toEqual(names);
  });

  it("--strict with stdin: validates all of it first (spooled to a temporary file), sends nothing on an invalid line", async () => {
    const input = `${line(1)}${line(2)}{"nome": "no email"}\n${line(4)}`;
    const before = (await readdir(tmpdir())).filter((name) => name.startsWith("produce-stdin-"));
    const result = await runCli("produce", ["--file", "-", "--strict", "--state-dir", stateDir], { input });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("invalid input, line 3");
    expect(result.stderr).toContain("--strict is set: nothing was sent");
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    const after = (await readdir(tmpdir())).filter((name) => name.startsWith("produce-stdin-"));
    expect(after.filter((name) => !before.includes(name))).toEqual([]); // the spool is removed

    const valid = await runCli("produce", ["--file", "-", "--strict", "--json", "--state-dir", stateDir], {
      input: `${line(1)}${line(2)}`,
    });
    expect(valid.code).toBe(0);
    expect(JSON.parse(valid.stdout)).toMatchObject({ sent: 2 });
  });
});
