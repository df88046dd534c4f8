/** The bench's emulator process does not outlive the bench, however the bench ends. */

import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";

describe("bench emulator", () => {
  it("exits when its stdin ends (the bench killed without a chance to send SIGTERM)", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", join(projectRoot, "test/bench/emulator.ts")], {
      cwd: projectRoot,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const exited = once(child, "exit");
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
      const { endpoint } = JSON.parse(line) as { endpoint: string };
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      child.stdin.end();
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      child.kill("SIGKILL");
    }
  }, 30_000);
});
