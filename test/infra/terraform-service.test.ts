/**
 * The consumer fleet through Terraform itself, offline: the example production stack
 * (prod.tfvars) plans, says the same as Pulumi.prod.yaml and builds under Pulumi's mocks too; and a
 * later apply leaves the service's desired count to the autoscaling (ignore_changes), seen on a
 * real plan from a state in which the service runs three tasks.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { functionConcurrency, functionSendRate } from "../../src/config/derived.js";
import { projectRoot } from "../../src/config/paths.js";
import { Terraform } from "../../src/local/terraform.js";
import { toCamelCase, toSnakeCase } from "../../src/stack/outputs.js";
import { writePlaceholderBundle } from "../support/lambda-bundle.js";
import { offlineProvider } from "../support/parity.js";
import { installMocks, registered, setStackConfig } from "../support/pulumi-mocks.js";
import { copyModule, pluginMirror, terraform, withSharedProvider } from "../support/terraform.js";

const resources = installMocks({});

/** A stack file's config, without the project prefix. */
const stackFile = (file: string): Record<string, unknown> =>
  Object.fromEntries(
    Object.entries(parseYaml(readFileSync(join(projectRoot, file), "utf8")).config).map(([key, value]) => [
      key.replace(/^sqs-messaging:/, ""),
      value,
    ]),
  );
const pulumiProd = stackFile("Pulumi.prod.yaml");
/** The Lambda example; the tests point its bundle at a placeholder zip (no build here). */
const pulumiProdLambda = stackFile("Pulumi.prod-lambda.yaml");
const bundle = await writePlaceholderBundle();

/** A stack file's keys as a plan's variables hold them. */
const wrap = (config: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(config).map(([name, value]) => [toSnakeCase(name), { value }]));

/** A plan's variables that were set, camelCase, as a stack file names them. */
function setVariables(plan: { variables: Record<string, { value: unknown }> }): Record<string, unknown> {
  const sorted = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
  return sorted(
    Object.fromEntries(
      Object.entries(plan.variables)
        .filter(([, v]) => v.value !== null && !(Array.isArray(v.value) && v.value.length === 0))
        .map(([name, v]) => [toCamelCase(name), v.value]),
    ),
  );
}

describe("Pulumi.prod.yaml", () => {
  it("turns the fleet on and builds under the mocks", async () => {
    setStackConfig(pulumiProd);
    const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), "prodstack");
    await registered(
      infra.fleet?.service.service,
      infra.fleet?.autoscaling.target,
      infra.fleet?.alarms?.topic,
      infra.pipeline?.ecrPushRole,
      infra.pipeline?.planRole,
      infra.pipeline?.deployRole,
      ...(infra.pipeline?.rolePolicies ?? []),
    );
    expect(infra.fleet).toBeDefined();
    const target = resources.find((r) => r.name === "prodstack-scaling-target");
    expect(target?.inputs).toMatchObject({ minCapacity: 2, maxCapacity: 10 });
    const service = resources.find((r) => r.name === "prodstack-service");
    expect(service?.inputs.alarms).toEqual({
      alarmNames: ["registrations-consumer-dead-letters", "registrations-consumer-handler-failures"],
      enable: true,
      rollback: true,
    });
  });

  it("declares the three pipeline roles the pipelines assume, trusting the example repository", () => {
    const role = (kind: string) => resources.find((r) => r.name === `prodstack-${kind}-role`);
    const repository = String(pulumiProd.githubRepository);
    const subjects = Object.fromEntries(
      ["ecr-push", "plan", "deploy"].map((kind) => [
        kind,
        JSON.stringify(role(kind)?.inputs.assumeRolePolicy),
      ]),
    );
    expect(subjects["ecr-push"]).toContain(`repo:${repository}:ref:refs/heads/main`);
    expect(subjects.plan).toContain(`repo:${repository}:pull_request`);
    expect(subjects.deploy).toContain(`repo:${repository}:environment:${pulumiProd.deployEnvironment}`);
  });
});

describe("Pulumi.prod-lambda.yaml", () => {
  it("turns the function on, not the fleet, and builds under the mocks", async () => {
    setStackConfig({ ...pulumiProdLambda, functionBundlePath: bundle });
    const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), "prodfn");
    await registered(
      infra.consumerFunction?.consumer.function,
      infra.consumerFunction?.consumer.eventSource,
      infra.consumerFunction?.alarms?.errors,
    );
    expect(infra.fleet).toBeUndefined();
    const mapping = resources.find((r) => r.name === "prodfn-event-source");
    const sending = {
      accountSendRatePerSecond: Number(pulumiProdLambda.accountSendRatePerSecond),
      maxConsumerTasks: Number(pulumiProdLambda.maxConsumerTasks),
    };
    expect(mapping?.inputs.scalingConfig).toEqual({ maximumConcurrency: functionConcurrency(10) });
    const variables = resources.find((r) => r.name === "prodfn-function")?.inputs.environment.variables;
    expect(variables.MAIL_RATE_PER_SECOND).toBe(String(functionSendRate(sending)));
    expect(functionConcurrency(sending.maxConsumerTasks) * functionSendRate(sending)).toBe(50);
  });
});

describe.skipIf(!terraform)("prod.tfvars, planned offline", () => {
  const dir = copyModule();
  const cli = new Terraform({ dir, pluginMirror, output: "pipe" });
  // biome-ignore lint/suspicious/noExplicitAny: `terraform show -json` is a large untyped document.
  let plan: any;

  // biome-ignore lint/suspicious/noExplicitAny: as above.
  let lambdaPlan: any;

  /** Plans with prod.tfvars; the offline override leaves the assumed role out (no STS call). */
  async function planJson(extra: string[] = [], varFile = "prod.tfvars") {
    const result = await cli.run([
      "plan",
      "-refresh=false",
      "-lock=false",
      "-input=false",
      "-no-color",
      `-var-file=${varFile}`,
      "-out=prod.tfplan",
      ...extra,
    ]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const show = await withSharedProvider(dir, () => cli.run(["show", "-json", "prod.tfplan"]));
    return JSON.parse(show.stdout);
  }

  beforeAll(async () => {
    offlineProvider(dir);
    const init = await cli.run(["init", "-input=false", "-no-color", "-backend=false"]);
    expect(init.code, init.stderr).toBe(0);
    plan = await planJson();
    // The Lambda example in the same initialised copy (no second init), its bundle a placeholder.
    lambdaPlan = await planJson([`-var=function_bundle_path=${bundle}`], "prod-lambda.tfvars");
  }, 300_000);
  afterAll(() => cli.dispose());

  it("plans the whole fleet", () => {
    const planned = (plan.resource_changes as { address: string }[]).map((c) =>
      c.address.replace(/\[\d+\]/, ""),
    );
    for (const address of [
      "aws_ecr_repository.consumer",
      "aws_ecs_cluster.consumer",
      "aws_ecs_task_definition.consumer",
      "aws_ecs_service.consumer",
      "aws_appautoscaling_target.consumer",
      "aws_appautoscaling_policy.backlog",
      "aws_sns_topic_subscription.alarm_email",
      "aws_cloudwatch_metric_alarm.consumer_paused",
      "aws_cloudwatch_metric_alarm.handler_failures",
      // The pipeline roles the pipelines assume (docs/pipeline.md), and GitHub's OIDC provider.
      "aws_iam_openid_connect_provider.github",
      "aws_iam_role.ecr_push",
      "aws_iam_role.plan",
      "aws_iam_role.deploy",
    ]) {
      expect(planned).toContain(address);
    }
    const target = plan.resource_changes.find(
      (c: { address: string }) => c.address === "aws_appautoscaling_target.consumer[0]",
    );
    expect(target.change.after).toMatchObject({ min_capacity: 2, max_capacity: 10 });
    // The deployment alarms, by the alarms' own names.
    const change = (address: string) =>
      plan.resource_changes.find((c: { address: string }) => c.address === address)?.change.after;
    expect(change("aws_ecs_service.consumer[0]").alarms).toEqual([
      {
        alarm_names: [
          change("aws_cloudwatch_metric_alarm.dead_letters[0]").alarm_name,
          change("aws_cloudwatch_metric_alarm.handler_failures[0]").alarm_name,
        ],
        enable: true,
        rollback: true,
      },
    ]);
  });

  it("holds the same stack as Pulumi.prod.yaml, value for value", () => {
    expect(setVariables(plan)).toEqual(setVariables({ variables: wrap(pulumiProd) }));
  });

  it("plans the Lambda example (prod-lambda.tfvars): the function, its mapping and alarms, no fleet", () => {
    const planned = (lambdaPlan.resource_changes as { address: string }[]).map((c) =>
      c.address.replace(/\[\d+\]/, ""),
    );
    for (const address of [
      "aws_lambda_function.consumer",
      "aws_lambda_event_source_mapping.consumer",
      "aws_iam_role_policy.function",
      "aws_cloudwatch_log_group.function",
      "aws_cloudwatch_metric_alarm.function_errors",
      "aws_cloudwatch_metric_alarm.function_throttles",
      "aws_cloudwatch_metric_alarm.function_paused",
      "aws_cloudwatch_metric_alarm.dead_letters",
      "aws_sns_topic_subscription.alarm_email",
    ]) {
      expect(planned).toContain(address);
    }
    expect(planned.filter((a) => /aws_(ecs|ecr|appautoscaling)_/.test(a))).toEqual([]);
    const mapping = lambdaPlan.resource_changes.find(
      (c: { address: string }) => c.address === "aws_lambda_event_source_mapping.consumer[0]",
    );
    expect(mapping.change.after.scaling_config).toEqual([{ maximum_concurrency: 10 }]);
  });

  it("holds the same stack as Pulumi.prod-lambda.yaml, value for value (the bundle aside)", () => {
    const { functionBundlePath: _bundle, ...variables } = setVariables(lambdaPlan);
    expect(variables).toEqual(setVariables({ variables: wrap(pulumiProdLambda) }));
  });

  it("leaves the desired count to the autoscaling on a later apply (ignore_changes)", async () => {
    const cluster = "arn:aws:ecs:eu-west-1:123456789012:cluster/registrations";
    const state = {
      version: 4,
      terraform_version: terraform,
      serial: 1,
      lineage: "fleet-ignore-changes",
      outputs: {},
      resources: [
        {
          mode: "managed",
          type: "aws_ecs_cluster",
          name: "consumer",
          provider: 'provider["registry.terraform.io/hashicorp/aws"]',
          each: "list",
          instances: [
            {
              index_key: 0,
              schema_version: 0,
              attributes: { id: cluster, arn: cluster, name: "registrations" },
            },
          ],
        },
        {
          mode: "managed",
          type: "aws_ecs_service",
          name: "consumer",
          provider: 'provider["registry.terraform.io/hashicorp/aws"]',
          each: "list",
          instances: [
            {
              index_key: 0,
              schema_version: 1,
              attributes: {
                id: `${cluster.replace(":cluster/", ":service/")}/registrations-consumer`,
                name: "registrations-consumer",
                cluster,
                launch_type: "FARGATE",
                scheduling_strategy: "REPLICA",
                // Scaled out by the autoscaling since the last apply.
                desired_count: 7,
              },
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, "scaled.tfstate"), JSON.stringify(state));
    const later = await planJson(["-state=scaled.tfstate"]);
    const service = later.resource_changes.find(
      (c: { address: string }) => c.address === "aws_ecs_service.consumer[0]",
    );
    expect(service.change.actions).toEqual(["update"]); // in place: the fleet is not replaced
    expect(service.change.after.desired_count).toBe(7); // not reset to min_tasks (2)
  }, 300_000);
});
