/**
 * `npm run infra:adopt -- --terraform-dir <dir> | --state <file> | --from-pulumi <export.json>
 * --to terraform | --to pulumi --stack <name>`: takes over existing resources without a replace
 * (src/ops/adopt-run.ts, docs/migration.md). Writes adopt.tf and adopt.auto.tfvars in
 * infra-terraform/, or Pulumi.<stack>.yaml; with --plan (Terraform) plans the adoption and runs it
 * through the replace check; prints the hand-over for the old program.
 *
 * Exit codes: 0 written (and, with --plan, the plan imports and keeps every queue); 1 the plan would
 * replace or delete a queue or the table, or does not import (nothing applied); 2 usage, an
 * unreadable state, or a refusal (something it cannot map, a FIFO/standard mismatch, a name the
 * settings cannot keep).
 */
import { join, resolve } from "node:path";
import { Option } from "commander";
import { readEnvironment } from "../config/env.js";
import { projectRoot } from "../config/paths.js";
import { settings } from "../config/settings.js";
import { adopt } from "../ops/adopt-run.js";
import { newCommand, parseFlags, runCli } from "./shared.js";

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

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = newCommand("infra:adopt")
    .description("Take over existing resources (the original queue, or the other program's stack) by import.")
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
    .option("--target-dir <dir>", "where to write (default infra-terraform/, or the project root for Pulumi)")
    .option("--keep-queue-values", "keep the queue's retention, size, delay, wait and visibility")
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
    );
  const flags = parseFlags<AdoptFlags>(program, argv);
  const outcome = await adopt({
    ...flags,
    targetDir: resolve(
      flags.targetDir ?? (flags.to === "terraform" ? join(projectRoot, "infra-terraform") : projectRoot),
    ),
    varFiles: flags.varFile,
    settings,
  });
  for (const line of outcome.lines) process.stdout.write(`${line}\n`);
  for (const line of outcome.problems) process.stderr.write(`${line}\n`);
  return outcome.code;
}

await runCli(() => main(process.argv.slice(2)));
