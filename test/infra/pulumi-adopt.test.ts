/**
 * Adoption into Pulumi, under mocks (the engine hands the mock the `import` option's id):
 * - the original system's queue, through the stack config `npm run infra:adopt` writes: step 1
 *   imports the queue by its URL with its live attributes; step 2 (the map removed) declares the
 *   project's values on the same queue;
 * - this project's own `npm run tf:local` state: every resource the program declares for that
 *   stack gets an import id, and the sets are equal; exported back (`pulumi stack export`'s
 *   shape), it maps onto the same Terraform addresses.
 *
 * The states are `terraform show -json` of real applies on fauxqs (test/fixtures/states/README.md).
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { STEP_ONE_IGNORED } from "../../src/config/adoption.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import {
  planFromPulumiExport,
  planFromTerraform,
  pulumiConfig,
  resourcesFromShow,
} from "../../src/ops/adopt.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { installMocks, type RecordedResource, registered, setStackConfig } from "../support/pulumi-mocks.js";

const resources = installMocks({});

const fixture = (name: string) =>
  JSON.parse(readFileSync(join(projectRoot, "test", "fixtures", "states", name), "utf8"));
const original = fixture("original.json");
const tfLocal = fixture("tf-local.json");
const originalQueue = original.values.root_module.resources[0].values;

/** A stack file's config as the mocks take it: keys without the project's prefix. */
function stackConfig(file: string): Record<string, unknown> {
  const config = parse(readFileSync(file, "utf8")).config as Record<string, unknown>;
  return Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^sqs-messaging:/, ""), v]));
}

/** Runs the program as `name` with `config`; returns the custom resources it declared. */
async function declare(config: Record<string, unknown>, name: string): Promise<RecordedResource[]> {
  setStackConfig(config);
  const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
  await registered(
    infra.queues.queuePolicy,
    infra.queues.deadLetterQueuePolicy,
    infra.queues.redrivePolicy,
    infra.queues.redriveAllowPolicy,
    infra.access?.producerPolicy,
    infra.access?.consumerPolicy,
    infra.access?.operatorPolicy,
    infra.table?.table,
  );
  return resources.filter(
    (r) =>
      r.name.startsWith(`${name}-`) &&
      !r.type.startsWith("pulumi:providers:") &&
      !r.type.startsWith("sqs-messaging:"),
  );
}

const named = (list: RecordedResource[], name: string) => {
  const found = list.find((r) => r.name === name);
  if (!found) throw new Error(`no ${name} among ${list.map((r) => r.name).join(", ")}`);
  return found;
};

describe("the original queue adopted into Pulumi", () => {
  it("step 1 imports the queue by its URL with its live attributes; step 2 declares the project's values", async () => {
    const dir = mkdtempSync(join(tmpdir(), "adopt-pulumi-"));
    const stateFile = join(dir, "original.tfstate");
    // The CLI reads a pulled state; the show -json fixture has the same attributes.
    writeFileSync(
      stateFile,
      JSON.stringify({
        version: 4,
        resources: [
          {
            mode: "managed",
            type: "aws_sqs_queue",
            name: "this",
            instances: [{ schema_version: 0, attributes: originalQueue }],
          },
        ],
      }),
    );
    const written = await runCli(
      "adopt",
      ["--state", stateFile, "--to", "pulumi", "--stack", "prod", "--target-dir", dir],
      { env: cleanEnv() },
    );
    expect(written.code, written.stderr).toBe(0);
    expect(written.stdout).toContain("from = aws_sqs_queue.this");
    const config = stackConfig(join(dir, "Pulumi.prod.yaml"));

    const step1 = await declare(config, "registrations");
    const queue = named(step1, "registrations-queue");
    expect(queue.importId).toBe(originalQueue.url);
    expect(queue.inputs).toMatchObject({
      name: "projeto-sqs",
      delaySeconds: 90,
      maxMessageSize: 2048,
      messageRetentionSeconds: 86400,
      receiveWaitTimeSeconds: 10,
      visibilityTimeoutSeconds: originalQueue.visibility_timeout_seconds,
      fifoQueue: false,
      sqsManagedSseEnabled: originalQueue.sqs_managed_sse_enabled,
    });
    expect(queue.ignoreChanges).toEqual([...STEP_ONE_IGNORED]);
    // Only the queue is adopted: the dead-letter queue, redrive, policies and table are new.
    expect(step1.filter((r) => r.importId).map((r) => r.name)).toEqual(["registrations-queue"]);
    expect(named(step1, "registrations-dlq").inputs.name).toBe("projeto-sqs-dlq");
    const provider = resources.find((r) => r.name === "registrations-aws");
    expect(provider?.inputs.region).toBe("us-west-2");

    // Step 2: `pulumi config rm adopt`.
    const { adopt: _removed, ...step2Config } = config;
    const step2 = await declare(step2Config, "step2");
    const moved = named(step2, "step2-queue");
    expect(moved.importId).toBeUndefined();
    expect(moved.ignoreChanges).toEqual([]);
    expect(moved.inputs).toMatchObject({
      name: "projeto-sqs",
      delaySeconds: settings.queues.delaySeconds,
      maxMessageSize: settings.queues.maximumMessageSizeBytes,
      messageRetentionSeconds: settings.queues.messageRetentionSeconds,
      receiveWaitTimeSeconds: settings.queues.receiveWaitTimeSeconds,
      visibilityTimeoutSeconds: settings.queues.visibilityTimeoutSeconds,
      sqsManagedSseEnabled: true,
    });
  }, 60_000);
});

describe("this project's tf:local state handed over to its Pulumi program", () => {
  const localStack = stackConfig(join(projectRoot, "Pulumi.local.yaml"));
  const state = resourcesFromShow(tfLocal, "tf-local.json");

  it("gives every resource the program declares an import id: the two sets are equal", async () => {
    const plan = planFromTerraform(state, { settings, component: "handover" });
    const declared = await declare({ ...localStack, ...pulumiConfig(plan) }, "handover");
    expect(declared.length).toBe(state.length);
    expect(declared.filter((r) => !r.importId).map((r) => r.name)).toEqual([]);
    const byName = Object.fromEntries(declared.map((r) => [r.name, r.importId]));
    const expected = Object.fromEntries(plan.resources.map((r) => [r.pulumi, r.id]));
    expect(byName).toEqual(expected);
    // Each id is the id of that resource in the Terraform state (a queue's and its policies': a URL).
    expect(new Set(Object.values(byName))).toEqual(new Set(state.map((r) => r.values.id)));
    expect(named(declared, "handover-dlq").inputs.name).toBe("user-registrations-terraform-dlq");

    // And back: the stack, exported, maps onto the same Terraform addresses.
    const exported = {
      deployment: {
        resources: declared.map((r) => ({
          urn: `urn:pulumi:local::sqs-messaging::${r.type}::${r.name}`,
          custom: true,
          type: r.type,
          id: r.outputs.url ?? r.importId,
          outputs: r.outputs,
        })),
      },
    };
    const back = planFromPulumiExport(exported, "export", { settings, component: "handover" });
    expect(back.resources.map((r) => r.terraform).sort()).toEqual(state.map((r) => r.address).sort());
    expect(back.identity).toMatchObject({
      queueName: "user-registrations-terraform",
      deadLetterQueueName: "user-registrations-terraform-dlq",
      createAccessPolicies: false,
      createSentEmailsTable: false,
    });
  }, 60_000);
});

describe("a broken adoption map", () => {
  it("is refused before any resource, with the key and the fix", () => {
    setStackConfig({ adopt: { "registrations-queue": { id: "" } } });
    expect(() => readInfraConfig(new pulumi.Config("sqs-messaging"))).toThrow(
      /sqs-messaging:adopt is not an adoption map \(registrations-queue\.id: .*\): write it with `npm run infra:adopt`, or remove it/,
    );
    setStackConfig({ adopt: { "registrations-queue": { id: "https://q", inputs: { delaySeconds: "90" } } } });
    expect(() => readInfraConfig(new pulumi.Config("sqs-messaging"))).toThrow(
      /sqs-messaging:adopt is not an adoption map/,
    );
  });
});
