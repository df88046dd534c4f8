/** Terraform's own checks, offline: fmt, init from the provider mirror, validate, terraform test. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { Terraform } from "../../src/local/terraform.js";
import { writePlaceholderBundle } from "../support/lambda-bundle.js";
import { copyModule, pluginMirror, terraform, withSharedProvider } from "../support/terraform.js";

describe.skipIf(!terraform)(`terraform ${terraform ?? "(absent)"} on infra-terraform/`, () => {
  const checkout = new Terraform({ dir: join(projectRoot, "infra-terraform"), output: "pipe" });
  const copy = copyModule();
  const cli = new Terraform({ dir: copy, pluginMirror, output: "pipe" });

  it("is formatted (terraform fmt -check)", async () => {
    const result = await checkout.run(["fmt", "-check", "-recursive", "-diff"]);
    expect(result.stdout, "run `terraform fmt -recursive infra-terraform`").toBe("");
    expect(result.code).toBe(0);
  });

  it("initialises offline, validates, and passes `terraform test` with a mocked provider", async () => {
    const init = await cli.run(["init", "-input=false", "-no-color", "-backend=false"]);
    expect(init.code, init.stderr).toBe(0);
    // A run block on the real provider would configure it: then each run gets its own process.
    const tests = join(copy, "tests");
    const mocked = readdirSync(tests)
      .filter((file) => file.endsWith(".tftest.hcl"))
      .every((file) => /^mock_provider "aws"/m.test(readFileSync(join(tests, file), "utf8")));
    const runTests = () => cli.run(["test", "-no-color"]);
    const validate = await withSharedProvider(copy, () => cli.run(["validate", "-no-color"]));
    expect(validate.stdout + validate.stderr).toContain("The configuration is valid");
    const test = await (mocked ? withSharedProvider(copy, runTests) : runTests());
    expect(test.code, test.stdout + test.stderr).toBe(0);
    expect(test.stdout).toMatch(/Success! \d+ passed, 0 failed/);
    expect(test.stdout).toContain('run "rejects_fifo_name_without_suffix"... pass');
    expect(test.stdout).toContain('run "refuses_both_computes"... pass');
    await cli.dispose();
  }, 300_000);

  it("plans the function with the placeholder bundle the other tests write, byte for byte", async () => {
    const fixture = readFileSync(join(projectRoot, "infra-terraform", "tests", "function.zip"));
    expect(fixture.equals(readFileSync(await writePlaceholderBundle()))).toBe(true);
  });
});
