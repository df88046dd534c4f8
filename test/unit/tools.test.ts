import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runTool, ToolNotInstalledError } from "../../src/stack/tools.js";
import { fakeCli } from "../support/fake-cli.js";

describe("runTool", () => {
  it("captures what the tool printed and passes its exit code on", async () => {
    const terraform = await fakeCli("terraform", { stdout: "plan", stderr: "warn", exitCode: 3 });
    const result = await runTool("terraform", ["plan"], {
      env: { ...process.env, PATH: `${terraform.dir}${delimiter}${process.env.PATH}` },
    });
    expect(result).toEqual({ code: 3, stdout: "plan", stderr: "warn" });
    expect((await terraform.calls())[0]?.args).toEqual(["plan"]);
  });

  it("names the missing tool and where to install it", async () => {
    const empty = await mkdtemp(join(tmpdir(), "empty-path-"));
    const error = await runTool("pulumi", ["up"], { env: { PATH: empty } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolNotInstalledError);
    expect((error as Error).message).toBe(
      "The Pulumi CLI is not installed (no `pulumi` on PATH). Install it (https://www.pulumi.com/docs/iac/download-install/)",
    );
  });
});
