/**
 * A printed hint repeats the location flags the user gave, so the command it suggests finds the
 * same queue and state folder: `local`'s next steps and `status`'s "inspect with" line, each
 * followed as printed.
 */

import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeOutputs } from "../../src/local/stack.js";
import { runCli, startCli } from "../support/cli.js";
import { startTestSqs, type TestSqs } from "../support/local-sqs.js";

let sqs: TestSqs;
let stateDir: string;

beforeAll(async () => {
  sqs = await startTestSqs();
  // A folder name with a space: the hint must quote it as one shell word.
  stateDir = join(await mkdtemp(join(tmpdir(), "hints-")), "my state");
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
});
afterAll(() => sqs.close());

/** The arguments after `npm run <script> --` in a hint line, split as a shell would. */
function hintedArgs(line: string, script: string): string[] {
  const match = new RegExp(`npm run ${script} -- (.*?)(?:\`|   |$)`).exec(line);
  const words = match?.[1]?.match(/'[^']*'|\S+/g) ?? [];
  return words.map((word) => word.replace(/^'(.*)'$/, "$1"));
}

describe("printed hints repeat the flags given", () => {
  it("status names the dead-letter command with --state-dir, and that command finds the message", async () => {
    await sqs.client.send(new SendMessageCommand({ QueueUrl: sqs.deadLetterQueueUrl, MessageBody: "x" }));
    const status = await runCli("status", ["--state-dir", stateDir]);
    expect(status.code).toBe(3);
    const line = status.stdout.trim().split("\n").at(-1) ?? "";
    const args = hintedArgs(line, "dlq");
    expect(args).toEqual(["list", "--state-dir", stateDir]);
    const listed = await runCli("dlq", [...args, "--json", "--wait-time", "0"]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
  });

  it("local's next steps carry --state-dir", async () => {
    const localState = join(await mkdtemp(join(tmpdir(), "hints-local-")), "a state");
    const local = startCli("local", ["--port", "0", "--state-dir", localState]);
    const lines = createInterface({ input: local.stdout as NodeJS.ReadableStream });
    const next = await new Promise<string>((resolve) => {
      lines.on("line", (line) => {
        if (line.startsWith("Now, in another terminal:")) resolve(line);
      });
    });
    const exited = new Promise((resolve) => local.once("exit", resolve));
    local.kill("SIGTERM");
    await exited;
    expect(hintedArgs(next, "produce")).toEqual(["--count", "100", "--state-dir", localState]);
    expect(hintedArgs(next, "consume")).toEqual(["--until-empty", "--state-dir", localState]);
  });
});
