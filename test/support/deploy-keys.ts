/**
 * Deploy-time keys: which Pulumi config keys and Terraform variables a text names (a docs page, a
 * workflow, an example stack file), which ones the programs declare, and which ones they read.
 * Each set is derived from the files themselves: nothing here lists a key by hand.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { parse as parseYaml } from "yaml";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { projectRoot } from "../../src/config/paths.js";
import { setStackConfig } from "./pulumi-mocks.js";

export const PROJECT = "sqs-messaging";
const read = (path: string) => readFileSync(join(projectRoot, path), "utf8");
const unique = (names: Iterable<string>) => [...new Set(names)].sort();

/** `sqs-messaging:key` → key; another project's or namespace's key (`aws:region`) → undefined. */
function ownKey(name: string): string | undefined {
  if (!name.includes(":")) return name;
  return name.startsWith(`${PROJECT}:`) ? name.slice(PROJECT.length + 1) : undefined;
}

/**
 * Pulumi config keys a text names: `pulumi config set [--secret|--path] KEY`, `--config KEY=…`,
 * `sqs-messaging:KEY`, and the keys of a pulumi/actions `config-map` (a workflow).
 */
export function pulumiKeysIn(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/pulumi config set(?: --[\w-]+)* ["']?([\w:.-]+)/g)) found.push(m[1] ?? "");
  for (const m of text.matchAll(/--config[ =]["']?([\w:-]+)=/g)) found.push(m[1] ?? "");
  // Not a type token (`sqs-messaging:index:ConsumerService` in a URN).
  for (const m of text.matchAll(new RegExp(`\\b${PROJECT}:(\\w+)\\b(?!:)`, "g"))) found.push(m[1] ?? "");
  for (const m of text.matchAll(/config-map: "(\{.*\})"/g)) {
    found.push(...Object.keys(parseYaml(m[1] ?? "{}") as Record<string, unknown>));
  }
  return unique(
    found.flatMap((name) => {
      // `--path 'defaultTags.team'`: the key is the path's first segment.
      const key = ownKey(name.split(".")[0] ?? "");
      return key ? [key] : [];
    }),
  );
}

/** Terraform variables a text names: `-var name=…`, `-var "name=…"`, `TF_VAR_name`. */
export function terraformVariablesIn(text: string): string[] {
  return unique([
    ...[...text.matchAll(/-var[ =]["']?(\w+)=/g)].map((m) => m[1] ?? ""),
    ...[...text.matchAll(/\bTF_VAR_(\w+)/g)].map((m) => m[1] ?? ""),
  ]);
}

/** The top-level assignments of a .tfvars file (its variables). */
export function tfvarsKeys(text: string): string[] {
  return unique([...text.matchAll(/^(\w+)\s*=/gm)].map((m) => m[1] ?? ""));
}

/** The config keys of a Pulumi.<stack>.yaml. */
export function stackFileKeys(text: string): string[] {
  const config = (parseYaml(text) as { config?: Record<string, unknown> }).config ?? {};
  return unique(Object.keys(config).flatMap((name) => ownKey(name) ?? []));
}

/** Files in the repository whose names match, relative to its root. */
export function filesIn(folder: string, pattern: RegExp): string[] {
  return readdirSync(join(projectRoot, folder))
    .filter((name) => pattern.test(name))
    .map((name) => (folder === "." ? name : `${folder}/${name}`))
    .sort();
}

/**
 * The keys Pulumi.yaml declares: its typed config keys, and the object keys its schema cannot
 * type (Pulumi's project config has no object type), which the config block names in a comment
 * (`# defaultTags (object; …)`).
 */
export function declaredPulumiKeys(): string[] {
  const text = read("Pulumi.yaml");
  const config = (parseYaml(text) as { config: Record<string, unknown> }).config;
  const block = text.split(/^config:\n/m)[1] ?? "";
  const objects = [...block.matchAll(/^ {2}# (\w+) \(object\b/gm)].map((m) => m[1] ?? "");
  return unique([...Object.keys(config).flatMap((name) => ownKey(name) ?? []), ...objects]);
}

const terraformFiles = () => filesIn("infra-terraform", /\.tf$/).map((path) => read(path));

/** `variable "name"` blocks of infra-terraform/*.tf. */
export function declaredTerraformVariables(): string[] {
  return unique(
    terraformFiles().flatMap((text) => [...text.matchAll(/^variable "(\w+)"/gm)].map((m) => m[1] ?? "")),
  );
}

/** `output "name"` blocks of infra-terraform/*.tf. */
export function terraformOutputs(): string[] {
  return unique(
    terraformFiles().flatMap((text) => [...text.matchAll(/^output "(\w+)"/gm)].map((m) => m[1] ?? "")),
  );
}

/** Variables infra-terraform/*.tf reads (`var.name` outside comments). */
export function terraformVariablesRead(): string[] {
  return unique(
    terraformFiles().flatMap((text) =>
      text
        .split("\n")
        .filter((line) => !/^\s*#/.test(line))
        .flatMap((line) => [...line.matchAll(/\bvar\.(\w+)/g)].map((m) => m[1] ?? "")),
    ),
  );
}

/** The example stacks: Pulumi.<stack>.yaml (stack names may hold a dash: prod-lambda). */
export const STACK_FILE = /^Pulumi\.[\w-]+\.yaml$/;

/** The placeholder bundle (test/support/lambda-bundle.ts), as infra-terraform/tests keeps it. */
const PLACEHOLDER_BUNDLE = join(projectRoot, "infra-terraform", "tests", "function.zip");

/**
 * The keys the Pulumi program reads, recorded while it reads each example stack's configuration
 * (every Pulumi.<stack>.yaml; a branch only one stack takes, such as the fleet's keys with
 * createService, is read by that one). Needs the mocks installed (installMocks).
 */
export function pulumiKeysRead(): string[] {
  const keys = new Set<string>();
  for (const file of filesIn(".", STACK_FILE)) {
    const config = (parseYaml(read(file)) as { config: Record<string, unknown> }).config;
    const own = Object.fromEntries(
      Object.entries(config).map(([name, value]) => [ownKey(name) ?? name, value]),
    );
    // A function's stack reads its bundle, which no test builds: the placeholder stands in.
    setStackConfig(own.createFunction ? { ...own, functionBundlePath: PLACEHOLDER_BUNDLE } : own);
    const real = new pulumi.Config(PROJECT);
    const recording = new Proxy(real, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function" || !/^(get|require)/.test(String(property))) return value;
        return (key: string, ...rest: unknown[]) => {
          keys.add(key);
          return value.call(target, key, ...rest);
        };
      },
    });
    readInfraConfig(recording);
  }
  return unique(keys);
}
