/**
 * Terraform and Pulumi describe the same infrastructure: every queue argument, the redrive and
 * redrive-allow policies, the queue policies, the IAM documents, the provider's assumed role and
 * tags, the variable defaults and the output names — under several configurations. And the
 * comparison is not blind: changing one value on either side makes it fail.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { projectRoot } from "../../src/config/paths.js";
import { stackOutputNames, toCamelCase } from "../../src/stack/outputs.js";
import { evaluate, type Hcl, readModule } from "../support/hcl.js";
import { differences, pulumiModel, terraformModel } from "../support/parity.js";
import { ACCOUNT, installMocks } from "../support/pulumi-mocks.js";

const resources = installMocks({});
let module: Hcl;

beforeAll(async () => {
  module = await readModule(join(projectRoot, "infra-terraform"));
});

const scenarios: Record<string, Record<string, unknown>> = {
  defaults: {},
  "account with roles and an assumed role": {
    region: "eu-west-1",
    assumeRoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
    assumeRoleSessionName: "ci",
    defaultTags: { team: "growth" },
    producerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/api`],
    consumerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/worker`],
  },
  "FIFO with a KMS key": {
    fifo: true,
    contentBasedDeduplication: true,
    queueName: "signups.fifo",
    deadLetterQueueName: "signups-dlq.fifo",
    kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    maxReceiveCount: 9,
    visibilityTimeoutSeconds: 120,
  },
  "local emulator": { endpoint: "http://127.0.0.1:4566", createAccessPolicies: false },
};

let run = 0;
async function both(config: Record<string, unknown>) {
  const pulumiSide = await pulumiModel(config, resources, `parity${run++}`);
  return { pulumiSide, terraformSide: terraformModel(module, config) };
}

describe("Terraform ↔ Pulumi parity", () => {
  it.each(Object.entries(scenarios))("agree on every compared value: %s", async (_, config) => {
    const { pulumiSide, terraformSide } = await both(config);
    expect(differences(pulumiSide, terraformSide)).toEqual([]);
    // Not vacuous: the queues and their policies are there on both sides.
    expect(Object.keys(terraformSide)).toEqual(
      expect.arrayContaining(["aws_sqs_queue.main", "aws_sqs_queue_policy.dead_letter"]),
    );
    expect(terraformSide["aws_sqs_queue.main"]?.visibilityTimeoutSeconds).toBe(
      config.visibilityTimeoutSeconds ?? 60,
    );
  });

  it("has the same defaults in variables.tf as in Pulumi.yaml", () => {
    const project = parseYaml(readFileSync(join(projectRoot, "Pulumi.yaml"), "utf8"));
    const pulumiKeys = Object.keys(project.config).filter((k) => !k.includes(":"));
    const terraformKeys = Object.keys(module.variable).map(toCamelCase);
    expect(terraformKeys.sort()).toEqual([...pulumiKeys, "defaultTags"].sort());
    for (const name of Object.keys(module.variable)) {
      const terraformDefault = evaluate(module.variable[name].default ?? null, { resolve: () => undefined });
      const pulumiDefault = project.config[toCamelCase(name)]?.default;
      const empty =
        terraformDefault === null || (Array.isArray(terraformDefault) && terraformDefault.length === 0);
      if (pulumiDefault === undefined) expect(empty || name === "default_tags", name).toBe(true);
      else expect(terraformDefault, name).toEqual(pulumiDefault);
    }
  });

  it("exports the same outputs, in snake_case", async () => {
    const program = await import("../../infra-pulumi/program.js");
    expect(program.createInfrastructure).toBeTypeOf("function");
    const pulumiOutputs = [
      ...stackOutputNames,
      "producerPolicyArn",
      "consumerPolicyArn",
      "producerRoleArn",
      "consumerRoleArn",
    ];
    expect(Object.keys(module.output).map(toCamelCase).sort()).toEqual(pulumiOutputs.sort());
    const source = readFileSync(join(projectRoot, "infra-pulumi", "index.ts"), "utf8");
    for (const name of pulumiOutputs) expect(source).toContain(`  ${name},`);
  });

  describe("fails when one value changes", () => {
    const mutations: [string, (m: Hcl) => void][] = [
      ["a variable default (max_receive_count)", (m) => (m.variable.max_receive_count.default = 6)],
      [
        "a queue argument (visibility timeout)",
        (m) => (m.resource.aws_sqs_queue.main.visibility_timeout_seconds = 61),
      ],
      ["the dead-letter retention", (m) => (m.locals.dead_letter_max_message_size = 1024)],
      [
        "an IAM action",
        (m) => {
          const p = m.resource.aws_iam_policy.producer;
          p.policy = p.policy.replace('"sqs:SendMessage"', '"sqs:SendMessage", "sqs:PurgeQueue"');
        },
      ],
      [
        "the TLS condition",
        (m) => {
          const p = m.resource.aws_sqs_queue_policy.main;
          p.policy = p.policy.replace('"aws:SecureTransport" = "false"', '"aws:SecureTransport" = "true"');
        },
      ],
      ["the assumed role's session name", (m) => (m.variable.assume_role_session_name.default = "other")],
    ];
    it.each(mutations)("on the Terraform side: %s", async (_, mutate) => {
      const mutated = structuredClone(module);
      mutate(mutated);
      const config = { assumeRoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer` };
      const { pulumiSide } = await both(config);
      expect(differences(pulumiSide, terraformModel(module, config))).toEqual([]);
      expect(differences(pulumiSide, terraformModel(mutated, config))).not.toEqual([]);
    });

    it.each([
      ["the redrive count", { maxReceiveCount: 4 }],
      ["the retention", { messageRetentionSeconds: 3600 }],
      ["the encryption", { kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/other` }],
      ["the region", { region: "sa-east-1" }],
    ])("on the Pulumi side: %s", async (_, change) => {
      const pulumiSide = await pulumiModel(change, resources, `changed${run++}`);
      const found = differences(pulumiSide, terraformModel(module, {}));
      expect(found.length).toBeGreaterThan(0);
    });
  });
});
