/**
 * The adoption's pure parts (src/ops/adopt.ts): states read, the identity kept, the files written,
 * the import ids per type, and the check of a plan. The real tools run in
 * test/integration/terraform-apply.test.ts and test/infra/pulumi-adopt.test.ts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import {
  AdoptRefusal,
  checkAdoptionPlan,
  deadLetterName,
  importId,
  planFromPulumiExport,
  planFromTerraform,
  pulumiConfig,
  resourcesFromRawState,
  resourcesFromShow,
  terraformFiles,
} from "../../src/ops/adopt.js";

const show = JSON.parse(
  readFileSync(join(projectRoot, "test", "fixtures", "states", "original.json"), "utf8"),
);
const live = show.values.root_module.resources[0].values;
const options = { settings };

describe("adopting the original queue", () => {
  const plan = planFromTerraform(resourcesFromShow(show, "original.json"), options);

  it("keeps the queue's identity and adopts it as the main queue, by its URL", () => {
    expect(plan.identity).toEqual({
      region: "us-west-2",
      queueName: "projeto-sqs",
      deadLetterQueueName: "projeto-sqs-dlq",
      fifo: false,
      contentBasedDeduplication: false,
    });
    expect(plan.resources).toEqual([
      expect.objectContaining({
        terraform: "module.registrations.aws_sqs_queue.main",
        pulumi: "registrations-queue",
        id: live.url,
      }),
    ]);
  });

  it("writes one import block and the identity as Terraform variables; --keep-queue-values adds the attributes", () => {
    const files = terraformFiles(plan);
    expect(files["adopt.tf"]).toContain(
      `import {\n  to = module.registrations.aws_sqs_queue.main\n  id = "${live.url}"\n}`,
    );
    const tfvars = files["adopt.auto.tfvars"] ?? "";
    expect(tfvars).toContain('queue_name = "projeto-sqs"');
    expect(tfvars).toContain('dead_letter_queue_name = "projeto-sqs-dlq"');
    expect(tfvars).toContain('region = "us-west-2"');
    expect(tfvars).toContain("fifo = false");
    expect(tfvars).not.toContain("delay_seconds");
    const kept = terraformFiles(plan, true)["adopt.auto.tfvars"] ?? "";
    expect(kept).toContain("delay_seconds = 90");
    expect(kept).toContain("maximum_message_size_bytes = 2048");
    expect(kept).toContain("message_retention_seconds = 86400");
    expect(kept).toContain("receive_wait_time_seconds = 10");
  });

  it("writes the Pulumi adoption map with the live inputs (step 1)", () => {
    expect(pulumiConfig(plan)).toMatchObject({
      queueName: "projeto-sqs",
      adopt: {
        "registrations-queue": {
          id: live.url,
          inputs: { delaySeconds: 90, maxMessageSize: 2048, messageRetentionSeconds: 86400 },
        },
      },
    });
  });

  it("reads a pulled state like `terraform show -json`", () => {
    const raw = {
      version: 4,
      resources: [
        { mode: "managed", type: "aws_sqs_queue", name: "this", instances: [{ attributes: live }] },
        { mode: "data", type: "aws_caller_identity", name: "me", instances: [{ attributes: {} }] },
      ],
    };
    expect(resourcesFromRawState(raw, "pulled")).toEqual(resourcesFromShow(show, "show"));
  });

  it("keeps a FIFO queue FIFO, and its dead-letter queue too", () => {
    const fifo = { ...live, name: "projeto-sqs.fifo", fifo_queue: true, content_based_deduplication: true };
    const fifoPlan = planFromTerraform(
      [{ address: "aws_sqs_queue.this", type: "aws_sqs_queue", values: fifo }],
      options,
    );
    expect(fifoPlan.identity).toMatchObject({
      queueName: "projeto-sqs.fifo",
      deadLetterQueueName: "projeto-sqs-dlq.fifo",
      fifo: true,
      contentBasedDeduplication: true,
    });
    expect(deadLetterName("a", false)).toBe("a-dlq");
    expect(() =>
      planFromTerraform([{ address: "aws_sqs_queue.this", type: "aws_sqs_queue", values: fifo }], {
        ...options,
        declaredFifo: false,
      }),
    ).toThrow(AdoptRefusal);
  });
});

describe("import ids and the plan check", () => {
  it("spells the ids the provider's import takes where they are not the state's id", () => {
    expect(
      importId(
        "aws_iam_role_policy_attachment",
        { role: "r", policy_arn: "arn:aws:iam::1:policy/p" },
        "r-2024",
      ),
    ).toBe("r/arn:aws:iam::1:policy/p");
    expect(importId("aws_ecs_service", { cluster: "arn:aws:ecs:x:1:cluster/c", name: "s" }, "arn")).toBe(
      "c/s",
    );
    expect(
      importId(
        "aws_appautoscaling_policy",
        {
          service_namespace: "ecs",
          resource_id: "service/c/s",
          scalable_dimension: "ecs:service:DesiredCount",
          name: "p",
        },
        "p",
      ),
    ).toBe("ecs/service/c/s/ecs:service:DesiredCount/p");
    expect(importId("aws_sqs_queue", {}, "https://q")).toBe("https://q");
  });

  const plan = planFromTerraform(resourcesFromShow(show, "original.json"), options);
  const change = (address: string, actions: string[], importing?: object) => ({
    address,
    mode: "managed",
    type: address.split(".").slice(-2)[0],
    change: { actions, ...(importing ? { importing } : {}) },
  });

  it("passes a plan that imports the queue and keeps everything", () => {
    const good = {
      format_version: "1.2",
      resource_changes: [
        change("module.registrations.aws_sqs_queue.main", ["update"], { id: live.url }),
        change("module.registrations.aws_sqs_queue.dead_letter", ["create"]),
      ],
    };
    expect(checkAdoptionPlan(good, plan)).toEqual({ ok: true, lines: [] });
  });

  it("fails a plan that replaces the queue, or does not import it", () => {
    const replaced = {
      format_version: "1.2",
      resource_changes: [change("module.registrations.aws_sqs_queue.main", ["delete", "create"])],
    };
    const result = checkAdoptionPlan(replaced, plan);
    expect(result.ok).toBe(false);
    expect(result.lines).toEqual([
      expect.stringContaining("would replace module.registrations.aws_sqs_queue.main"),
      expect.stringContaining("does not import module.registrations.aws_sqs_queue.main"),
    ]);
  });
});

describe("a Pulumi stack export handed to Terraform", () => {
  it("refuses a resource this project's Terraform does not declare", () => {
    const exported = {
      deployment: {
        resources: [
          {
            urn: "urn:pulumi:s::p::aws:sns/topic:Topic::registrations-extra",
            custom: true,
            type: "aws:sns/topic:Topic",
            id: "x",
          },
        ],
      },
    };
    expect(() => planFromPulumiExport(exported, "export.json", options)).toThrow(
      /holds registrations-extra \(aws:sns\/topic:Topic\), which this project's Terraform does not declare/,
    );
  });
});
