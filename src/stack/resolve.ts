/**
 * Finds the queue: an explicit URL wins; otherwise the outputs of the local stack, the Pulumi
 * stack or the Terraform state, read through their own CLIs. Both CLIs (producer and consumer)
 * go through here, so they always agree on where the queue is.
 */
import { readFile } from "node:fs/promises";
import { resolve as resolvePath } from "node:path";
import { isLoopbackHost, requireSecureTransport } from "../config/endpoint.js";
import type { QueueSource } from "../config/env.js";
import { localOutputsPath } from "../config/paths.js";
import { QueueResolutionError } from "../errors.js";
import {
  optionalOutputNames,
  type StackOutputs,
  stackOutputNames,
  stackOutputsSchema,
  toCamelCase,
  toSnakeCase,
} from "./outputs.js";
import { runTool, type Tool, ToolNotInstalledError } from "./tools.js";

/** Relative to the project root, as users type it. */
export const DEFAULT_TERRAFORM_DIR = "infra-terraform";

/**
 * Where the queue is, and how to reach it: nothing else. What the stack outputs say about the
 * rest of the deployment (table, bounce queue, mail) is the consumer's configuration
 * (consumer-config.ts), resolved from the same outputs.
 */
export interface QueueLocation {
  readonly queueUrl: string;
  /** Known when read from stack outputs; otherwise the consumer asks SQS (RedrivePolicy). */
  readonly deadLetterQueueUrl?: string;
  readonly region?: string;
  /** A non-AWS endpoint (the local emulator). */
  readonly endpoint?: string;
  readonly source: QueueSource | "queue-url";
}

/** The queue, and the outputs it was read from (none when the queue was given by URL). */
export interface ResolvedStack {
  readonly location: QueueLocation;
  readonly outputs?: StackOutputs;
}

export interface ResolveOptions {
  /** `--queue-url` / `SQS_QUEUE_URL`: wins when given. */
  readonly queueUrl?: string | undefined;
  readonly source: QueueSource;
  /** Pulumi stack (`--stack` / `PULUMI_STACK`); Pulumi's selected stack when absent. */
  readonly stack?: string | undefined;
  /** Folder the local stack writes its outputs to. */
  readonly stateDir: string;
  /** Folder holding Pulumi.yaml and infra-terraform/. */
  readonly projectRoot: string;
  /** Terraform working directory (`--terraform-dir` / `TERRAFORM_DIR`); infra-terraform/ by default. */
  readonly terraformDir?: string | undefined;
}

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a tool; rejects ToolNotInstalledError when it is not installed, and an error carrying
 * its stderr when it exits non-zero.
 */
export type RunCommand = (tool: Tool, args: readonly string[], cwd: string) => Promise<CommandResult>;

/** `pulumi stack output` may ask a backend over the network; a read never waits longer than this. */
export const STACK_OUTPUTS_TIMEOUT_MS = 60_000;

export const runCommand: RunCommand = async (tool, args, cwd) => {
  const result = await runTool(tool, args, { cwd, timeoutMs: STACK_OUTPUTS_TIMEOUT_MS });
  if (result.timedOut) {
    throw Object.assign(
      new Error(`\`${tool}\` did not finish within ${STACK_OUTPUTS_TIMEOUT_MS / 1000} s and was stopped`),
      { stderr: "" },
    );
  }
  if (result.code !== 0) {
    throw Object.assign(new Error(`\`${tool}\` exited with code ${result.code}`), { stderr: result.stderr });
  }
  return result;
};

export async function resolveQueue(
  options: ResolveOptions,
  run: RunCommand = runCommand,
): Promise<QueueLocation> {
  return (await resolveStack(options, run)).location;
}

/** The queue and, when it was not given by URL, the stack outputs that named it (checked for plain HTTP). */
export async function resolveStack(
  options: ResolveOptions,
  run: RunCommand = runCommand,
): Promise<ResolvedStack> {
  if (options.queueUrl) return { location: fromQueueUrl(options.queueUrl) };
  const outputs = await readStackOutputs(options, run);
  requireSecureTransport(outputs.queueUrl);
  if (outputs.endpoint) requireSecureTransport(outputs.endpoint);
  if (outputs.dynamoDbEndpoint) requireSecureTransport(outputs.dynamoDbEndpoint);
  if (outputs.bounceQueueUrl) requireSecureTransport(outputs.bounceQueueUrl);
  return { location: locationFromOutputs(outputs, options.source), outputs };
}

/** The queue part of stack outputs. */
export function locationFromOutputs(outputs: StackOutputs, source: QueueSource): QueueLocation {
  return {
    queueUrl: outputs.queueUrl,
    deadLetterQueueUrl: outputs.deadLetterQueueUrl,
    region: outputs.region,
    ...(outputs.endpoint ? { endpoint: outputs.endpoint } : {}),
    source,
  };
}

export function readStackOutputs(options: ResolveOptions, run: RunCommand = runCommand) {
  switch (options.source) {
    case "local":
      return readLocalOutputs(options.stateDir);
    case "pulumi":
      return readPulumiOutputs(options, run);
    case "terraform":
      return readTerraformOutputs(options, run);
  }
}

/**
 * A queue URL given by hand. A loopback URL means the local emulator; plain HTTP anywhere else
 * is refused (InsecureEndpointError, exit 2).
 */
export function fromQueueUrl(queueUrl: string): QueueLocation {
  let url: URL;
  try {
    url = new URL(queueUrl);
  } catch {
    throw new QueueResolutionError(
      `SQS_QUEUE_URL / --queue-url "${queueUrl}" is not a URL. Use the queue's full URL, e.g. https://sqs.<region>.amazonaws.com/<account-id>/<queue-name>.`,
    );
  }
  const region = /^sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(url.hostname)?.[1];
  requireSecureTransport(queueUrl);
  const local = isLoopbackHost(url.hostname);
  return {
    queueUrl,
    ...(region ? { region } : {}),
    ...(local ? { endpoint: url.origin } : {}),
    source: "queue-url",
  };
}

async function readLocalOutputs(stateDir: string): Promise<StackOutputs> {
  const path = localOutputsPath(stateDir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new QueueResolutionError(
        `No local stack found (${path} does not exist). Start one with \`npm run local\` in another terminal, or choose another source with --source pulumi|terraform or --queue-url.`,
      );
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new QueueResolutionError(
      `The local stack outputs in ${path} are not JSON. Delete the file and run \`npm run local\` again.`,
    );
  }
  return checkOutputs(json, `the local stack (${path})`, "run `npm run local` again");
}

/** Validates outputs, naming what is missing and what exists. */
function checkOutputs(
  json: unknown,
  where: string,
  fix: string,
  nameOf: (name: string) => string = (name) => name,
): StackOutputs {
  const result = stackOutputsSchema.safeParse(json);
  if (result.success) return result.data;
  const present = json && typeof json === "object" ? Object.keys(json) : [];
  const missing = stackOutputNames.filter(
    (name) => !optionalOutputNames.has(name) && !present.includes(name),
  );
  const detail =
    missing.length > 0
      ? `has no output ${missing.map((name) => `"${nameOf(name)}"`).join(", ")}`
      : `has invalid outputs (${result.error.issues.map((issue) => `${nameOf(issue.path.join("."))}: ${issue.message}`).join("; ")})`;
  const existing = present.length > 0 ? present.map(nameOf).join(", ") : "none";
  return fail(`${capitalize(where)} ${detail}; it has: ${existing}. To fix: ${fix}.`);
}

function fail(message: string): never {
  throw new QueueResolutionError(message);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

interface CommandFailure {
  stderr?: string;
}

/** What a missing tool's message ends with here: the queue can be named without stack outputs. */
const SKIP_STACK_OUTPUTS = "or skip stack outputs and set SQS_QUEUE_URL / --queue-url.";

function firstLines(text: string | undefined): string {
  const lines = (text ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
  return lines.slice(0, 3).join(" ");
}

function parseJsonOutput(stdout: string, what: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    return fail(`${what} did not print JSON (got: ${stdout.slice(0, 120) || "nothing"}).`);
  }
}

async function readPulumiOutputs(options: ResolveOptions, run: RunCommand): Promise<StackOutputs> {
  const args = ["stack", "output", "--json", "--show-secrets"];
  if (options.stack) args.push("--stack", options.stack);
  const stackName = options.stack ? `Pulumi stack "${options.stack}"` : "the selected Pulumi stack";
  let result: CommandResult;
  try {
    result = await run("pulumi", args, options.projectRoot);
  } catch (error) {
    const failure = error as CommandFailure;
    if (error instanceof ToolNotInstalledError) return fail(`${error.message}, ${SKIP_STACK_OUTPUTS}`);
    return fail(
      `\`pulumi ${args.join(" ")}\` failed: ${firstLines(failure.stderr) || String(error)}. Check the stack name (--stack / PULUMI_STACK; \`pulumi stack ls\` lists them) and run \`pulumi up\` to create it.`,
    );
  }
  const json = parseJsonOutput(result.stdout, `\`pulumi ${args.join(" ")}\``);
  return checkOutputs(json, stackName, "run `pulumi up` for that stack");
}

async function readTerraformOutputs(options: ResolveOptions, run: RunCommand): Promise<StackOutputs> {
  const dir = options.terraformDir ?? DEFAULT_TERRAFORM_DIR;
  const args = [`-chdir=${dir}`, "output", "-json"];
  let result: CommandResult;
  try {
    result = await run("terraform", args, options.projectRoot);
  } catch (error) {
    const failure = error as CommandFailure;
    if (error instanceof ToolNotInstalledError) return fail(`${error.message}, ${SKIP_STACK_OUTPUTS}`);
    return fail(
      `\`terraform ${args.join(" ")}\` failed: ${firstLines(failure.stderr) || String(error)}. Run \`terraform -chdir=${dir} init\` and \`terraform -chdir=${dir} apply\` first.`,
    );
  }
  const json = parseJsonOutput(result.stdout, `\`terraform ${args.join(" ")}\``);
  // `terraform output -json` prints {name: {sensitive, type, value}}; map snake_case names.
  const outputs: Record<string, unknown> = {};
  if (json && typeof json === "object") {
    for (const [name, output] of Object.entries(json)) {
      outputs[toCamelCase(name)] =
        output && typeof output === "object" && "value" in output ? output.value : output;
    }
  }
  if (Object.keys(outputs).length === 0) {
    return fail(
      `Terraform state in ${resolvePath(options.projectRoot, dir)} has no outputs. Run \`terraform -chdir=${dir} apply\` first.`,
    );
  }
  // Terraform exports null for an unset optional output (endpoint on AWS).
  for (const name of optionalOutputNames) if (outputs[name] === null) delete outputs[name];
  return checkOutputs(outputs, "the Terraform state", `run \`terraform -chdir=${dir} apply\``, toSnakeCase);
}
