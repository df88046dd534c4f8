/** A child the bench holds (the soak's consumer) ends when the bench is signalled. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";

/** Running, not ended: a zombie (ended, its parent gone and not yet reaped by init) counts as ended. */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

describe("bench children", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "%s to the bench ends its child and removes its folder, then the bench dies of the signal",
    async (signal) => {
      const parent = spawn(
        process.execPath,
        ["--import", "tsx", join(projectRoot, "test/fixtures/bench/signalled-parent.ts")],
        { cwd: projectRoot, stdio: ["ignore", "pipe", "inherit"] },
      );
      const exited = once(parent, "exit");
      let childPid = 0;
      try {
        const line = await Promise.race([
          once(createInterface({ input: parent.stdout }), "line").then(([text]) => String(text)),
          exited.then(([code]) => {
            throw new Error(`the stand-in bench exited ${code} before printing its child's pid`);
          }),
        ]);
        const started = JSON.parse(line) as { pid: number; dir: string };
        childPid = started.pid;
        expect(alive(childPid)).toBe(true);
        expect(existsSync(started.dir)).toBe(true);
        parent.kill(signal);
        const [code, diedOf] = await exited;
        expect({ code, diedOf }).toEqual({ code: null, diedOf: signal });
        // The bench died after its child: nothing to wait for, and its folder is gone with it.
        expect(alive(childPid)).toBe(false);
        expect(existsSync(started.dir)).toBe(false);
      } finally {
        parent.kill("SIGKILL");
        if (childPid > 0 && alive(childPid)) process.kill(childPid, "SIGKILL");
      }
    },
    30_000,
  );
});
