/**
 * The two infrastructure definitions side by side: the Pulumi program (run under mocks) and the
 * Terraform module (parsed and evaluated), reduced to the same normalised shape, and compared.
 */
import * as pulumi from "@pulumi/pulumi";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { toCamelCase, toSnakeCase } from "../../src/stack/outputs.js";
import { evaluate, type Hcl, type Scope } from "./hcl.js";
import { ACCOUNT, decoded, type RecordedResource, registered, setStackConfig } from "./pulumi-mocks.js";

/** One definition, normalised: resource address → its arguments. */
export type Model = Record<string, Record<string, unknown>>;

/** Pulumi resource names (suffix after the component's name) ↔ Terraform addresses. */
export const ADDRESSES: Record<string, string> = {
  queue: "aws_sqs_queue.main",
  dlq: "aws_sqs_queue.dead_letter",
  redrive: "aws_sqs_queue_redrive_policy.main",
  "redrive-allow": "aws_sqs_queue_redrive_allow_policy.dead_letter",
  "queue-policy": "aws_sqs_queue_policy.main",
  "dlq-policy": "aws_sqs_queue_policy.dead_letter",
  producer: "aws_iam_policy.producer",
  consumer: "aws_iam_policy.consumer",
  "producer-role": "aws_iam_role.producer",
  "consumer-role": "aws_iam_role.consumer",
  "producer-role-policy": "aws_iam_role_policy_attachment.producer",
  "consumer-role-policy": "aws_iam_role_policy_attachment.consumer",
};

/** Arguments compared per resource type (both sides spell them in camelCase once normalised). */
const COMPARED: Record<string, string[]> = {
  aws_sqs_queue: [
    "name",
    "visibilityTimeoutSeconds",
    "messageRetentionSeconds",
    "maxMessageSize",
    "receiveWaitTimeSeconds",
    "delaySeconds",
    "sqsManagedSseEnabled",
    "kmsMasterKeyId",
    "kmsDataKeyReusePeriodSeconds",
    "fifoQueue",
    "contentBasedDeduplication",
  ],
  aws_sqs_queue_redrive_policy: ["queueUrl", "redrivePolicy"],
  aws_sqs_queue_redrive_allow_policy: ["queueUrl", "redriveAllowPolicy"],
  aws_sqs_queue_policy: ["queueUrl", "policy"],
  aws_iam_policy: ["policy"],
  aws_iam_role: ["assumeRolePolicy"],
  aws_iam_role_policy_attachment: [],
};

const JSON_ARGUMENTS = new Set(["redrivePolicy", "redriveAllowPolicy", "policy", "assumeRolePolicy"]);

function normalise(type: string, args: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of COMPARED[type] ?? []) {
    const value = args[name];
    if (value === undefined || value === null) continue;
    out[name] = JSON_ARGUMENTS.has(name) && typeof value === "string" ? JSON.parse(value) : value;
  }
  return out;
}

function provider(args: {
  region: unknown;
  assumeRoles: unknown;
  defaultTags: unknown;
  endpoints: unknown;
  skip: boolean;
}): Record<string, unknown> {
  return {
    region: args.region,
    assumeRoles: args.assumeRoles ?? [],
    // Each tool marks its own resources: the only value allowed to differ.
    defaultTags: { ...(args.defaultTags as object), "managed-by": "<tool>" },
    endpoints: args.endpoints ?? [],
    skipFlags: args.skip,
  };
}

/** Runs the Pulumi program under the (already installed) mocks with `config` (camelCase keys). */
export async function pulumiModel(
  config: Record<string, unknown>,
  resources: RecordedResource[],
  name: string,
): Promise<Model> {
  setStackConfig(config);
  const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
  await registered(
    infra.queues.queuePolicy,
    infra.queues.deadLetterQueuePolicy,
    infra.queues.redrivePolicy,
    infra.queues.redriveAllowPolicy,
    infra.access?.producerPolicy,
    infra.access?.consumerPolicy,
    infra.access?.producerRole,
    infra.access?.consumerRole,
  );
  const model: Model = {};
  const roleAttachments = (infra.access?.producerRole ? 1 : 0) + (infra.access?.consumerRole ? 1 : 0);
  const deadline = Date.now() + 5_000;
  while (
    resources.filter((r) => r.name.startsWith(`${name}-`) && r.name.endsWith("-role-policy")).length <
    roleAttachments
  ) {
    if (Date.now() > deadline) throw new Error("role attachments never registered");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  for (const r of resources.filter((r) => r.name.startsWith(`${name}-`))) {
    const suffix = r.name.slice(name.length + 1);
    if (suffix === "aws") {
      const p = r.inputs;
      model.provider = provider({
        region: p.region,
        assumeRoles: decoded(p.assumeRoles),
        defaultTags: (decoded(p.defaultTags) as { tags: object }).tags,
        endpoints: decoded(p.endpoints),
        skip: String(p.skipCredentialsValidation) === "true",
      });
      continue;
    }
    const address = ADDRESSES[suffix];
    if (!address) throw new Error(`no Terraform counterpart known for Pulumi resource ${r.name}`);
    const type = address.split(".")[0] ?? "";
    const { tags: _tags, ...inputs } = r.inputs;
    model[address] = normalise(type, inputs);
  }
  return model;
}

/** Evaluates the Terraform module with `config` (camelCase keys, as for Pulumi). */
export function terraformModel(module: Hcl, config: Record<string, unknown>): Model {
  const variables: Record<string, unknown> = {};
  const scope: Scope = { resolve };
  for (const [name, block] of Object.entries(module.variable as Record<string, Hcl>)) {
    const given = config[toCamelCase(name)];
    variables[name] = given !== undefined ? given : evaluate(block.default ?? null, scope);
  }
  const locals: Record<string, unknown> = {};
  const context: Record<string, unknown> = {};
  const region = String(variables.region);

  function resourceName(type: string, name: string): string {
    return String(evaluate(module.resource[type][name].name, scope));
  }

  function resolve(path: string[]): unknown {
    const [root, name, ...rest] = path;
    if (root === "var") {
      if (!name || !(name in variables)) throw new Error(`unknown variable ${name}`);
      return variables[name];
    }
    if (root === "local") {
      if (!(name && name in module.locals)) throw new Error(`unknown local ${name}`);
      if (!(name in locals)) locals[name] = evaluate(module.locals[name], scope);
      return locals[name];
    }
    if (root === "aws_sqs_queue" && name) {
      const queue = resourceName(root, name);
      if (rest[0] === "arn") return `arn:aws:sqs:${region}:${ACCOUNT}:${queue}`;
      if (rest[0] === "url") return `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${queue}`;
    }
    if (root && name && rest.length === 0 && module.resource[root]?.[name]) {
      // A counted resource as a whole (length(aws_iam_role.consumer)): one element per instance.
      const block = module.resource[root][name];
      const count = block.count === undefined ? 1 : Number(evaluate(block.count, scope));
      return Array.from({ length: count }, () => ({}));
    }
    if (root && root in context && name === "value") return context[root];
    throw new Error(`reference ${path.join(".")} is outside the subset`);
  }

  const model: Model = {};
  for (const [type, byName] of Object.entries(module.resource as Record<string, Record<string, Hcl>>)) {
    for (const [name, block] of Object.entries(byName)) {
      const count = block.count === undefined ? 1 : Number(evaluate(block.count, scope));
      if (count === 0) continue;
      const args: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(block)) {
        if (["count", "lifecycle", "dynamic", "depends_on"].includes(key)) continue;
        if (COMPARED[type]?.includes(toCamelCase(key))) args[toCamelCase(key)] = evaluate(value, scope);
      }
      model[`${type}.${name}`] = normalise(type, args);
    }
  }

  const p = module.provider.aws;
  const dynamicBlock = (block: string): Record<string, unknown>[] => {
    const spec = p.dynamic?.[block]?.[0];
    if (!spec) return [];
    return (evaluate(spec.for_each, scope) as unknown[]).map((value) => {
      context[block] = value;
      const content = evaluate(spec.content[0], scope) as Record<string, unknown>;
      delete context[block];
      return Object.fromEntries(
        Object.entries(content)
          .filter(([, v]) => v !== null)
          .map(([k, v]) => [toCamelCase(k), v]),
      );
    });
  };
  model.provider = provider({
    region: evaluate(p.region, scope),
    assumeRoles: dynamicBlock("assume_role"),
    defaultTags: evaluate(p.default_tags[0].tags, scope),
    endpoints: dynamicBlock("endpoints"),
    skip: evaluate(p.skip_credentials_validation, scope) === true,
  });
  return model;
}

/** Every difference, one line each; empty when the definitions agree. */
export function differences(pulumiSide: Model, terraformSide: Model): string[] {
  const found: string[] = [];
  const addresses = new Set([...Object.keys(pulumiSide), ...Object.keys(terraformSide)]);
  for (const address of [...addresses].sort()) {
    const a = pulumiSide[address];
    const b = terraformSide[address];
    if (!a) found.push(`${address}: only in Terraform`);
    else if (!b) found.push(`${address}: only in Pulumi`);
    else {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify(sorted(a[key])) !== JSON.stringify(sorted(b[key]))) {
          found.push(
            `${address}.${key}: Pulumi ${JSON.stringify(a[key])} ≠ Terraform ${JSON.stringify(b[key])}`,
          );
        }
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

export { toSnakeCase };
