/**
 * `npm run infra:preview|infra:up|infra:destroy [-- args]`: runs the Pulumi CLI on this project
 * (Pulumi.yaml at the root), for the stack in PULUMI_STACK when set. Without the CLI: one clear
 * message and exit 1.
 */
import { spawn } from "node:child_process";
import { readEnvironment } from "../config/env.js";
import { projectRoot } from "../config/paths.js";
import { ConfigurationError } from "../errors.js";
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
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", args, { cwd: projectRoot, stdio: "inherit" });
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ENOENT") {
        reject(
          new ConfigurationError(
            "The Pulumi CLI is not installed (no `pulumi` on PATH). Install it (https://www.pulumi.com/docs/iac/download-install/) and run this again; without it, use `npm run local` for the embedded SQS or Terraform in infra-terraform/.",
          ),
        );
      } else {
        reject(error);
      }
    });
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

await runCli(() => main(process.argv.slice(2)));
