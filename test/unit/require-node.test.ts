/** The one-line refusal of an old Node, with a faked `process.versions.node`. */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";

const script = join(projectRoot, "src", "cli", "require-node.mjs");

function runAs(version: string): Promise<{ code: number; stderr: string }> {
  const fake = `data:text/javascript,Object.defineProperty(process,"versions",{value:{...process.versions,node:${JSON.stringify(version)}}})`;
  return new Promise((resolve) => {
    execFile(process.execPath, ["--import", fake, script], (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code) : 0, stderr });
    });
  });
}

describe("require-node.mjs", () => {
  it.each(["20.20.2", "22.11.0", "18.0.0"])(
    "refuses Node %s in one line naming the version and the fix",
    async (v) => {
      const { code, stderr } = await runAs(v);
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr).toContain(`needs Node.js >=22.12`);
      expect(stderr).toContain(`this is Node ${v}`);
      expect(stderr).toMatch(/nvm install.*nodejs\.org/);
    },
  );

  it.each(["22.12.0", "24.21.0", "25.0.0"])("accepts Node %s silently", async (v) => {
    expect(await runAs(v)).toEqual({ code: 0, stderr: "" });
  });

  it("guards every npm script that starts a CLI, the bench or the tests, and npm ci refuses old Node (engine-strict)", async () => {
    const manifest = JSON.parse(await readFile(join(projectRoot, "package.json"), "utf8"));
    expect(manifest.engines.node).toBe(">=22.12");
    const scripts = Object.entries(manifest.scripts as Record<string, string>);
    const running = scripts.filter(([, command]) => /src\/cli\/\w|test\/bench\/|vitest/.test(command));
    expect(running.map(([name]) => name)).toEqual(
      expect.arrayContaining(["local", "produce", "consume", "status", "dlq", "forget", "bench", "test"]),
    );
    for (const [name, command] of running) {
      expect(command, name).toMatch(/^node src\/cli\/require-node\.mjs && /);
    }
    expect(await readFile(join(projectRoot, ".npmrc"), "utf8")).toMatch(/^engine-strict=true$/m);
  });

  // npm passes SIGTERM to its direct child only: a shell left between them dies and orphans the
  // process (test/integration/npm-signals.test.ts shows it for `npm run local`).
  it("every npm script that runs one program execs it, so the program is npm's child", async () => {
    const manifest = JSON.parse(await readFile(join(projectRoot, "package.json"), "utf8"));
    for (const [name, command] of Object.entries(manifest.scripts as Record<string, string>)) {
      // A chain of checks (lint, check) runs several short programs in turn: nothing to signal.
      if (name === "lint" || name === "check") continue;
      const last = command.split("&&").at(-1)?.trim() ?? "";
      expect(last, name).toMatch(/^exec /);
    }
  });
});
