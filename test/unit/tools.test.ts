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
    expect(result).toEqual({ code: 3, stdout: "plan", stderr: "warn", timedOut: false });
    expect((await terraform.calls())[0]?.args).toEqual(["plan"]);
  });

  it("stops a tool that does not finish within timeoutMs, and says so", async () => {
    const pulumi = await fakeCli("pulumi", { stdout: "{", hang: true });
    const result = await runTool("pulumi", ["stack", "output"], {
      env: { ...process.env, PATH: `${pulumi.dir}${delimiter}${process.env.PATH}` },
      timeoutMs: 300,
    });
    expect(result.timedOut).toBe(true);
    expect(result.code).not.toBe(0);
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
