/**
 * Every deploy-time key a workflow, a docs page or an example stack file names is declared by the
 * programs and read by them: a Pulumi config key in Pulumi.yaml and by the program (recorded while
 * it reads each example stack), a Terraform variable in infra-terraform/*.tf and used there as
 * `var.<name>`. A key named in one place and read under another name (the image key once was)
 * fails here. The keys come from the files; none is listed by hand.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { IMAGE_KEY } from "../../infra-pulumi/service/config.js";
import { projectRoot } from "../../src/config/paths.js";
import { toSnakeCase } from "../../src/stack/outputs.js";
import {
  declaredPulumiKeys,
  declaredTerraformVariables,
  filesIn,
  pulumiKeysIn,
  pulumiKeysRead,
  STACK_FILE,
  stackFileKeys,
  terraformVariablesIn,
  terraformVariablesRead,
  tfvarsKeys,
} from "../support/deploy-keys.js";
import { installMocks } from "../support/pulumi-mocks.js";

installMocks({});
const read = (path: string) => readFileSync(join(projectRoot, path), "utf8");

const pages = ["README.md", ...filesIn("docs", /\.md$/)];
const workflows = filesIn(".github/workflows", /\.ya?ml$/);
const stackFiles = filesIn(".", STACK_FILE);
const tfvarsFiles = filesIn("infra-terraform", /\.tfvars$/);

/** Every place that names a key, with the keys it names. */
const named = {
  pulumi: [
    ...[...pages, ...workflows, ...tfvarsFiles].map((path) => ({ path, keys: pulumiKeysIn(read(path)) })),
    ...stackFiles.map((path) => ({ path, keys: stackFileKeys(read(path)) })),
  ],
  terraform: [
    ...[...pages, ...workflows, ...stackFiles].map((path) => ({
      path,
      keys: terraformVariablesIn(read(path)),
    })),
    ...tfvarsFiles.map((path) => ({
      path,
      keys: [...tfvarsKeys(read(path)), ...terraformVariablesIn(read(path))],
    })),
  ],
};

const declared = { pulumi: declaredPulumiKeys(), terraform: declaredTerraformVariables() };
const programRead = { pulumi: pulumiKeysRead(), terraform: terraformVariablesRead() };

describe("deploy-time keys", () => {
  it("finds the keys where they are named (not vacuous)", () => {
    const where = (tool: "pulumi" | "terraform", path: string) =>
      named[tool].find((entry) => entry.path === path)?.keys ?? [];
    // The image key the app pipeline sets on each release, and the pages that tell a person to.
    expect(where("pulumi", ".github/workflows/app-pipeline.yml")).toEqual([IMAGE_KEY]);
    expect(where("pulumi", "docs/deploy.md")).toContain(IMAGE_KEY);
    expect(where("pulumi", "docs/pipeline.md")).toContain(IMAGE_KEY);
    expect(where("terraform", "docs/deploy.md")).toContain(toSnakeCase(IMAGE_KEY));
    expect(where("pulumi", "Pulumi.prod.yaml").length).toBeGreaterThan(20);
    expect(where("terraform", "infra-terraform/prod.tfvars").length).toBeGreaterThan(20);
    expect(declared.pulumi.length).toBeGreaterThan(50);
    expect(declared.terraform.length).toBeGreaterThan(50);
  });

  it.each(["pulumi", "terraform"] as const)(
    "%s: every key a page, workflow or example names is declared",
    (tool) => {
      const undeclared = named[tool].flatMap(({ path, keys }) =>
        keys.filter((key) => !declared[tool].includes(key)).map((key) => `${path}: ${key}`),
      );
      expect(undeclared).toEqual([]);
    },
  );

  it.each(["pulumi", "terraform"] as const)("%s: every declared key is read by the program", (tool) => {
    expect(declared[tool].filter((key) => !programRead[tool].includes(key))).toEqual([]);
  });

  it("the program reads no key Pulumi.yaml does not declare", () => {
    expect(programRead.pulumi.filter((key) => !declared.pulumi.includes(key))).toEqual([]);
  });
});
