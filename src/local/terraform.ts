/**
 * Runs the Terraform CLI for the local emulator. An offline `init` uses a provider mirror through
 * a temporary CLI configuration passed in TF_CLI_CONFIG_FILE to the child alone; the user's
 * ~/.terraformrc is never read or written.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childEnvironment } from "../config/env.js";
import { UserFacingError } from "../errors.js";
import { runTool, ToolNotInstalledError } from "../stack/tools.js";

export interface TerraformOptions {
  /** Working directory (-chdir). */
  readonly dir: string;
  /** A filesystem mirror of providers, for an offline init. */
  readonly pluginMirror?: string | undefined;
  /** "inherit" shows Terraform's output; "pipe" captures it. */
  readonly output?: "inherit" | "pipe";
}

export interface TerraformResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A CLI configuration that installs hashicorp/* providers from `mirror` only. */
export function mirrorCliConfig(mirror: string): string {
  return [
    "provider_installation {",
    "  filesystem_mirror {",
    `    path    = ${JSON.stringify(mirror)}`,
    '    include = ["registry.terraform.io/hashicorp/*"]',
    "  }",
    "  direct {",
    '    exclude = ["registry.terraform.io/hashicorp/*"]',
    "  }",
    "}",
    "",
  ].join("\n");
}

export class Terraform {
  private configDir: string | undefined;

  constructor(private readonly options: TerraformOptions) {}

  async run(args: readonly string[]): Promise<TerraformResult> {
    const extra: Record<string, string> = { TF_IN_AUTOMATION: "1", TF_INPUT: "0" };
    if (this.options.pluginMirror) {
      this.configDir ??= await mkdtemp(join(tmpdir(), "tf-cli-"));
      const file = join(this.configDir, "terraform.rc");
      await writeFile(file, mirrorCliConfig(this.options.pluginMirror));
      extra.TF_CLI_CONFIG_FILE = file;
    }
    const env = childEnvironment(extra);
    const output = this.options.output ?? "inherit";
    try {
      return await runTool("terraform", [`-chdir=${this.options.dir}`, ...args], { env, output });
    } catch (error) {
      if (!(error instanceof ToolNotInstalledError)) throw error;
      throw new UserFacingError(`${error.message}, or use Pulumi or the local stack instead.`, {
        cause: error,
      });
    }
  }

  async dispose(): Promise<void> {
    if (this.configDir) await rm(this.configDir, { recursive: true, force: true });
  }
}
