/**
 * `npm run infra:adopt -- --terraform-dir <dir> | --state <file> | --from-pulumi <export.json>
 * --to terraform | --to pulumi --stack <name>`: takes over existing resources without a replace
 * (src/ops/adopt.ts, docs/migration.md). Writes infra-terraform/adopt.tf and adopt.auto.tfvars,
 * or Pulumi.<stack>.yaml; with --plan (Terraform) plans the adoption and runs it through the
 * replace check; prints the hand-over for the old program.
 *
 * Exit codes: 0 written (and the plan imports and keeps every queue); 1 the plan would replace or
 * delete a queue or the table, or does not import (nothing applied); 2 usage, an unreadable state,
 * or a refusal (something it cannot map, a FIFO/standard mismatch, a name the settings cannot keep).
 */
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Command, Option } from "commander";
import { Document, parseDocument } from "yaml";
import { readEnvironment } from "../config/env.js";
import { projectRoot } from "../config/paths.js";
import { settings } from "../config/settings.js";
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
} from "../ops/adopt.js";
import { oneLineUsageErrors, runCli } from "./shared.js";

const PROJECT = "sqs-messaging";

interface AdoptFlags {
  terraformDir?: string;
  state?: string;
  fromPulumi?: string;
  to: "terraform" | "pulumi";
  stack?: string;
  targetDir?: string;
  keepQueueValues?: boolean;
  plan?: boolean;
  varFile: string[];
  pluginMirror?: string;
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
      throw new AdoptRefusal(
        `cannot read the state of ${dir}: \`terraform show -json\` failed (${
          shown.stderr
            .trim()
            .split("\n")
            .find((l) => l.trim()) ?? `exit ${shown.code}`
        }); run terraform init there, or pass a pulled state with --state.`,
      );
    }
    return JSON.parse(shown.stdout);
  } finally {
    await terraform.dispose();
  }
}

/** The fifo the target stack config already declares, if any. */
function declaredFifo(file: string): boolean | undefined {
  try {
    const value = parseDocument(readFileSync(file, "utf8")).getIn(["config", `${PROJECT}:fifo`]);
    return typeof value === "boolean" ? value : value === undefined ? undefined : String(value) === "true";
  } catch {
    return undefined;
  }
}

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

async function checkPlan(dir: string, flags: AdoptFlags, plan: AdoptionPlan): Promise<number> {
  const terraform = new Terraform({ dir, pluginMirror: flags.pluginMirror, output: "pipe" });
  try {
    const step = async (args: string[]) => {
      const result = await terraform.run([...args, "-input=false", "-no-color"]);
      if (result.code !== 0)
        throw new UserFacingError(
          `adopt: \`terraform ${args[0]}\` in ${dir} failed: ${result.stderr.trim().split("\n").slice(0, 3).join(" ")}`,
        );
      return result;
    };
    await step(["init"]);
    await step(["plan", "-out=adopt.tfplan", ...flags.varFile.map((f) => `-var-file=${resolve(f)}`)]);
    const shown = await terraform.run(["show", "-json", "adopt.tfplan"]);
    const { ok, lines } = checkAdoptionPlan(JSON.parse(shown.stdout), plan);
    for (const line of lines) process.stderr.write(`${line}\n`);
    if (!ok) return 1;
    process.stdout.write(
      `plan checked (adopt.tfplan): imports ${plan.resources.length} resource(s), replaces and deletes no queue or table. Apply it: terraform -chdir=${dir} apply adopt.tfplan\n`,
    );
    return 0;
  } finally {
    await terraform.dispose();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = new Command("infra:adopt")
    .description(
      "Take over existing resources (the original queue, or the other program's stack) without a replace.",
    )
    .option(
      "--terraform-dir <dir>",
      "Terraform folder whose state to adopt (runs terraform show -json there)",
    )
    .option("--state <file>", "a pulled Terraform state (terraform state pull) instead of --terraform-dir")
    .option("--from-pulumi <file>", "a Pulumi stack export (pulumi stack export) to hand to Terraform")
    .addOption(
      new Option("--to <program>", "the program that takes over")
        .choices(["terraform", "pulumi"])
        .makeOptionMandatory(),
    )
    .option("--stack <name>", "the Pulumi stack to write (with --to pulumi)")
    .option(
      "--target-dir <dir>",
      "where to write (default infra-terraform/, or the project root for Pulumi.<stack>.yaml)",
    )
    .option(
      "--keep-queue-values",
      "keep the queue's retention, size, delay, wait and visibility instead of the project's",
    )
    .option(
      "--plan",
      "with --to terraform: init, plan and check the adoption (imports, no replace or delete)",
    )
    .option(
      "--var-file <file>",
      "a var file for --plan (repeatable)",
      (v: string, all: string[]) => [...all, v],
      [],
    )
    .addOption(
      new Option(
        "--plugin-mirror <dir>",
        "provider mirror for an offline init [env TF_PLUGIN_MIRROR]",
      ).default(env.TF_PLUGIN_MIRROR),
    )
    .configureOutput(oneLineUsageErrors)
    .exitOverride();
  program.parse(argv, { from: "user" });
  const flags = program.opts<AdoptFlags>();
  const sources = [flags.terraformDir, flags.state, flags.fromPulumi].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new AdoptRefusal(
      "give one of --terraform-dir, --state or --from-pulumi (run with --help for usage).",
    );
  }
  if (flags.to === "pulumi" && !flags.stack) throw new AdoptRefusal("--to pulumi needs --stack <name>.");
  if (flags.fromPulumi && flags.to !== "terraform") {
    throw new AdoptRefusal("--from-pulumi hands a Pulumi stack to Terraform: use --to terraform.");
  }
  if (flags.plan && flags.to !== "terraform")
    throw new AdoptRefusal("--plan plans Terraform: use it with --to terraform.");

  const targetDir = resolve(
    flags.targetDir ?? (flags.to === "terraform" ? join(projectRoot, "infra-terraform") : projectRoot),
  );
  const stackFile = join(targetDir, `Pulumi.${flags.stack}.yaml`);
  const options = { settings, declaredFifo: flags.to === "pulumi" ? declaredFifo(stackFile) : undefined };

  let plan: AdoptionPlan;
  if (flags.fromPulumi) {
    plan = planFromPulumiExport(readJson(flags.fromPulumi, "the stack export"), flags.fromPulumi, options);
  } else if (flags.state) {
    plan = planFromTerraform(resourcesFromRawState(readJson(flags.state, "the state"), flags.state), options);
  } else {
    const dir = flags.terraformDir as string;
    plan = planFromTerraform(resourcesFromShow(await showState(dir, flags.pluginMirror), dir), options);
  }

  if (flags.to === "terraform") {
    for (const [name, text] of Object.entries(terraformFiles(plan, flags.keepQueueValues))) {
      writeFileSync(join(targetDir, name), text);
    }
    process.stdout.write(
      `wrote ${join(targetDir, "adopt.tf")} and adopt.auto.tfvars (${plan.resources.length} import(s)).\n`,
    );
  } else {
    writePulumiConfig(stackFile, pulumiConfig(plan, flags.keepQueueValues));
    process.stdout.write(
      `wrote ${stackFile} (step 1: ${plan.resources.length} import(s) with their live values). After \`pulumi up\`, step 2: pulumi config rm --stack ${flags.stack} adopt\n`,
    );
  }
  for (const r of plan.resources)
    process.stdout.write(`  ${flags.to === "terraform" ? r.terraform : r.pulumi} ⇐ ${r.id}\n`);
  const code = flags.plan ? await checkPlan(targetDir, flags, plan) : 0;
  if (code === 0) process.stdout.write(`${handOver(plan).join("\n")}\n`);
  return code;
}

await runCli(() => main(process.argv.slice(2)));
