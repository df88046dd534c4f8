/**
 * `npm run tf:local [-- destroy]`: applies (or destroys) the Terraform definition on the local
 * emulator started by `npm run local`, using its endpoint from the local stack outputs, dummy
 * credentials and the provider's skip flags (infra-terraform/local.tfvars). Then
 * `npm run consume -- --source terraform` reads the queue from `terraform output -json`.
 */
import { Option } from "commander";
import { readEnvironment } from "../config/env.js";
import { projectRoot } from "../config/paths.js";
import { ConfigurationError, UserFacingError } from "../errors.js";
import { Terraform } from "../local/terraform.js";
import { DEFAULT_TERRAFORM_DIR, resolveQueue } from "../stack/resolve.js";
import {
  addStateDir,
  givenFlags,
  newCommand,
  npmRun,
  parseFlags,
  runCli,
  terraformDirOption,
} from "./shared.js";

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = newCommand("tf:local")
    .description("Apply (or destroy) infra-terraform/ on the local SQS started by `npm run local`.")
    .argument("[action]", "apply or destroy", "apply")
    .addOption(addStateDir(env))
    .addOption(terraformDirOption(env))
    .addOption(
      new Option(
        "--plugin-mirror <dir>",
        "provider mirror for an offline init [env TF_PLUGIN_MIRROR]",
      ).default(env.TF_PLUGIN_MIRROR),
    );
  const flags = parseFlags<{ stateDir: string; terraformDir?: string; pluginMirror?: string }>(program, argv);
  const [action = "apply"] = program.args;
  if (action !== "apply" && action !== "destroy") {
    throw new ConfigurationError(`Unknown action "${action}": use apply or destroy.`);
  }
  const location = await resolveQueue({ source: "local", stateDir: flags.stateDir, projectRoot });
  if (!location.endpoint)
    throw new ConfigurationError("The local stack outputs have no endpoint: run `npm run local` again.");

  const dir = flags.terraformDir ?? `${projectRoot}/${DEFAULT_TERRAFORM_DIR}`;
  const terraform = new Terraform({ dir, pluginMirror: flags.pluginMirror });
  try {
    const init = await terraform.run(["init", "-input=false", "-no-color"]);
    if (init.code !== 0) {
      throw new UserFacingError(
        "`terraform init` failed (see above). Without internet access, point --plugin-mirror / TF_PLUGIN_MIRROR at a provider mirror folder.",
      );
    }
    const started = performance.now();
    const result = await terraform.run([
      action,
      "-auto-approve",
      "-input=false",
      "-var-file=local.tfvars",
      `-var=endpoint=${location.endpoint}`,
    ]);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const same = ["--source", "terraform", ...givenFlags(program)];
    if (result.code !== 0)
      throw new UserFacingError(`\`terraform ${action}\` failed after ${seconds} s (see above).`);
    process.stdout.write(
      action === "apply"
        ? `terraform apply on ${location.endpoint} took ${seconds} s. Now: ${npmRun("produce", ...same, "--count", "10")} && ${npmRun("consume", ...same, "--until-empty")}\n`
        : `terraform destroy on ${location.endpoint} took ${seconds} s.\n`,
    );
    return 0;
  } finally {
    await terraform.dispose();
  }
}

await runCli(() => main(process.argv.slice(2)));
