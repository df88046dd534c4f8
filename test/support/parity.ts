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
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { projectRoot } from "../../src/config/paths.js";
import type { Settings } from "../../src/config/settings.js";
import { Terraform } from "../../src/local/terraform.js";
import { toSnakeCase } from "../../src/stack/outputs.js";
import { RESOURCE_PAIRS, TERRAFORM_TYPES, terraformPart } from "../../src/stack/resource-pairs.js";
import { decoded, type RecordedResource, registered, setStackConfig } from "./pulumi-mocks.js";
import { withSharedProvider } from "./terraform.js";

/** Pulumi argument names that differ from Terraform's beyond snake_case (a block's list name). */
const PULUMI_ARGUMENTS: Record<string, string> = {
  attributes: "attribute",
  volumes: "volume",
  settings: "setting",
  metricQueries: "metric_query",
  stepAdjustments: "step_adjustment",
  clientIdLists: "client_id_list",
};

/** The same, for one resource type only (a name Terraform spells differently there). */
const PULUMI_TYPE_ARGUMENTS: Record<string, Record<string, string>> = {
  "aws:cloudwatch/metricAlarm:MetricAlarm": { name: "alarm_name" },
  "aws:lambda/function:Function": { name: "function_name" },
  "aws:sns/topicSubscription:TopicSubscription": { topic: "topic_arn" },
};

/**
 * Nested blocks: a list of objects in Terraform's plan (`ttl { … }` → `[{attribute_name, enabled}]`),
 * an object (or a list) with camelCase keys in Pulumi's inputs, at any depth. Compared as lists
 * of snake_case objects; what Terraform leaves null, empty or at its zero value ("", false, [])
 * and what Pulumi leaves out are the same (pruned on both sides).
 */
const BLOCKS = new Set([
  "attribute",
  "ttl",
  "point_in_time_recovery",
  "server_side_encryption",
  "image_scanning_configuration",
  "setting",
  "runtime_platform",
  "volume",
  "deployment_circuit_breaker",
  "alarms",
  "network_configuration",
  "target_tracking_scaling_policy_configuration",
  "step_scaling_policy_configuration",
  "customized_metric_specification",
  "metrics",
  "metric_stat",
  "metric",
  "step_adjustment",
  "metric_query",
  "delivery_options",
  "reputation_options",
  "dkim_signing_attributes",
  "event_destination",
  "sns_destination",
  "environment",
  "logging_config",
  "scaling_config",
]);

/**
 * Blocks infra-terraform writes as `dynamic` (on only with a setting): Terraform's configuration
 * JSON leaves them out, so their value is read from the plan and their references cannot be
 * compared (their values are known in a plan, and compared in full).
 */
const DYNAMIC_BLOCKS = new Set(["alarms"]);

/** Maps whose keys are data, not argument names (metric dimensions: {QueueName: …}). */
const MAPS = new Set(["dimensions", "variables"]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function pulumiNested(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pulumiNested);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const key = PULUMI_ARGUMENTS[k] ?? toSnakeCase(k);
      if (MAPS.has(key) && isObject(v)) return [key, v];
      const converted = pulumiNested(v);
      return [key, BLOCKS.has(key) && isObject(converted) ? [converted] : converted];
    }),
  );
}

/** Drops what counts as "not set" in a block: null, "", false, []. */
function pruned(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(pruned);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .map(([k, v]) => [k, pruned(v)] as const)
      .filter(
        ([, v]) =>
          v !== null && v !== undefined && v !== "" && v !== false && !(Array.isArray(v) && v.length === 0),
      ),
  );
}

function pulumiBlock(value: unknown): unknown {
  const converted = pulumiNested(value);
  return pruned(Array.isArray(converted) ? converted : [converted]);
}

function terraformBlock(value: unknown): unknown {
  return Array.isArray(value) ? pruned(value) : value;
}

/**
 * Arguments one tool has and the other cannot: Pulumi auto-names, Terraform uses name_prefix; a
 * function's zip is an archive asset in Pulumi (`code`) and a file name in Terraform, each
 * resolved its own way, so the bundle is compared by its content (`source_code_hash`).
 */
const ONE_SIDED = new Set(["name_prefix", "filename", "code"]);

const NAMES_NOT_REFERENCES = new Set([
  "aws:sqs/queue:Queue",
  "aws:ecs/cluster:Cluster",
  "aws:ecs/service:Service",
  "aws:lambda/function:Function",
]);

/** Outputs that identify a resource when another resource's input holds them. */
const IDENTIFYING_OUTPUTS = ["arn", "url", "name"];
/**
 * Types that differ: SES names its resources by what they are called, and a resource whose input
 * is another's ARN (a topic policy's `arn`) or name (an event destination's configuration set)
 * echoes it among its outputs without being what it names.
 */
const IDENTIFYING_OUTPUTS_BY_TYPE: Record<string, string[]> = {
  "aws:sesv2/configurationSet:ConfigurationSet": ["arn", "configurationSetName"],
  "aws:sesv2/emailIdentity:EmailIdentity": ["arn", "emailIdentity"],
  "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes": [],
  "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination": [],
  "aws:sns/topicPolicy:TopicPolicy": [],
};

const UNKNOWN = Symbol("unknown in the plan");

/**
 * The owner of an ARN a leaf extends with `:` (`<log group ARN>:log-stream:*`): Terraform writes
 * the same as an interpolation of that ARN, a reference.
 */
function arnPrefixOwner(owners: ReadonlyMap<string, string>, leaf: string): string | undefined {
  for (const [value, owner] of owners) {
    if (value.startsWith("arn:") && leaf.startsWith(`${value}:`)) return owner;
  }
  return undefined;
}

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
      fifo: boolean /** A `count` resource (the table, the SES resources). */;
      counted?: boolean;
      /** The state's attributes, when not a queue's (id, url, arn, name, fifo_queue). */
      attributes?: Record<string, unknown>;
      schemaVersion?: number;
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
    ...(infra.fleet
      ? [
          infra.fleet.service.repository,
          infra.fleet.service.lifecyclePolicy,
          infra.fleet.service.cluster,
          infra.fleet.service.logGroup,
          infra.fleet.service.taskRole,
          infra.fleet.service.taskRolePolicy,
          infra.fleet.service.executionRole,
          infra.fleet.service.executionRolePolicy,
          infra.fleet.service.taskDefinition,
          infra.fleet.service.service,
          infra.fleet.autoscaling.target,
          infra.fleet.autoscaling.backlogPolicy,
          infra.fleet.autoscaling.wakePolicy,
          infra.fleet.autoscaling.wakeAlarm,
          infra.fleet.alarms?.topic,
          infra.fleet.alarms?.emailSubscription,
          infra.fleet.alarms?.deadLetters,
          infra.fleet.alarms?.oldestMessage,
          infra.fleet.alarms?.runningBelowDesired,
          infra.fleet.alarms?.consumerPaused,
          infra.fleet.alarms?.handlerFailures,
        ]
      : []),
    ...(infra.consumerFunction
      ? [
          infra.consumerFunction.consumer.logGroup,
          infra.consumerFunction.consumer.role,
          infra.consumerFunction.consumer.rolePolicy,
          infra.consumerFunction.consumer.function,
          infra.consumerFunction.consumer.eventSource,
          infra.consumerFunction.alarms?.topic,
          infra.consumerFunction.alarms?.emailSubscription,
          infra.consumerFunction.alarms?.deadLetters,
          infra.consumerFunction.alarms?.errors,
          infra.consumerFunction.alarms?.throttles,
          infra.consumerFunction.alarms?.paused,
        ]
      : []),
    infra.mail?.topicPolicy,
    infra.mail?.eventDestination,
    infra.mail?.mailFrom,
    infra.mail?.identity,
    infra.mail?.subscription,
    infra.mail?.bounceQueues.queuePolicy,
    infra.mail?.bounceQueues.deadLetterQueuePolicy,
    infra.mail?.bounceQueues.redrivePolicy,
    infra.mail?.bounceQueues.redriveAllowPolicy,
    infra.pipeline?.oidcProvider,
    infra.pipeline?.ecrPushRole,
    infra.pipeline?.planRole,
    infra.pipeline?.deployRole,
    ...(infra.pipeline?.rolePolicies ?? []),
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
    const pair = terraformPart(r.name.slice(name.length + 1));
    if (!type || !pair) {
      throw new Error(
        `no Terraform counterpart for Pulumi resource ${r.type} ${r.name}: add it to TERRAFORM_TYPES / RESOURCE_PAIRS in src/stack/resource-pairs.ts`,
      );
    }
    // The pair table is what `infra:adopt` hands a stack over with: its type must be this one.
    if (pair.type !== type) {
      throw new Error(
        `RESOURCE_PAIRS pairs ${r.name} (${r.type}) with ${RESOURCE_PAIRS[r.name.slice(name.length + 1)]}, a ${pair.type}: it must be a ${type} (src/stack/resource-pairs.ts)`,
      );
    }
    return pair.address;
  };
  // Components (the project's own types) have no Terraform counterpart: only their children do.
  const declared = mine().filter(
    (r) => !r.type.startsWith("pulumi:providers:") && !r.type.startsWith("sqs-messaging:"),
  );
  // Every identifying output value → "address.output", to find what an input refers to.
  const outputOwners = new Map<string, string>();
  for (const r of declared) {
    for (const output of IDENTIFYING_OUTPUTS_BY_TYPE[r.type] ?? IDENTIFYING_OUTPUTS) {
      const value = r.outputs?.[output];
      // Names that are also configured strings elsewhere (a queue's, and the ECS cluster's and
      // service's, which name metric dimensions, a task family, a scaling resource id) identify
      // nothing: Terraform writes them from the settings, not as references.
      if (typeof value === "string" && !(output === "name" && NAMES_NOT_REFERENCES.has(r.type))) {
        // As Terraform names the attribute (an alarm's `name` is its `alarm_name`).
        const attribute = PULUMI_TYPE_ARGUMENTS[r.type]?.[output] ?? toSnakeCase(output);
        outputOwners.set(value, `${addressOf(r)}.${attribute}`);
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
      const argument = PULUMI_TYPE_ARGUMENTS[r.type]?.[key] ?? PULUMI_ARGUMENTS[key] ?? toSnakeCase(key);
      if (ONE_SIDED.has(argument)) continue;
      values[argument] = BLOCKS.has(argument) ? pulumiBlock(value) : normalise(value);
      const refs = leaves(value)
        .map((leaf) => outputOwners.get(leaf) ?? arnPrefixOwner(outputOwners, leaf))
        .filter((owner): owner is string => owner !== undefined && !owner.startsWith(`${address}.`));
      if (refs.length > 0 && !DYNAMIC_BLOCKS.has(argument)) references[argument] = [...new Set(refs)].sort();
    }
    model.resources[address] = { values, references };
    // The email resources (`count` in Terraform) are in the state too: their ARNs, and so the
    // consumer policy and the topic and queue policies, are then known values in the plan.
    const mail = r.name.startsWith(`${name}-mail-`);
    if (r.type === "aws:sqs/queue:Queue") {
      queues[address] = {
        name: r.outputs.name,
        url: r.outputs.url,
        arn: r.outputs.arn,
        fifo: !!r.inputs.fifoQueue,
        ...(mail ? { counted: true } : {}),
      };
    }
    if (r.type === "aws:dynamodb/table:Table") {
      queues[address] = { name: r.outputs.name, url: "", arn: r.outputs.arn, fifo: false, counted: true };
    }
    const known = (attributes: Record<string, unknown>) => {
      queues[address] = {
        name: "",
        url: "",
        arn: r.outputs.arn,
        fifo: false,
        counted: true,
        attributes,
        schemaVersion: 0,
      };
    };
    if (r.type === "aws:sns/topic:Topic") {
      known({ id: r.outputs.arn, arn: r.outputs.arn, name: r.outputs.name, fifo_topic: false });
    }
    // The function's log group: its ARN, with a stream pattern appended, is in the function's
    // role policy, which is then a known value to compare (a reference cannot show the pattern).
    if (r.type === "aws:cloudwatch/logGroup:LogGroup" && address === "aws_cloudwatch_log_group.function") {
      known({ id: r.outputs.name, arn: r.outputs.arn, name: r.outputs.name });
    }
    if (r.type === "aws:sesv2/configurationSet:ConfigurationSet") {
      const setName = r.outputs.configurationSetName;
      known({ id: setName, arn: r.outputs.arn, configuration_set_name: setName });
    }
    if (r.type === "aws:sesv2/emailIdentity:EmailIdentity") {
      const identity = r.outputs.emailIdentity;
      known({ id: identity, arn: r.outputs.arn, email_identity: identity });
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
  /** Shares one edited copy between cases: the first case of a name edits it. */
  readonly module?: string;
}

/**
 * A Terraform override file (merged into main.tf's provider block) for an offline plan of a stack
 * without the emulator endpoint: dummy keys and the skip flags, so that nothing calls AWS, and no
 * assumed role (the provider would call STS while configuring; a dynamic block of the same type in
 * an override replaces the original's).
 */
export function offlineProvider(moduleDir: string): void {
  writeFileSync(
    join(moduleDir, "offline_override.tf"),
    `provider "aws" {
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  dynamic "assume_role" {
    for_each = []
    content {
      role_arn = "none"
    }
  }
}
`,
  );
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
    const source = planCase.module ?? (planCase.edit ? call : "checkout");
    const dir = join(workspace, "modules", source);
    if (!existsSync(dir)) {
      copyModuleTo(dir);
      planCase.edit?.(dir);
    }
    root.module[call] = {
      source: `./modules/${source}`,
      ...Object.fromEntries(Object.entries(planCase.config).map(([key, value]) => [toSnakeCase(key), value])),
    };
    root.output[call] = {
      value: { region: `\${module.${call}.region}`, endpoint: `\${module.${call}.endpoint}` },
    };
    for (const [modelAddress, queue] of Object.entries(planCase.queues)) {
      // The state holds the queues where stacks applied before modules/queue-pair have them, so
      // every plan also proves the `moved` blocks: a queue moves, it is never replaced.
      const address = LEGACY_ADDRESSES[modelAddress] ?? modelAddress;
      const [type, name] = address.split(".");
      state.push({
        module: `module.${call}`,
        mode: "managed",
        type,
        name,
        provider: `module.${call}.provider["registry.terraform.io/hashicorp/aws"]`,
        ...(queue.counted ? { each: "list" } : {}),
        instances: [
          queue.attributes
            ? { index_key: 0, schema_version: queue.schemaVersion ?? 0, attributes: queue.attributes }
            : queue.counted && queue.url === ""
              ? {
                  index_key: 0,
                  schema_version: 1,
                  attributes: { id: queue.name, arn: queue.arn, name: queue.name, hash_key: "id" },
                }
              : {
                  ...(queue.counted ? { index_key: 0 } : {}),
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
      // ...or the child modules each copy calls (modules/queue-pair): init installs them.
      .update(
        readdirSync(join(projectRoot, "infra-terraform"))
          .filter((file) => file.endsWith(".tf"))
          .flatMap(
            (file) =>
              readFileSync(join(projectRoot, "infra-terraform", file), "utf8").match(
                /^module "[^"]+"|^\s*source\s*=.*$/gm,
              ) ?? [],
          )
          .join(","),
      )
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
    // Show needs only the provider's schema: one shared process (the plan above configures its own).
    const show = await withSharedProvider(workspace, () => timed(["show", "-json", "parity.tfplan"]));
    return {
      json: JSON.parse(show.stdout),
      calls,
      seconds: { init, plan: plan.seconds, show: show.seconds },
    };
  } finally {
    await cli.dispose();
  }
}

/** Every reference inside an expression, nested blocks included (a block is a list of objects). */
function allReferences(expression: Json): string[] {
  if (Array.isArray(expression)) return expression.flatMap(allReferences);
  if (expression && typeof expression === "object") {
    if (Array.isArray(expression.references)) return expression.references;
    return Object.values(expression).flatMap(allReferences);
  }
  return [];
}

/**
 * Where the queue pairs' resources were before modules/queue-pair (the `moved` blocks of queues.tf
 * and email.tf lead from these to the module addresses).
 */
export const LEGACY_ADDRESSES: Readonly<Record<string, string>> = {
  "module.registrations.aws_sqs_queue.main": "aws_sqs_queue.main",
  "module.registrations.aws_sqs_queue.dead_letter": "aws_sqs_queue.dead_letter",
  "module.bounces.aws_sqs_queue.main": "aws_sqs_queue.bounces",
  "module.bounces.aws_sqs_queue.dead_letter": "aws_sqs_queue.bounces_dead_letter",
};

/** One module's configuration, and how its `var.` references resolve in its caller. */
interface Scope {
  readonly prefix: string;
  readonly module: Json;
  readonly call?: { readonly expressions: Json; readonly parent: Scope };
}

/**
 * The resource references of an expression as `address.attribute` from the case's root, instance
 * keys dropped: through a child module's outputs (`module.m.arn`) and a module's variables
 * (`var.x`, resolved in the caller), as far as they lead to resources.
 */
function scopedReferences(expression: Json, scope: Scope, depth = 0): string[] {
  if (depth > 8) return [];
  const found: string[] = [];
  for (const raw of allReferences(expression)) {
    const ref = raw.replace(/\[[^\]]*\]/g, "");
    const parts = ref.split(".");
    if (/^aws_\w+\.\w+\.\w+$/.test(ref)) found.push(`${scope.prefix}${ref}`);
    else if (parts[0] === "var" && parts.length === 2 && scope.call) {
      const argument = scope.call.expressions?.[parts[1] ?? ""];
      if (argument) found.push(...scopedReferences(argument, scope.call.parent, depth + 1));
    } else if (parts[0] === "module" && parts.length === 3) {
      const child = scope.module.module_calls?.[parts[1] ?? ""];
      const output = child?.module?.outputs?.[parts[2] ?? ""];
      if (output) {
        const childScope: Scope = {
          prefix: `${scope.prefix}module.${parts[1]}.`,
          module: child.module,
          call: { expressions: child.expressions ?? {}, parent: scope },
        };
        found.push(...scopedReferences(output.expression, childScope, depth + 1));
      }
    }
  }
  return [...new Set(found)].sort();
}

/** One case of the plan, normalised like the Pulumi side. */
export function terraformModel(plan: Plan, caseName: string): Model {
  const call = plan.calls[caseName];
  if (!call) throw new Error(`no case ${caseName} in the plan`);
  const rootScope: Scope = {
    prefix: "",
    module: plan.json.configuration.root_module.module_calls[call].module,
  };
  const model: Model = {
    resources: {},
    provider: { region: undefined, endpoint: undefined, defaultTags: {} },
  };
  for (const change of plan.json.resource_changes as Json[]) {
    const inCase =
      change.module_address === `module.${call}` ||
      String(change.module_address).startsWith(`module.${call}.`);
    if (!inCase || change.mode !== "managed") continue;
    if (change.change.actions.length === 1 && change.change.actions[0] === "delete") continue;
    // A child module (modules/queue-pair): its resources are named from the case's root.
    const sub = String(change.module_address)
      .slice(`module.${call}`.length + 1)
      .replace(/\[[^\]]*\]/g, "");
    let scope = rootScope;
    for (const name of sub === "" ? [] : sub.split(".").filter((_, i) => i % 2 === 1)) {
      const child = scope.module.module_calls[name];
      scope = {
        prefix: `${scope.prefix}module.${name}.`,
        module: child.module,
        call: { expressions: child.expressions ?? {}, parent: scope },
      };
    }
    const local = `${change.type}.${change.name}`;
    const address = `${scope.prefix}${local}`;
    const expressions =
      (scope.module.resources as Json[]).find((r) => r.address === local)?.expressions ?? {};
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
      const refs = scopedReferences(expression, scope);
      if (refs.length > 0) references[argument] = refs;
    }
    for (const argument of DYNAMIC_BLOCKS) {
      const value = change.change.after?.[argument];
      if (Array.isArray(value) && value.length > 0) values[argument] = terraformBlock(value);
    }
    model.resources[address] = { values, references };
    // The provider's default tags are visible in every taggable resource's tags_all.
    const tags = change.change.after.tags_all;
    if (tags && typeof tags === "object") model.provider.defaultTags = withoutToolTag(tags);
  }
  // A reference is static in the configuration, whether its branch is taken or not: one to a
  // resource this configuration does not declare (count = 0, e.g. SES without a mail domain) is
  // a branch not taken, and Pulumi, which only builds what exists, cannot hold it.
  for (const resource of Object.values(model.resources)) {
    for (const [argument, refs] of Object.entries(resource.references)) {
      const live = refs.filter((ref) => model.resources[ref.slice(0, ref.lastIndexOf("."))] !== undefined);
      if (live.length > 0) resource.references[argument] = live;
      else delete resource.references[argument];
    }
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
