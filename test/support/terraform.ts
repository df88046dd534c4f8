/**
 * Terraform is on this image but nothing promises it: find the binary and a provider mirror, and
 * say so visibly when they are missing so that the tests that need them skip, not fail.
 */
import { execFileSync } from "node:child_process";
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
