/**
 * Adoption (`npm run infra:adopt`, docs/migration.md): this project takes over resources that
 * already exist, without a replace — so a queue keeps its URL and every message in it.
 *
 * - From the original system's Terraform state (one queue, nothing else): the project's main
 *   queue is that queue. Its identity (name, FIFO-ness, region) is kept; the dead-letter queue,
 *   redrive, policies and table are created; its other attributes move to the project's values
 *   (or are kept with `keepQueueValues`).
 * - Between this project's own programs: every resource of one is a resource of the other (the
 *   pair table, src/stack/resource-pairs.ts), imported by its id.
 *
 * Everything here reads JSON documents the tools print (`terraform show -json`, a raw state,
 * `pulumi stack export`) and returns the files to write; src/ops/adopt-run.ts runs the tools and
 * writes, and the CLI (src/cli/adopt.ts) prints. A case it cannot adopt safely is an `AdoptRefusal`: one line, exit code 2.
 */
import type { Adoption, LiveQueueInputs } from "../config/adoption.js";
import { type QueueSettings, queueSettingsProblems } from "../config/queue-settings.js";
import type { Settings } from "../config/settings.js";
import { ConfigurationError } from "../errors.js";
import { describeChange, destructiveChanges } from "../stack/replace-check.js";
import {
  PULUMI_COMPONENT_NAME,
  pulumiSuffix,
  RESOURCE_PAIRS,
  resourceAddress,
  TERRAFORM_TYPES,
  terraformPart,
} from "../stack/resource-pairs.js";

/** A case the tool cannot adopt without risk: one line that names it and the way out; exit 2. */
export class AdoptRefusal extends ConfigurationError {
  override name = "AdoptRefusal";
}

// biome-ignore lint/suspicious/noExplicitAny: `terraform show -json`, raw states and stack exports are large untyped documents.
type Json = any;

/** One managed resource as a state holds it. */
export interface StateResource {
  /** `aws_sqs_queue.this`, `aws_iam_policy.producer[0]`, `module.x.aws_sqs_queue.y`. */
  readonly address: string;
  readonly type: string;
  /** Terraform's attributes (snake_case). */
  readonly values: Record<string, Json>;
}

/** The managed resources of `terraform show -json` (with no arguments: the current state). */
export function resourcesFromShow(show: Json, source: string): StateResource[] {
  if (!show || typeof show !== "object" || typeof show.format_version !== "string") {
    throw new AdoptRefusal(
      `${source} is not \`terraform show -json\` output: point --terraform-dir at the original Terraform folder (after terraform init), or pass a pulled state with --state.`,
    );
  }
  const found: StateResource[] = [];
  const walk = (module: Json) => {
    for (const r of (module?.resources ?? []) as Json[]) {
      if (r.mode === "managed") found.push({ address: r.address, type: r.type, values: r.values ?? {} });
    }
    for (const child of (module?.child_modules ?? []) as Json[]) walk(child);
  };
  walk(show.values?.root_module);
  return found;
}

/** The managed resources of a raw state file (`terraform state pull`, version 4). */
export function resourcesFromRawState(state: Json, source: string): StateResource[] {
  if (!state || typeof state !== "object" || state.version !== 4 || !Array.isArray(state.resources)) {
    throw new AdoptRefusal(
      `${source} is not a Terraform state (version 4): pass the output of \`terraform state pull\`, or use --terraform-dir.`,
    );
  }
  return (state.resources as Json[])
    .filter((r) => r.mode === "managed")
    .flatMap((r) =>
      ((r.instances ?? []) as Json[]).map((instance) => {
        const key = instance.index_key;
        const index =
          key === undefined ? "" : typeof key === "number" ? `[${key}]` : `[${JSON.stringify(key)}]`;
        const prefix = r.module ? `${r.module}.` : "";
        return {
          address: `${prefix}${r.type}.${r.name}${index}`,
          type: r.type,
          values: instance.attributes ?? {},
        };
      }),
    );
}

/** A queue as it lives, read from its state. */
export interface LiveQueue {
  readonly address: string;
  readonly url: string;
  readonly arn: string;
  readonly name: string;
  readonly region: string;
  readonly fifo: boolean;
  /** Its attributes as the Pulumi queue's inputs (step 1 declares them). */
  readonly inputs: LiveQueueInputs;
}

function liveQueue(resource: StateResource): LiveQueue {
  const v = resource.values;
  const region = String(v.arn ?? "").split(":")[3] ?? "";
  const name = String(v.name ?? "");
  const fifo = v.fifo_queue === true;
  if (!v.url || !region || !name) {
    throw new AdoptRefusal(
      `${resource.address} has no URL, ARN or name in the state: refresh the original state (terraform apply -refresh-only) and run again.`,
    );
  }
  if (name.endsWith(".fifo") !== fifo) {
    throw new AdoptRefusal(
      `${resource.address} is named ${name} but its state says fifo_queue = ${fifo}: a FIFO/standard mismatch; refresh the original state (terraform apply -refresh-only) and run again.`,
    );
  }
  const kms =
    typeof v.kms_master_key_id === "string" && v.kms_master_key_id !== "" ? v.kms_master_key_id : undefined;
  const inputs: LiveQueueInputs = {
    delaySeconds: v.delay_seconds,
    maxMessageSize: v.max_message_size,
    messageRetentionSeconds: v.message_retention_seconds,
    receiveWaitTimeSeconds: v.receive_wait_time_seconds,
    visibilityTimeoutSeconds: v.visibility_timeout_seconds,
    fifoQueue: fifo,
    contentBasedDeduplication: v.content_based_deduplication === true,
    // The provider rejects sqsManagedSseEnabled next to a KMS key (queue-pair.ts).
    ...(kms
      ? { kmsMasterKeyId: kms, kmsDataKeyReusePeriodSeconds: v.kms_data_key_reuse_period_seconds }
      : { sqsManagedSseEnabled: v.sqs_managed_sse_enabled === true }),
  };
  return { address: resource.address, url: String(v.url), arn: String(v.arn), name, region, fifo, inputs };
}

/**
 * The values that keep an adopted stack's identity. Settings keys (infra-terraform/settings.json),
 * so each is a Pulumi config key and, in snake_case, a Terraform variable (the parity test checks
 * that every settings key is both).
 */
export type Identity = Pick<Settings["stack"], "region"> &
  Pick<QueueSettings, "queueName" | "deadLetterQueueName" | "fifo" | "contentBasedDeduplication"> &
  /** Only for a hand-over between the project's programs: which optional parts exist. */
  Partial<Pick<Settings["stack"], "createAccessPolicies"> & Pick<Settings["table"], "createSentEmailsTable">>;

/** One resource to import: its address in Terraform, its name in Pulumi, its import id. */
export interface Adopted {
  readonly terraform: string;
  readonly pulumi: string;
  readonly id: string;
  /** Step 1's live inputs (queues only). */
  readonly inputs?: LiveQueueInputs;
}

export interface AdoptionPlan {
  readonly from: "original" | "terraform" | "pulumi";
  readonly identity: Identity;
  readonly resources: readonly Adopted[];
  /** The original's address of the queue (for the hand-over text); absent between own programs. */
  readonly originalAddress?: string;
  /** The original's queue attributes, to keep instead of the project's values. */
  readonly live?: LiveQueue;
}

export interface AdoptOptions {
  /** The settings (infra-terraform/settings.json unless a test passes others). */
  readonly settings: Settings;
  /** The queue type the target already declares (a stack config's `fifo`), if it does. */
  readonly declaredFifo?: boolean | undefined;
  /** The Pulumi component name (`registrations`). */
  readonly component?: string;
}

/** The dead-letter queue's name for an adopted queue: `<name>-dlq`, `.fifo` kept last. */
export function deadLetterName(queueName: string, fifo: boolean): string {
  return fifo ? `${queueName.replace(/\.fifo$/, "")}-dlq.fifo` : `${queueName}-dlq`;
}

function checkIdentity(identity: Identity, options: AdoptOptions, queue: string): void {
  if (options.declaredFifo !== undefined && options.declaredFifo !== identity.fifo) {
    throw new AdoptRefusal(
      `${queue} is a ${identity.fifo ? "FIFO" : "standard"} queue but the target stack declares fifo = ${options.declaredFifo}: a FIFO/standard mismatch; a queue cannot change type, so remove fifo from the stack config (or adopt into a new stack).`,
    );
  }
  const problems = queueSettingsProblems({
    ...options.settings.queues,
    queueName: identity.queueName,
    deadLetterQueueName: identity.deadLetterQueueName,
    fifo: identity.fifo,
    contentBasedDeduplication: identity.contentBasedDeduplication,
  }).filter((p) => /queueName|deadLetterQueueName/.test(p));
  if (problems.length > 0) {
    throw new AdoptRefusal(
      `the name of ${queue} cannot be kept by the settings: ${problems[0]} Rename the queue in the original first (a new queue, drained into it), or adopt by hand.`,
    );
  }
}

/** The import id of a resource, from its state attributes (as the provider's docs spell each). */
export function importId(terraformType: string, values: Record<string, Json>, id: string): string {
  switch (terraformType) {
    case "aws_iam_role_policy_attachment":
      return `${values.role}/${values.policy_arn}`;
    case "aws_ecs_service":
      return `${String(values.cluster).split("/").pop()}/${values.name}`;
    case "aws_appautoscaling_target":
      return `${values.service_namespace}/${values.resource_id}/${values.scalable_dimension}`;
    case "aws_appautoscaling_policy":
      return `${values.service_namespace}/${values.resource_id}/${values.scalable_dimension}/${values.name}`;
    case "aws_ecs_task_definition":
      return String(values.arn);
    default:
      return id;
  }
}

/** The original system: exactly one queue and nothing else. */
function fromOriginal(resources: StateResource[], options: AdoptOptions): AdoptionPlan {
  const queues = resources.filter((r) => r.type === "aws_sqs_queue" && !r.address.startsWith("module."));
  const other = resources.find((r) => !queues.includes(r)) ?? queues[1];
  if (other) {
    throw new AdoptRefusal(
      `the original state holds ${other.address}, which this tool cannot map (it adopts one queue and nothing else): move it out of that state first (terraform state rm, or a removed block), then run again.`,
    );
  }
  const [resource] = queues;
  if (!resource) {
    throw new AdoptRefusal(
      "the original state holds no queue: check --terraform-dir / --state (an empty state, or the wrong workspace).",
    );
  }
  const live = liveQueue(resource);
  const identity = queueIdentity(live, undefined, {});
  checkIdentity(identity, options, resource.address);
  const component = options.component ?? PULUMI_COMPONENT_NAME;
  return {
    from: "original",
    identity,
    originalAddress: resource.address,
    live,
    resources: [
      {
        terraform: RESOURCE_PAIRS.queue ?? "",
        pulumi: `${component}-queue`,
        id: live.url,
        inputs: live.inputs,
      },
    ],
  };
}

/** Whether every managed resource of the state is one of this project's Terraform resources. */
function isProjectState(resources: StateResource[]): boolean {
  return (
    resources.some((r) => resourceAddress(r.address) === resourceAddress(RESOURCE_PAIRS.queue ?? "")) &&
    resources.every((r) => pulumiSuffix(r.address) !== undefined)
  );
}

function queueIdentity(main: LiveQueue, dead: LiveQueue | undefined, extra: Partial<Identity>): Identity {
  return {
    region: main.region,
    queueName: main.name,
    deadLetterQueueName: dead?.name ?? deadLetterName(main.name, main.fifo),
    fifo: main.fifo,
    contentBasedDeduplication: main.inputs.contentBasedDeduplication === true,
    ...extra,
  };
}

/** This project's own Terraform state, handed to its Pulumi program. */
function fromProjectTerraform(resources: StateResource[], options: AdoptOptions): AdoptionPlan {
  const component = options.component ?? PULUMI_COMPONENT_NAME;
  const adopted: Adopted[] = [];
  const queues: Record<string, LiveQueue> = {};
  for (const r of resources) {
    const suffix = pulumiSuffix(r.address) as string;
    const id = importId(r.type, r.values, String(r.values.id ?? ""));
    const queue = r.type === "aws_sqs_queue" ? liveQueue(r) : undefined;
    if (queue) queues[suffix] = queue;
    adopted.push({
      terraform: RESOURCE_PAIRS[suffix] ?? r.address,
      pulumi: `${component}-${suffix}`,
      id,
      ...(queue ? { inputs: queue.inputs } : {}),
    });
  }
  const main = queues.queue as LiveQueue;
  const has = (suffix: string) => adopted.some((a) => a.pulumi === `${component}-${suffix}`);
  const identity = queueIdentity(main, queues.dlq, {
    createAccessPolicies: has("producer"),
    createSentEmailsTable: has("table"),
  });
  checkIdentity(identity, options, main.address);
  return { from: "terraform", identity, resources: adopted };
}

/** Adopts from a Terraform state: the original system's, or this project's own. */
export function planFromTerraform(resources: StateResource[], options: AdoptOptions): AdoptionPlan {
  return isProjectState(resources)
    ? fromProjectTerraform(resources, options)
    : fromOriginal(resources, options);
}

/** camelCase outputs of a Pulumi resource as Terraform's snake_case attributes. */
function snakeKeys(values: Record<string, Json>): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(values ?? {}).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
  );
}

/** A Pulumi stack of this program (`pulumi stack export`), handed to the project's Terraform. */
export function planFromPulumiExport(exported: Json, source: string, options: AdoptOptions): AdoptionPlan {
  const list = exported?.deployment?.resources;
  if (!Array.isArray(list)) {
    throw new AdoptRefusal(
      `${source} is not a Pulumi stack export: pass the output of \`pulumi stack export --file <file>\`.`,
    );
  }
  const component = options.component ?? PULUMI_COMPONENT_NAME;
  const adopted: Adopted[] = [];
  const queues: Record<string, LiveQueue> = {};
  for (const r of list as Json[]) {
    const type: string = r.type ?? "";
    if (!r.custom || type.startsWith("pulumi:")) continue; // the stack, components, providers
    const name =
      String(r.urn ?? "")
        .split("::")
        .pop() ?? "";
    const suffix = name.startsWith(`${component}-`) ? name.slice(component.length + 1) : undefined;
    const address = suffix !== undefined ? RESOURCE_PAIRS[suffix] : undefined;
    if (!address || TERRAFORM_TYPES[type] !== terraformPart(suffix ?? "")?.type) {
      throw new AdoptRefusal(
        `the stack holds ${name} (${type}), which this project's Terraform does not declare: remove it from the stack (pulumi state delete) or keep that stack in Pulumi.`,
      );
    }
    const values = snakeKeys(r.outputs ?? {});
    const terraformType = TERRAFORM_TYPES[type] as string;
    if (terraformType === "aws_sqs_queue")
      queues[suffix as string] = liveQueue({ address: name, type: terraformType, values });
    adopted.push({
      terraform: address,
      pulumi: name,
      id: importId(terraformType, values, String(r.id ?? "")),
    });
  }
  const main = queues.queue;
  if (!main) {
    throw new AdoptRefusal(
      `${source} holds no ${component}-queue: is it this project's stack (and --component)?`,
    );
  }
  const has = (suffix: string) => adopted.some((a) => a.pulumi === `${component}-${suffix}`);
  const identity = queueIdentity(main, queues.dlq, {
    createAccessPolicies: has("producer"),
    createSentEmailsTable: has("table"),
  });
  checkIdentity(identity, options, main.address);
  return { from: "pulumi", identity, resources: adopted };
}

const HEADER = [
  "# Written by `npm run infra:adopt` for one deployment (docs/migration.md); git-ignored here.",
  "# Plan, check (npm run infra:replace-check) and apply; then this file may be deleted.",
];

/** The settings the queue keeps from the original instead of the project's values. */
function keptQueueValues(
  live: LiveQueue,
): Pick<
  QueueSettings,
  | "messageRetentionSeconds"
  | "maximumMessageSizeBytes"
  | "delaySeconds"
  | "receiveWaitTimeSeconds"
  | "visibilityTimeoutSeconds"
> {
  return {
    messageRetentionSeconds: live.inputs.messageRetentionSeconds as number,
    maximumMessageSizeBytes: live.inputs.maxMessageSize as number,
    delaySeconds: live.inputs.delaySeconds as number,
    receiveWaitTimeSeconds: live.inputs.receiveWaitTimeSeconds as number,
    visibilityTimeoutSeconds: live.inputs.visibilityTimeoutSeconds as number,
  };
}

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** `adopt.tf` (import blocks) and `adopt.auto.tfvars` (identity) for infra-terraform/. */
export function terraformFiles(plan: AdoptionPlan, keepQueueValues = false): Record<string, string> {
  const imports = plan.resources
    .map((r) => `import {\n  to = ${r.terraform}\n  id = ${JSON.stringify(r.id)}\n}\n`)
    .join("\n");
  const values: Record<string, unknown> = {
    ...plan.identity,
    ...(keepQueueValues && plan.live ? keptQueueValues(plan.live) : {}),
  };
  const tfvars = Object.entries(values)
    .map(([key, value]) => `${snake(key)} = ${JSON.stringify(value)}`)
    .join("\n");
  return {
    "adopt.tf": `${HEADER.join("\n")}\n\n${imports}`,
    "adopt.auto.tfvars": `${HEADER[0]}\n# The values that keep the adopted queue's identity: move them into your deployment's own\n# var file (the one the pipeline applies with) before this file is deleted.\n${tfvars}\n`,
  };
}

/** The stack config (keys without the project prefix) that adopts into Pulumi: step 1. */
export function pulumiConfig(plan: AdoptionPlan, keepQueueValues = false): Record<string, unknown> {
  const adopt: Adoption = Object.fromEntries(
    plan.resources.map((r) => [r.pulumi, { id: r.id, ...(r.inputs ? { inputs: r.inputs } : {}) }]),
  );
  return {
    ...plan.identity,
    ...(keepQueueValues && plan.live ? keptQueueValues(plan.live) : {}),
    adopt,
  };
}

/** What the original project does so that it never deletes the adopted queue. */
export function handOver(plan: AdoptionPlan): string[] {
  if (plan.from !== "original" || !plan.originalAddress) {
    return [
      `Hand-over: after the apply, the old program must forget what it no longer owns: ${
        plan.from === "terraform"
          ? "in infra-terraform, `terraform state rm` each address above (or a removed block with destroy = false); never `terraform destroy` it."
          : "`pulumi state delete <urn>` for each resource above (or `pulumi stack rm --force` of the whole stack); never `pulumi destroy` it."
      }`,
    ];
  }
  const address = plan.originalAddress;
  return [
    "Hand-over for the original project, after the apply: replace its resource block (and the outputs that use it) by",
    "",
    "removed {",
    `  from = ${resourceAddress(address)}`,
    "  lifecycle {",
    "    destroy = false",
    "  }",
    "}",
    "",
    `or run \`terraform state rm ${address}\` there. Its next plan must show no delete (npm run infra:replace-check).`,
  ];
}

/** What a plan of the adoption must show: each import, and no queue or table replaced or deleted. */
export function checkAdoptionPlan(planJson: Json, plan: AdoptionPlan): { ok: boolean; lines: string[] } {
  const lines = destructiveChanges(planJson).map(describeChange);
  const changes = (planJson.resource_changes ?? []) as Json[];
  const imported = new Set(changes.filter((c) => c.change?.importing).map((c) => c.address as string));
  for (const r of plan.resources) {
    if (!imported.has(r.terraform)) {
      lines.push(
        `adopt: the plan does not import ${r.terraform} (id ${r.id}): is adopt.tf in the planned folder, and the id right?`,
      );
    }
  }
  return { ok: lines.length === 0, lines };
}
