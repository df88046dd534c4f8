/**
 * `infra:adopt` as one call (the CLI, src/cli/adopt.ts, only parses flags and prints): reads the
 * state through the tools, decides with src/ops/adopt.ts, writes the files, and, with `plan`, has
 * Terraform plan the adoption and checks it. Returns the exit code and the lines to print; a case
 * it refuses throws an `AdoptRefusal` (exit 2).
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Document, parseDocument } from "yaml";
import type { Settings } from "../config/settings.js";
import { UserFacingError } from "../errors.js";
import { Terraform } from "../local/terraform.js";
import {
  type AdoptionPlan,
  AdoptRefusal,
  checkAdoptionPlan,
  handOver,
  planFromPulumiExport,
  planFromTerraform,
  pulumiConfig,
  resourcesFromRawState,
  resourcesFromShow,
  terraformFiles,
} from "./adopt.js";

/** The Pulumi project's config namespace (Pulumi.yaml `name`). */
const PROJECT = "sqs-messaging";

export interface AdoptRequest {
  readonly terraformDir?: string | undefined;
  readonly state?: string | undefined;
  readonly fromPulumi?: string | undefined;
  readonly to: "terraform" | "pulumi";
  readonly stack?: string | undefined;
  /** Where to write: infra-terraform/ (Terraform) or the folder of Pulumi.<stack>.yaml. */
  readonly targetDir: string;
  readonly keepQueueValues?: boolean | undefined;
  readonly plan?: boolean | undefined;
  readonly varFiles?: readonly string[] | undefined;
  readonly pluginMirror?: string | undefined;
  readonly settings: Settings;
}

export interface AdoptOutcome {
  readonly code: number;
  /** For stdout. */
  readonly lines: string[];
  /** For stderr: why the plan was refused. */
  readonly problems: string[];
}

function checkRequest(request: AdoptRequest): void {
  const sources = [request.terraformDir, request.state, request.fromPulumi].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new AdoptRefusal(
      "give one of --terraform-dir, --state or --from-pulumi (run with --help for usage).",
    );
  }
  if (request.to === "pulumi" && !request.stack) throw new AdoptRefusal("--to pulumi needs --stack <name>.");
  if (request.fromPulumi && request.to !== "terraform") {
    throw new AdoptRefusal("--from-pulumi hands a Pulumi stack to Terraform: use --to terraform.");
  }
  if (request.plan && request.to !== "terraform") {
    throw new AdoptRefusal(
      "--plan plans Terraform: use it with --to terraform (for Pulumi: pulumi preview --json).",
    );
  }
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new AdoptRefusal(`cannot read ${what} ${file}: ${(error as Error).message.split("\n")[0]}.`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new AdoptRefusal(`${what} ${file} is not JSON: pass the file the tool wrote, unchanged.`);
  }
}

/** `terraform show -json` in `dir`: the state as Terraform itself reads it (backend included). */
async function showState(dir: string, pluginMirror: string | undefined): Promise<unknown> {
  try {
    if (!statSync(dir).isDirectory()) throw new Error("not a folder");
  } catch {
    throw new AdoptRefusal(`--terraform-dir ${dir} is not a folder: point it at the original Terraform.`);
  }
  const terraform = new Terraform({ dir, pluginMirror, output: "pipe" });
  try {
    const shown = await terraform.run(["show", "-json", "-no-color"]);
    if (shown.code !== 0) {
      const why =
        shown.stderr
          .trim()
          .split("\n")
          .find((l) => l.trim()) ?? `exit ${shown.code}`;
      throw new AdoptRefusal(
        `cannot read the state of ${dir}: \`terraform show -json\` failed (${why}); run terraform init there, or pass a pulled state with --state.`,
      );
    }
    return JSON.parse(shown.stdout);
  } finally {
    await terraform.dispose();
  }
}

/** The fifo the target stack config already declares, if any. */
function declaredFifo(file: string): boolean | undefined {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  const value = parseDocument(text).getIn(["config", `${PROJECT}:fifo`]);
  return value === undefined ? undefined : String(value) === "true";
}

/** Sets keys in a stack file, keeping the rest of it (comments included). */
function writePulumiConfig(file: string, values: Record<string, unknown>): void {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {}
  const doc = text ? parseDocument(text) : new Document({ config: {} });
  if (!doc.has("config")) doc.set("config", doc.createNode({}));
  for (const [key, value] of Object.entries(values)) doc.setIn(["config", `${PROJECT}:${key}`], value);
  writeFileSync(file, doc.toString());
}

/** init, plan -out=adopt.tfplan, show -json, and the adoption's check of that plan. */
async function planAndCheck(request: AdoptRequest, plan: AdoptionPlan) {
  const dir = request.targetDir;
  const terraform = new Terraform({ dir, pluginMirror: request.pluginMirror, output: "pipe" });
  try {
    const step = async (args: string[]) => {
      const result = await terraform.run([...args, "-no-color"]);
      if (result.code !== 0) {
        const why = result.stderr
          .trim()
          .split("\n")
          .filter((l) => l.trim())
          .slice(0, 3)
          .join(" ");
        throw new UserFacingError(`adopt: \`terraform ${args[0]}\` in ${dir} failed: ${why}`);
      }
      return result;
    };
    await step(["init", "-input=false"]);
    const varFiles = (request.varFiles ?? []).map((f) => `-var-file=${resolve(f)}`);
    await step(["plan", "-input=false", "-out=adopt.tfplan", ...varFiles]);
    const shown = await step(["show", "-json", "adopt.tfplan"]);
    return checkAdoptionPlan(JSON.parse(shown.stdout), plan);
  } finally {
    await terraform.dispose();
  }
}

export async function adopt(request: AdoptRequest): Promise<AdoptOutcome> {
  checkRequest(request);
  const stackFile = join(request.targetDir, `Pulumi.${request.stack}.yaml`);
  const options = {
    settings: request.settings,
    declaredFifo: request.to === "pulumi" ? declaredFifo(stackFile) : undefined,
  };
  let plan: AdoptionPlan;
  if (request.fromPulumi) {
    plan = planFromPulumiExport(
      readJson(request.fromPulumi, "the stack export"),
      request.fromPulumi,
      options,
    );
  } else if (request.state) {
    const state = resourcesFromRawState(readJson(request.state, "the state"), request.state);
    plan = planFromTerraform(state, options);
  } else {
    const dir = request.terraformDir as string;
    plan = planFromTerraform(resourcesFromShow(await showState(dir, request.pluginMirror), dir), options);
  }

  const lines: string[] = [];
  if (request.to === "terraform") {
    for (const [name, text] of Object.entries(terraformFiles(plan, request.keepQueueValues))) {
      writeFileSync(join(request.targetDir, name), text);
    }
    lines.push(
      `wrote ${join(request.targetDir, "adopt.tf")} and adopt.auto.tfvars (${plan.resources.length} import(s)).`,
    );
  } else {
    writePulumiConfig(stackFile, pulumiConfig(plan, request.keepQueueValues));
    lines.push(
      `wrote ${stackFile} (step 1: ${plan.resources.length} import(s) with their live values). After \`pulumi up\`, step 2: pulumi config rm --stack ${request.stack} adopt`,
    );
  }
  for (const r of plan.resources)
    lines.push(`  ${request.to === "terraform" ? r.terraform : r.pulumi} ⇐ ${r.id}`);
  if (request.plan) {
    const checked = await planAndCheck(request, plan);
    if (!checked.ok) return { code: 1, lines, problems: checked.lines };
    lines.push(
      `plan checked (adopt.tfplan): imports ${plan.resources.length} resource(s), replaces and deletes no queue or table. Apply exactly it: terraform -chdir=${request.targetDir} apply adopt.tfplan`,
    );
  }
  lines.push(...handOver(plan));
  return { code: 0, lines, problems: [] };
}
