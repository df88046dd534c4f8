/**
 * `npm run infra:preview|infra:up|infra:destroy [-- args]`: runs the Pulumi CLI on this project
 * (Pulumi.yaml at the root), for the stack in PULUMI_STACK when set. Without the CLI: one clear
 * message and exit 1.
 */
import { readEnvironment } from "../config/env.js";
import { projectRoot } from "../config/paths.js";
import { ConfigurationError } from "../errors.js";
import { runTool, ToolNotInstalledError } from "../stack/tools.js";
import { runCli } from "./shared.js";

const COMMANDS = ["preview", "up", "destroy"] as const;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!COMMANDS.includes(command as (typeof COMMANDS)[number])) {
    throw new ConfigurationError(
      `Unknown infra command "${command ?? ""}": use one of ${COMMANDS.join(", ")}.`,
    );
  }
  const env = readEnvironment();
  const args = [
    command as string,
    ...(env.PULUMI_STACK && !rest.includes("--stack") ? ["--stack", env.PULUMI_STACK] : []),
    ...rest,
  ];
  try {
    return (await runTool("pulumi", args, { cwd: projectRoot, output: "inherit" })).code;
  } catch (error) {
    if (!(error instanceof ToolNotInstalledError)) throw error;
    throw new ConfigurationError(
      `${error.message} and run this again; without it, use \`npm run local\` for the embedded SQS or Terraform in infra-terraform/.`,
      { cause: error },
    );
  }
}

await runCli(() => main(process.argv.slice(2)));
