/**
 * `npm run infra:adopt` refuses what it cannot adopt safely: one line on stderr that names the
 * problem and the way out, exit code 2, and nothing written. Each refusal through the real CLI.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { terraform } from "../support/terraform.js";

const originalQueue = JSON.parse(
  readFileSync(join(projectRoot, "test", "fixtures", "states", "original.json"), "utf8"),
).values.root_module.resources[0].values as Record<string, unknown>;

/** A pulled state (version 4) with these resources: [type, name, attributes]. */
function stateFile(resources: [string, string, Record<string, unknown>][]): string {
  const dir = mkdtempSync(join(tmpdir(), "adopt-cli-"));
  const file = join(dir, "pulled.tfstate");
  writeFileSync(
    file,
    JSON.stringify({
      version: 4,
      resources: resources.map(([type, name, attributes]) => ({
        mode: "managed",
        type,
        name,
        instances: [{ schema_version: 0, attributes }],
      })),
    }),
  );
  return file;
}

const queue = (name: string, extra: Record<string, unknown> = {}) => ({
  ...originalQueue,
  name,
  url: `http://127.0.0.1:4566/000000000000/${name}`,
  id: `http://127.0.0.1:4566/000000000000/${name}`,
  arn: `arn:aws:sqs:us-west-2:000000000000:${name}`,
  ...extra,
});

/** Runs the CLI into a fresh target folder; returns the result and whether anything was written. */
async function adopt(args: string[], prepare?: (target: string) => void) {
  const target = mkdtempSync(join(tmpdir(), "adopt-target-"));
  prepare?.(target);
  const result = await runCli("adopt", [...args, "--target-dir", target], { env: cleanEnv() });
  return { ...result, wrote: existsSync(join(target, "adopt.tf")) };
}

function expectRefusal(result: { code: number | null; stderr: string; wrote: boolean }, pattern: RegExp) {
  expect(result.code, result.stderr).toBe(2);
  expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
  expect(result.wrote).toBe(false);
}

describe("infra:adopt refusals (one line, exit 2, nothing written)", () => {
  it("adopts a good state (the control: the refusals below differ from it in one thing)", async () => {
    const result = await adopt([
      "--state",
      stateFile([["aws_sqs_queue", "this", queue("projeto-sqs")]]),
      "--to",
      "terraform",
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.wrote).toBe(true);
  });

  it("the original state holds something it cannot map", async () => {
    const file = stateFile([
      ["aws_sqs_queue", "this", queue("projeto-sqs")],
      ["aws_sns_topic", "alerts", { id: "arn:aws:sns:us-west-2:000000000000:alerts" }],
    ]);
    expectRefusal(
      await adopt(["--state", file, "--to", "terraform"]),
      /holds aws_sns_topic\.alerts, which this tool cannot map/,
    );
  });

  it("the original state holds a second queue", async () => {
    const file = stateFile([
      ["aws_sqs_queue", "this", queue("projeto-sqs")],
      ["aws_sqs_queue", "other", queue("projeto-sqs-2")],
    ]);
    expectRefusal(
      await adopt(["--state", file, "--to", "terraform"]),
      /holds aws_sqs_queue\.other, which this tool cannot map/,
    );
  });

  it("a FIFO/standard mismatch with the target stack", async () => {
    const file = stateFile([["aws_sqs_queue", "this", queue("projeto-sqs")]]);
    const result = await adopt(["--state", file, "--to", "pulumi", "--stack", "prod"], (target) =>
      writeFileSync(join(target, "Pulumi.prod.yaml"), "config:\n  sqs-messaging:fifo: true\n"),
    );
    expectRefusal(
      result,
      /standard queue but the target stack declares fifo = true: a FIFO\/standard mismatch/,
    );
  });

  it("a FIFO/standard mismatch inside the state (a .fifo name on a standard queue)", async () => {
    const file = stateFile([["aws_sqs_queue", "this", queue("projeto-sqs.fifo", { fifo_queue: false })]]);
    expectRefusal(await adopt(["--state", file, "--to", "terraform"]), /FIFO\/standard mismatch/);
  });

  it("a name the settings cannot keep (no room for the dead-letter queue's -dlq)", async () => {
    const file = stateFile([["aws_sqs_queue", "this", queue("q".repeat(78))]]);
    expectRefusal(
      await adopt(["--state", file, "--to", "terraform"]),
      /cannot be kept by the settings: deadLetterQueueName "q{78}-dlq" is not a valid queue name/,
    );
  });

  it("an unreadable state: missing, not JSON, not a state", async () => {
    expectRefusal(
      await adopt(["--state", "/nonexistent/pulled.tfstate", "--to", "terraform"]),
      /cannot read the state/,
    );
    const dir = mkdtempSync(join(tmpdir(), "adopt-bad-"));
    writeFileSync(join(dir, "a"), "not json");
    expectRefusal(await adopt(["--state", join(dir, "a"), "--to", "terraform"]), /is not JSON/);
    writeFileSync(join(dir, "b"), '{"values": {}}');
    expectRefusal(await adopt(["--state", join(dir, "b"), "--to", "terraform"]), /is not a Terraform state/);
  });

  it("an unreadable terraform dir: not a folder", async () => {
    expectRefusal(
      await adopt(["--terraform-dir", "/nonexistent/dir", "--to", "terraform"]),
      /is not a folder/,
    );
  });

  it.skipIf(!terraform)("a terraform dir without a state", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adopt-empty-"));
    mkdirSync(join(dir, "sub"));
    expectRefusal(await adopt(["--terraform-dir", dir, "--to", "terraform"]), /holds no queue/);
  });

  it("usage: no source, two sources, --to pulumi without --stack, no --to", async () => {
    expectRefusal(
      await adopt(["--to", "terraform"]),
      /give one of --terraform-dir, --state or --from-pulumi/,
    );
    expectRefusal(
      await adopt(["--state", "a", "--terraform-dir", "b", "--to", "terraform"]),
      /give one of --terraform-dir/,
    );
    expectRefusal(await adopt(["--state", "a", "--to", "pulumi"]), /--to pulumi needs --stack/);
    expectRefusal(await adopt(["--state", "a"]), /--to/);
  });
});
