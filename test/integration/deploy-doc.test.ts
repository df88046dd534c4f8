/**
 * docs/deploy.md names only what exists: every `npm run` script (package.json), every flag it
 * passes to a CLI (that CLI's `--help`, one child process per CLI it uses), every Pulumi config
 * key and Terraform variable (declared and read by the programs), every stack output, and every
 * key, variable or output it writes in a code span.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { projectRoot } from "../../src/config/paths.js";
import { HELP_ARGS, type Help, helpOf } from "../support/cli-help.js";
import {
  declaredPulumiKeys,
  declaredTerraformVariables,
  pulumiKeysIn,
  pulumiKeysRead,
  terraformOutputs,
  terraformVariablesIn,
  terraformVariablesRead,
} from "../support/deploy-keys.js";
import { installMocks, setStackConfig } from "../support/pulumi-mocks.js";

installMocks({});
const read = (path: string) => readFileSync(join(projectRoot, path), "utf8");
const page = read("docs/deploy.md");
const scripts = Object.keys(
  (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts,
);

/** `npm run <script> -- <arguments>` on one line of the page. */
const invocations = [...page.matchAll(/npm run ([\w:-]+)(?: -- ([^\n`#]*))?/g)].map((m) => ({
  script: m[1] ?? "",
  flags: (m[2] ?? "").match(/--[\w-]+/g) ?? [],
}));

/** The stack outputs of the production example, as the program declares them. */
function pulumiOutputs(): string[] {
  const config = (parseYaml(read("Pulumi.prod.yaml")) as { config: Record<string, unknown> }).config;
  setStackConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^sqs-messaging:/, ""), v])),
  );
  return Object.keys(
    createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), "deploydoc").outputs,
  );
}

let help: Record<string, Help>;
beforeAll(async () => {
  help = await helpOf(invocations.filter((i) => i.flags.length > 0).map((i) => i.script));
}, 120_000);

describe("docs/deploy.md", () => {
  it("runs only npm scripts package.json has", () => {
    expect(invocations.length).toBeGreaterThan(3);
    expect(invocations.map((i) => i.script).filter((s) => !scripts.includes(s))).toEqual([]);
  });

  it("passes each CLI only flags its --help lists", () => {
    const checked = invocations.filter((i) => i.flags.length > 0);
    expect(checked.length).toBeGreaterThan(0);
    const wrong = checked.flatMap(({ script, flags }) => {
      if (!HELP_ARGS[script]) return [`npm run ${script}: not a CLI with flags`];
      return flags.filter((flag) => !help[script]?.has(flag)).map((flag) => `npm run ${script} -- ${flag}`);
    });
    expect(wrong).toEqual([]);
  });

  it("names Pulumi config keys and Terraform variables the programs declare and read", () => {
    const pulumiKeys = pulumiKeysIn(page);
    const terraformVariables = terraformVariablesIn(page);
    expect(pulumiKeys.length).toBeGreaterThan(3);
    expect(terraformVariables.length).toBeGreaterThan(0);
    const declared = declaredPulumiKeys();
    const readKeys = pulumiKeysRead();
    expect(pulumiKeys.filter((key) => !declared.includes(key) || !readKeys.includes(key))).toEqual([]);
    const variables = declaredTerraformVariables();
    const used = terraformVariablesRead();
    expect(terraformVariables.filter((v) => !variables.includes(v) || !used.includes(v))).toEqual([]);
  });

  it("reads only stack outputs the program exports", () => {
    const outputs = pulumiOutputs();
    const named = [...page.matchAll(/pulumi stack output (\w+)/g)].map((m) => m[1] ?? "");
    expect(named.length).toBeGreaterThan(0);
    expect(named.filter((name) => !outputs.includes(name))).toEqual([]);
  });

  it("writes in code spans only keys, variables and outputs that exist", () => {
    const spans = [...page.matchAll(/`([^`\s]+)`/g)].map((m) => m[1] ?? "");
    const camel = [...new Set(spans.filter((s) => /^[a-z]+(?:[A-Z][a-z0-9]*)+$/.test(s)))];
    const snake = [...new Set(spans.filter((s) => /^[a-z]+(?:_[a-z0-9]+)+$/.test(s)))];
    expect(camel.length).toBeGreaterThan(10);
    const known = new Set([...declaredPulumiKeys(), ...pulumiOutputs()]);
    expect(camel.filter((name) => !known.has(name))).toEqual([]);
    const knownSnake = new Set([...declaredTerraformVariables(), ...terraformOutputs()]);
    expect(snake.filter((name) => !knownSnake.has(name))).toEqual([]);
  });
});
