/**
 * Stateful resources kept: the replace check (src/stack/replace-check.ts, run by the CLI the
 * pipeline runs) fails on Terraform's own plan when a queue's name changes — in the data file or
 * by a variable — and passes on the unchanged plan; it reads Pulumi's preview the same way; and
 * the Pulumi program keeps its queues on delete on AWS (not on an emulator).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import { checkPlanText, destructiveChanges, REPLACE_CHECK_EXIT } from "../../src/stack/replace-check.js";
import { type Plan, type PlanCase, planAll } from "../support/parity.js";
import { ACCOUNT, installMocks, registered, setStackConfig } from "../support/pulumi-mocks.js";
import { pluginMirror, terraform } from "../support/terraform.js";

const run = promisify(execFile);
const tsx = join(projectRoot, "node_modules", ".bin", "tsx");
const cli = join(projectRoot, "src", "cli", "replace-check.ts");

/** The CLI as the pipeline runs it, on a plan file: its exit code and its lines. */
async function replaceCheck(plan: unknown): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = join(mkdtempSync(join(tmpdir(), "replace-check-")), "plan.json");
  writeFileSync(file, JSON.stringify(plan));
  try {
    const { stdout, stderr } = await run(tsx, [cli, file], { cwd: projectRoot });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const q = settings.queues;
const region = settings.stack.region;
const queueState = (name: string) => ({
  name,
  url: `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${name}`,
  arn: `arn:aws:sqs:${region}:${ACCOUNT}:${name}`,
  fifo: false,
});
/**
 * The queues as deployed from the data file: the state every case plans from, at the addresses
 * stacks applied before modules/queue-pair have them (the `moved` blocks take them into it).
 */
const deployed: PlanCase["queues"] = {
  "aws_sqs_queue.main": queueState(q.queueName),
  "aws_sqs_queue.dead_letter": queueState(q.deadLetterQueueName),
};
// Offline (-refresh=false, the endpoint's skip flags); the SQS-only stack keeps the plan small.
const base = { endpoint: "http://127.0.0.1:4566", createAccessPolicies: false, createSentEmailsTable: false };

describe.skipIf(!terraform)("the replace check on Terraform's plan", () => {
  let plan: Plan;
  /** One case's part of the shared plan, as `terraform show -json` prints a plan of its own. */
  const partOf = (caseName: string) => ({
    format_version: plan.json.format_version,
    resource_changes: (plan.json.resource_changes as { module_address?: string }[]).filter(
      (change) =>
        change.module_address === `module.${plan.calls[caseName]}` ||
        String(change.module_address).startsWith(`module.${plan.calls[caseName]}.`),
    ),
  });

  beforeAll(async () => {
    plan = await planAll(
      {
        unchanged: { config: base, queues: deployed },
        "queue renamed by a variable": {
          config: { ...base, queueName: `${q.queueName}-v2` },
          queues: deployed,
        },
        "dead-letter queue renamed in the data file": {
          config: base,
          queues: deployed,
          edit: (dir) => {
            const file = join(dir, "settings.json");
            const data = JSON.parse(readFileSync(file, "utf8"));
            data.queues.deadLetterQueueName = `${q.deadLetterQueueName}-v2`;
            writeFileSync(file, JSON.stringify(data));
          },
        },
      },
      { terraformVersion: terraform ?? "", pluginMirror, workspaceName: "replace-check" },
    );
  }, 300_000);

  it("passes the unchanged plan (exit 0)", async () => {
    const part = partOf("unchanged");
    expect(part.resource_changes.length).toBeGreaterThan(0);
    const result = await replaceCheck(part);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(REPLACE_CHECK_EXIT.ok);
  });

  it("fails a plan that renames the main queue by a variable, naming it in one line (exit 1)", async () => {
    const result = await replaceCheck(partOf("queue renamed by a variable"));
    expect(result.code).toBe(REPLACE_CHECK_EXIT.destructive);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `module.${plan.calls["queue renamed by a variable"]}.module.registrations.aws_sqs_queue.main`,
    );
    expect(lines[0]).toContain("would replace");
  });

  it("fails a plan whose data file renames the dead-letter queue", async () => {
    const result = await replaceCheck(partOf("dead-letter queue renamed in the data file"));
    expect(result.code).toBe(REPLACE_CHECK_EXIT.destructive);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringContaining("aws_sqs_queue.dead_letter (a queue"),
    ]);
  });
});

describe("the replace check's reading of plans", () => {
  it("counts a Terraform delete of the table, ignores replaced policies", () => {
    const plan = {
      format_version: "1.2",
      resource_changes: [
        {
          address: "aws_dynamodb_table.sent_emails[0]",
          mode: "managed",
          type: "aws_dynamodb_table",
          change: { actions: ["delete"] },
        },
        {
          address: "aws_sqs_queue_policy.main",
          mode: "managed",
          type: "aws_sqs_queue_policy",
          change: { actions: ["delete", "create"] },
        },
        {
          address: "aws_sqs_queue.main",
          mode: "managed",
          type: "aws_sqs_queue",
          change: { actions: ["update"] },
        },
      ],
    };
    expect(destructiveChanges(plan)).toEqual([
      {
        address: "aws_dynamodb_table.sent_emails[0]",
        type: "aws_dynamodb_table",
        change: "delete",
        what: "the sent-email table",
      },
    ]);
  });

  it("reads `pulumi preview --json`: a replaced queue under its component, once", () => {
    const urn =
      "urn:pulumi:dev::sqs-messaging::sqs-messaging:index:QueuePair$aws:sqs/queue:Queue::registrations-queue";
    const preview = {
      steps: [
        { op: "same", urn: "urn:pulumi:dev::sqs-messaging::pulumi:pulumi:Stack::sqs-messaging-dev" },
        { op: "create-replacement", urn },
        { op: "replace", urn },
        { op: "delete-replaced", urn },
        {
          op: "replace",
          urn: "urn:pulumi:dev::sqs-messaging::sqs-messaging:index:QueuePair$aws:sqs/queuePolicy:QueuePolicy::p",
        },
      ],
    };
    expect(destructiveChanges(preview)).toEqual([
      { address: urn, type: "aws:sqs/queue:Queue", change: "replace", what: "a queue" },
    ]);
    expect(checkPlanText(JSON.stringify({ steps: [] }))).toEqual({ code: REPLACE_CHECK_EXIT.ok, lines: [] });
  });

  it("refuses what is not a plan (exit 2), in one line", () => {
    expect(checkPlanText("not json").code).toBe(REPLACE_CHECK_EXIT.usage);
    const other = checkPlanText(JSON.stringify({ hello: "world" }));
    expect(other.code).toBe(REPLACE_CHECK_EXIT.usage);
    expect(other.lines).toHaveLength(1);
  });
});

describe("the Pulumi program keeps its queues", () => {
  const recorded = new Map<string, boolean | undefined>();
  beforeAll(async () => {
    installMocks({});
    const { QueuePair } = await import("../../infra-pulumi/queue-pair.js");
    // A transformation sees each child's final options (children inherit it from the component).
    const record: pulumi.ResourceTransformation = (args) => {
      recorded.set(args.name, args.opts.retainOnDelete);
      return undefined;
    };
    const pairs = [true, false].map(
      (retainOnDelete) =>
        new QueuePair(
          `keep-${retainOnDelete}`,
          { settings: q, retainOnDelete },
          { transformations: [record] },
        ),
    );
    await registered(...pairs.flatMap((p) => [p.queue, p.deadLetterQueue, p.queuePolicy]));
  });

  it("retains both queues on delete when asked, and only the queues", () => {
    expect(recorded.get("keep-true-queue")).toBe(true);
    expect(recorded.get("keep-true-dlq")).toBe(true);
    expect(recorded.get("keep-true-queue-policy")).not.toBe(true);
    expect(recorded.get("keep-false-queue")).toBe(false);
  });

  it("asks for it on AWS and not on an emulator (program.ts)", async () => {
    const { createInfrastructure } = await import("../../infra-pulumi/program.js");
    const { readInfraConfig } = await import("../../infra-pulumi/config.js");
    for (const [name, config] of [
      ["aws", {}],
      ["emulator", { endpoint: "http://127.0.0.1:4566" }],
    ] as const) {
      setStackConfig(config);
      const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
      expect(infra.queues.retainOnDelete, name).toBe(name === "aws");
      await registered(infra.queues.queue);
    }
  });
});
