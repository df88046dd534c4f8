/**
 * Terraform is on this image but nothing promises it: find the binary and a provider mirror, and
 * say so visibly when they are missing so that the tests that need them skip, not fail.
 */
import { execFileSync, spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { projectRoot } from "../../src/config/paths.js";

export function terraformVersion(): string | undefined {
  try {
    return execFileSync("terraform", ["version", "-json"], {
      encoding: "utf8",
      env: { ...process.env, TF_CLI_CONFIG_FILE: "" },
    }).match(/"terraform_version":\s*"([^"]+)"/)?.[1];
  } catch {
    return undefined;
  }
}

/** A folder named tf-plugins within three levels of /, as this image ships it (or TF_PLUGIN_MIRROR). */
export function findPluginMirror(): string | undefined {
  if (process.env.TF_PLUGIN_MIRROR) return process.env.TF_PLUGIN_MIRROR;
  const search = (dir: string, depth: number): string | undefined => {
    if (depth === 0) return undefined;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return undefined;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      if (["proc", "sys", "dev"].includes(entry) && dir === "/") continue;
      try {
        if (!statSync(path).isDirectory()) continue;
      } catch {
        continue;
      }
      if (entry === "tf-plugins") return path;
    }
    for (const entry of entries) {
      if (["proc", "sys", "dev", "node_modules"].includes(entry)) continue;
      const found = search(join(dir, entry), depth - 1);
      if (found) return found;
    }
    return undefined;
  };
  return search("/", 3);
}

/** A copy of infra-terraform/ in a temporary folder: init and state never touch the checkout. */
export function copyModule(): string {
  const dir = mkdtempSync(join(tmpdir(), "infra-terraform-"));
  cpSync(join(projectRoot, "infra-terraform"), dir, {
    recursive: true,
    filter: (source) => !/\.terraform($|\/)|terraform\.tfstate|\.terraform\.lock\.hcl/.test(source),
  });
  return dir;
}

export const terraform = terraformVersion();
export const pluginMirror = terraform ? findPluginMirror() : undefined;

if (!terraform) {
  console.warn(
    "terraform is not on PATH: the Terraform CLI tests are SKIPPED (install Terraform >= 1.5 to run them).",
  );
} else if (!pluginMirror || !existsSync(pluginMirror)) {
  console.warn(
    `terraform ${terraform} found but no provider mirror (tf-plugins): init will use the registry.`,
  );
}

/**
 * One AWS provider process for Terraform commands that only ask it for its schema and to validate
 * configuration (`validate`, and `terraform test` where every file mocks the provider: a mock
 * provider never configures the real one). Terraform otherwise starts a fresh provider for each
 * run block and each walk, and each start of this 700 MB binary costs ~0.6 s of CPU: the 30 run
 * blocks of infra-terraform/tests cost ~51 s of CPU that way, ~16 s sharing one process.
 * Terraform attaches to it through TF_REATTACH_PROVIDERS, its documented provider-debugging hook.
 * Never for plan or apply: those configure the provider, and configurations would share it.
 */
export async function withSharedProvider<T>(moduleDir: string, work: () => Promise<T>): Promise<T> {
  const providers = join(moduleDir, ".terraform", "providers", "registry.terraform.io", "hashicorp", "aws");
  // version/platform/binary; init links the platform folder to the mirror (glob does not follow).
  const binary = readdirSync(providers).flatMap((version) =>
    readdirSync(join(providers, version)).flatMap((platform) =>
      readdirSync(join(providers, version, platform))
        .filter((file) => file.startsWith("terraform-provider-aws"))
        .map((file) => join(providers, version, platform, file)),
    ),
  )[0];
  if (!binary || process.env.TF_REATTACH_PROVIDERS) return work();
  // Its log (stderr) is not read: a pipe would fill and stall it.
  const child = spawn(binary, ["-debug"], { stdio: ["ignore", "pipe", "ignore"] });
  try {
    const reattach = await new Promise<string>((resolve, reject) => {
      let output = "";
      const timer = setTimeout(
        () => reject(new Error(`${binary} -debug never printed TF_REATTACH_PROVIDERS`)),
        30_000,
      );
      child.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString("utf8");
        const found = output.match(/TF_REATTACH_PROVIDERS='([^']+)'/)?.[1];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`${binary} -debug exited (${code}) before it was ready`));
      });
    });
    process.env.TF_REATTACH_PROVIDERS = reattach;
    try {
      return await work();
    } finally {
      delete process.env.TF_REATTACH_PROVIDERS;
    }
  } finally {
    child.kill("SIGKILL");
  }
}
