/**
 * The two infrastructure programs side by side, each as its own tool sees it: the Pulumi program's
 * resource inputs under mocks, and Terraform's own plan of infra-terraform/ (`terraform plan
 * -refresh=false` + `terraform show -json`). Nothing here reads HCL: Terraform does.
 *
 * Every configuration to compare becomes one call of the module in a generated root module, so
 * one init (cached between runs) and one plan cover them all. Queue ARNs are unknown in a plan of
 * new queues, which would hide the redrive, queue and IAM documents; so the plan starts from a
 * state in which the two queues exist as the Pulumi mocks named them (-refresh=false: nothing is
 * called). Where a value stays unknown, the references of Terraform's expression are compared
 * with the resources whose outputs the Pulumi input holds.
 */
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { projectRoot } from "../../src/config/paths.js";
import type { Settings } from "../../src/config/settings.js";
import { Terraform } from "../../src/local/terraform.js";
import { toSnakeCase } from "../../src/stack/outputs.js";
import { decoded, type RecordedResource, registered, setStackConfig } from "./pulumi-mocks.js";

/** Pulumi resource types ↔ Terraform resource types (components and the provider aside). */
export const TERRAFORM_TYPES: Record<string, string> = {
  "aws:sqs/queue:Queue": "aws_sqs_queue",
  "aws:sqs/redrivePolicy:RedrivePolicy": "aws_sqs_queue_redrive_policy",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": "aws_sqs_queue_redrive_allow_policy",
  "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
  "aws:iam/policy:Policy": "aws_iam_policy",
  "aws:iam/role:Role": "aws_iam_role",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
  "aws:dynamodb/table:Table": "aws_dynamodb_table",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
  "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
};

/** Each Pulumi child, by its name after the component's, ↔ its Terraform resource name. */
export const TERRAFORM_NAMES: Record<string, string> = {
  queue: "main",
  dlq: "dead_letter",
  redrive: "main",
  "redrive-allow": "dead_letter",
  "queue-policy": "main",
  "dlq-policy": "dead_letter",
  producer: "producer",
  consumer: "consumer",
  "producer-role": "producer",
  "consumer-role": "consumer",
  "producer-role-policy": "producer",
  "consumer-role-policy": "consumer",
  operator: "operator",
  "operator-role": "operator",
  "operator-role-policy": "operator",
  table: "sent_emails",
  "github-oidc": "github",
  "ecr-push-role": "ecr_push",
  "ecr-push-policy": "ecr_push",
  "plan-role": "plan",
  "plan-policy": "plan",
  "deploy-role": "deploy",
  "deploy-policy": "deploy",
};

/** Pulumi argument names that differ from Terraform's beyond snake_case (a block's list name). */
const PULUMI_ARGUMENTS: Record<string, string> = { attributes: "attribute", clientIdLists: "client_id_list" };

/**
 * Nested blocks: a list of objects in Terraform's plan (`ttl { … }` → `[{attribute_name, enabled}]`),
 * an object (or a list) with camelCase keys in Pulumi's inputs. Compared as lists of snake_case
 * objects; attributes Terraform leaves null or computes are not set on either side.
 */
const BLOCKS = new Set(["attribute", "ttl", "point_in_time_recovery", "server_side_encryption"]);

function pulumiBlock(value: unknown): unknown {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item) =>
    Object.fromEntries(Object.entries(item as Record<string, unknown>).map(([k, v]) => [toSnakeCase(k), v])),
  );
}

function terraformBlock(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((item) =>
    Object.fromEntries(Object.entries(item as Record<string, unknown>).filter(([, v]) => v !== null)),
  );
}

/** Arguments one tool has and the other cannot: Pulumi auto-names, Terraform uses name_prefix. */
const ONE_SIDED = new Set(["name_prefix"]);

/** Outputs that identify a resource when another resource's input holds them. */
const IDENTIFYING_OUTPUTS = ["arn", "url", "name"];

const UNKNOWN = Symbol("unknown in the plan");

/** One resource, normalised: snake_case arguments, and the resource outputs each one refers to. */
export interface ResourceModel {
  readonly values: Record<string, unknown>;
  readonly references: Record<string, string[]>;
}

/** One program under one configuration: resources by address, and what the provider gives all. */
export interface Model {
  readonly resources: Record<string, ResourceModel>;
  readonly provider: { region: unknown; endpoint: unknown; defaultTags: Record<string, unknown> };
}

/** JSON documents (policies) compare as data, not as strings. */
function normalise(value: unknown): unknown {
  if (typeof value === "string" && /^\s*[[{]/.test(value)) {
    try {
      return JSON.parse(value);
    } catch {
      return value;
    }
  }
  return value;
}

/** Strings anywhere inside `value` (parsed JSON included). */
function leaves(value: unknown): string[] {
  const found = normalise(value);
  if (typeof found === "string") return [found];
  if (Array.isArray(found)) return found.flatMap(leaves);
  if (found && typeof found === "object") return Object.values(found).flatMap(leaves);
  return [];
}

/** Tags a tool adds to mark its own resources: the one value allowed to differ. */
function withoutToolTag(tags: unknown): Record<string, unknown> {
  const { "managed-by": _tool, ...rest } = (tags ?? {}) as Record<string, unknown>;
  return rest;
}

export interface PulumiRun {
  readonly model: Model;
  /** The queues as the mocks created them: the state Terraform's plan starts from. */
  readonly queues: Record<
    string,
    {
      name: string;
      url: string;
      arn: string;
      fifo: boolean /** A `count` resource (the table). */;
      counted?: boolean;
    }
  >;
}

/**
 * Runs the Pulumi program under the (already installed) mocks with `config` (camelCase keys) and
 * optional defaults in place of the data file, and normalises what it declared.
 */
export async function pulumiModel(
  config: Record<string, unknown>,
  resources: RecordedResource[],
  name: string,
  defaults?: Settings,
): Promise<PulumiRun> {
  setStackConfig(config);
  const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging"), defaults), name);
  await registered(
    infra.queues.queuePolicy,
    infra.queues.deadLetterQueuePolicy,
    infra.queues.redrivePolicy,
    infra.queues.redriveAllowPolicy,
    infra.access?.producerPolicy,
    infra.access?.consumerPolicy,
    infra.access?.producerRole,
    infra.access?.consumerRole,
    infra.access?.operatorPolicy,
    infra.access?.operatorRole,
    infra.table?.table,
    infra.delivery?.oidcProvider,
    infra.delivery?.ecrPushRole,
    infra.delivery?.planRole,
    infra.delivery?.deployRole,
    ...(infra.delivery?.rolePolicies ?? []),
  );
  // Role attachments register once the role's name resolves; they are not exposed: count them.
  const attachments = [
    infra.access?.producerRole,
    infra.access?.consumerRole,
    infra.access?.operatorRole,
  ].filter((role) => role !== undefined).length;
  const mine = () => resources.filter((r) => r.name.startsWith(`${name}-`));
  const deadline = Date.now() + 5_000;
  while (mine().filter((r) => r.name.endsWith("-role-policy")).length < attachments) {
    if (Date.now() > deadline) throw new Error(`the role attachments of ${name} never registered`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  const addressOf = (r: RecordedResource): string => {
    const type = TERRAFORM_TYPES[r.type];
    const resource = TERRAFORM_NAMES[r.name.slice(name.length + 1)];
    if (!type || !resource) {
      throw new Error(
        `no Terraform counterpart for Pulumi resource ${r.type} ${r.name}: add it to TERRAFORM_TYPES / TERRAFORM_NAMES in test/support/parity.ts`,
      );
    }
    return `${type}.${resource}`;
  };
  const declared = mine().filter((r) => !r.type.startsWith("pulumi:providers:"));
  // Every identifying output value → "address.output", to find what an input refers to.
  const outputOwners = new Map<string, string>();
  for (const r of declared) {
    for (const output of IDENTIFYING_OUTPUTS) {
      const value = r.outputs?.[output];
      if (typeof value === "string" && !(output === "name" && r.type === "aws:sqs/queue:Queue")) {
        outputOwners.set(value, `${addressOf(r)}.${output}`);
      }
    }
  }
  const model: Model = {
    resources: {},
    provider: { region: undefined, endpoint: undefined, defaultTags: {} },
  };
  const queues: PulumiRun["queues"] = {};
  for (const r of declared) {
    const address = addressOf(r);
    const values: Record<string, unknown> = {};
    const references: Record<string, string[]> = {};
    for (const [key, value] of Object.entries(r.inputs as Record<string, unknown>)) {
      const argument = PULUMI_ARGUMENTS[key] ?? toSnakeCase(key);
      values[argument] = BLOCKS.has(argument) ? pulumiBlock(value) : normalise(value);
      const refs = leaves(value)
        .map((leaf) => outputOwners.get(leaf))
        .filter((owner): owner is string => owner !== undefined && !owner.startsWith(`${address}.`));
      if (refs.length > 0) references[argument] = [...new Set(refs)].sort();
    }
    model.resources[address] = { values, references };
    if (r.type === "aws:sqs/queue:Queue") {
      queues[address] = {
        name: r.outputs.name,
        url: r.outputs.url,
        arn: r.outputs.arn,
        fifo: !!r.inputs.fifoQueue,
      };
    }
    if (r.type === "aws:dynamodb/table:Table") {
      queues[address] = { name: r.outputs.name, url: "", arn: r.outputs.arn, fifo: false, counted: true };
    }
  }
  const provider = resources.find((r) => r.name === `${name}-aws`)?.inputs;
  if (!provider) throw new Error(`no provider ${name}-aws`);
  const endpoints = decoded(provider.endpoints) as { sqs?: string }[] | undefined;
  model.provider.region = provider.region;
  model.provider.endpoint = endpoints?.[0]?.sqs ?? null;
  model.provider.defaultTags = withoutToolTag((decoded(provider.defaultTags) as { tags: unknown }).tags);
  return { model, queues };
}

/** One configuration of the Terraform module in the shared plan. */
export interface PlanCase {
  /** Variables (camelCase, as in Pulumi config; written as snake_case). */
  readonly config: Record<string, unknown>;
  /** The queues that exist before the plan (from the Pulumi run of the same configuration). */
  readonly queues: PulumiRun["queues"];
  /** Edits a copy of the module before the plan (a mutation, or an edited data file). */
  readonly edit?: (moduleDir: string) => void;
}

// biome-ignore lint/suspicious/noExplicitAny: `terraform show -json` is a large untyped document.
type Json = any;

export interface Plan {
  /** `terraform show -json` of the plan. */
  readonly json: Json;
  /** The module call of each case, by the caller's case name. */
  readonly calls: Record<string, string>;
  readonly seconds: { init: number; plan: number; show: number };
}

/** Copies infra-terraform/ without its working files, tests and example variables. */
function copyModuleTo(dir: string): void {
  cpSync(join(projectRoot, "infra-terraform"), dir, {
    recursive: true,
    filter: (source) =>
      !/(\.terraform|terraform\.tfstate|\.terraform\.lock\.hcl|\.tfvars|\/tests)($|\/)/.test(
        source.slice(projectRoot.length),
      ),
  });
}

/**
 * Plans every case in one run of Terraform: a root module with one call of infra-terraform/ (or of
 * an edited copy) per case, in a working folder under the system's temporary folder that is
 * reused between runs, so `terraform init` runs again only when the set of calls changes.
 */
export async function planAll(
  cases: Record<string, PlanCase>,
  options: {
    terraformVersion: string;
    pluginMirror?: string | undefined;
    /** Another test file's own working folder (files run in parallel); default "parity". */
    workspaceName?: string;
  },
): Promise<Plan> {
  const workspace = join(
    tmpdir(),
    `sqs-messaging-${options.workspaceName ?? "parity"}-${createHash("sha256").update(projectRoot).digest("hex").slice(0, 12)}`,
  );
  rmSync(join(workspace, "modules"), { recursive: true, force: true });
  mkdirSync(workspace, { recursive: true });
  const calls: Record<string, string> = {};
  const root: Json = { module: {}, output: {} };
  const state: Json[] = [];
  Object.entries(cases).forEach(([caseName, planCase], index) => {
    const call = `case${index}`;
    calls[caseName] = call;
    const source = planCase.edit ? call : "checkout";
    const dir = join(workspace, "modules", source);
    copyModuleTo(dir);
    planCase.edit?.(dir);
    root.module[call] = {
      source: `./modules/${source}`,
      ...Object.fromEntries(Object.entries(planCase.config).map(([key, value]) => [toSnakeCase(key), value])),
    };
    root.output[call] = {
      value: { region: `\${module.${call}.region}`, endpoint: `\${module.${call}.endpoint}` },
    };
    for (const [address, queue] of Object.entries(planCase.queues)) {
      const [type, name] = address.split(".");
      state.push({
        module: `module.${call}`,
        mode: "managed",
        type,
        name,
        provider: `module.${call}.provider["registry.terraform.io/hashicorp/aws"]`,
        ...(queue.counted ? { each: "list" } : {}),
        instances: [
          queue.counted
            ? {
                index_key: 0,
                schema_version: 1,
                attributes: { id: queue.name, arn: queue.arn, name: queue.name, hash_key: "id" },
              }
            : {
                schema_version: 0,
                attributes: {
                  id: queue.url,
                  url: queue.url,
                  arn: queue.arn,
                  name: queue.name,
                  fifo_queue: queue.fifo,
                },
              },
        ],
      });
    }
  });
  const rootText = `${JSON.stringify(root, null, 2)}\n`;
  writeFileSync(join(workspace, "main.tf.json"), rootText);
  writeFileSync(
    join(workspace, "parity.tfstate"),
    JSON.stringify({
      version: 4,
      terraform_version: options.terraformVersion,
      serial: 1,
      lineage: "sqs-messaging-parity",
      outputs: {},
      resources: state,
    }),
  );

  const cli = new Terraform({ dir: workspace, pluginMirror: options.pluginMirror, output: "pipe" });
  const timed = async (args: string[]) => {
    const started = performance.now();
    const result = await cli.run(args);
    if (result.code !== 0)
      throw new Error(`terraform ${args[0]} failed:\n${result.stdout}\n${result.stderr}`);
    return { ...result, seconds: (performance.now() - started) / 1000 };
  };
  try {
    // Init again only when the calls (or the provider constraint) changed since the last run.
    const initKey = createHash("sha256")
      .update(Object.keys(root.module).join(","))
      .update(
        Object.values(root.module as Record<string, { source: string }>)
          .map((m) => m.source)
          .join(","),
      )
      .update(readFileSync(join(projectRoot, "infra-terraform", "versions.tf")))
      .update(options.terraformVersion)
      .digest("hex");
    let init = 0;
    let previousKey = "";
    try {
      previousKey = readFileSync(join(workspace, "init.key"), "utf8");
    } catch {}
    if (previousKey !== initKey) {
      init = (await timed(["init", "-input=false", "-no-color"])).seconds;
      writeFileSync(join(workspace, "init.key"), initKey);
    }
    const plan = await timed([
      "plan",
      "-refresh=false",
      "-lock=false",
      "-input=false",
      "-no-color",
      "-state=parity.tfstate",
      "-out=parity.tfplan",
    ]);
    const show = await timed(["show", "-json", "parity.tfplan"]);
    return {
      json: JSON.parse(show.stdout),
      calls,
      seconds: { init, plan: plan.seconds, show: show.seconds },
    };
  } finally {
    await cli.dispose();
  }
}

/** Resource references of an expression, as `type.name.attribute` (instance keys dropped). */
function resourceReferences(expression: Json): string[] {
  const references: string[] = expression?.references ?? [];
  return [
    ...new Set(
      references
        .map((ref) => ref.replace(/\[[^\]]*\]/g, ""))
        .filter((ref) => /^aws_\w+\.\w+\.\w+$/.test(ref)),
    ),
  ].sort();
}

/** One case of the plan, normalised like the Pulumi side. */
export function terraformModel(plan: Plan, caseName: string): Model {
  const call = plan.calls[caseName];
  if (!call) throw new Error(`no case ${caseName} in the plan`);
  const configuration: Json[] = plan.json.configuration.root_module.module_calls[call].module.resources;
  const model: Model = {
    resources: {},
    provider: { region: undefined, endpoint: undefined, defaultTags: {} },
  };
  for (const change of plan.json.resource_changes as Json[]) {
    if (change.module_address !== `module.${call}` || change.mode !== "managed") continue;
    if (change.change.actions.length === 1 && change.change.actions[0] === "delete") continue;
    const address = `${change.type}.${change.name}`;
    const expressions = configuration.find((r) => r.address === address)?.expressions ?? {};
    const values: Record<string, unknown> = {};
    const references: Record<string, string[]> = {};
    for (const [argument, expression] of Object.entries(expressions as Record<string, Json>)) {
      if (ONE_SIDED.has(argument)) continue;
      values[argument] =
        change.change.after_unknown?.[argument] === true
          ? UNKNOWN
          : BLOCKS.has(argument)
            ? terraformBlock(change.change.after[argument])
            : normalise(change.change.after[argument]);
      const refs = resourceReferences(expression);
      if (refs.length > 0) references[argument] = refs;
    }
    model.resources[address] = { values, references };
    // The provider's default tags are visible in every taggable resource's tags_all.
    const tags = change.change.after.tags_all;
    if (tags && typeof tags === "object") model.provider.defaultTags = withoutToolTag(tags);
  }
  const outputs = plan.json.planned_values.outputs[call].value;
  model.provider.region = outputs.region;
  model.provider.endpoint = outputs.endpoint;
  return model;
}

/** Every difference between the two programs, one line each; empty when they agree. */
export function differences(pulumiSide: Model, terraformSide: Model): string[] {
  const found: string[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
  for (const key of ["region", "endpoint", "defaultTags"] as const) {
    if (!same(pulumiSide.provider[key], terraformSide.provider[key])) {
      found.push(
        `provider ${key}: Pulumi ${JSON.stringify(pulumiSide.provider[key])} ≠ Terraform ${JSON.stringify(terraformSide.provider[key])}`,
      );
    }
  }
  const addresses = new Set([...Object.keys(pulumiSide.resources), ...Object.keys(terraformSide.resources)]);
  for (const address of [...addresses].sort()) {
    const p = pulumiSide.resources[address];
    const t = terraformSide.resources[address];
    if (!p || !t) {
      found.push(`${address}: declared by ${p ? "Pulumi" : "Terraform"} only`);
      continue;
    }
    for (const argument of new Set([...Object.keys(p.values), ...Object.keys(t.values)])) {
      const a = p.values[argument];
      const b = t.values[argument];
      if (b === UNKNOWN || (a === undefined && b === null)) continue;
      if (!same(a, b)) {
        found.push(`${address}.${argument}: Pulumi ${JSON.stringify(a)} ≠ Terraform ${JSON.stringify(b)}`);
      }
    }
    for (const argument of new Set([...Object.keys(p.references), ...Object.keys(t.references)])) {
      const a = p.references[argument] ?? [];
      const b = t.references[argument] ?? [];
      if (!same(a, b)) {
        found.push(
          `${address}.${argument} refers to: Pulumi [${a.join(", ")}] ≠ Terraform [${b.join(", ")}]`,
        );
      }
    }
  }
  return found;
}

/** Objects compare without regard to key order (JSON documents are maps). */
function sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sorted);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([x], [y]) => x.localeCompare(y))
        .map(([k, v]) => [k, sorted(v)]),
    );
  }
  return value;
}
