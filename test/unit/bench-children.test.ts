/** A child the bench holds (the soak's consumer) ends when the bench is signalled. */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { waitFor } from "../support/local-sqs.js";

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
    "%s to the bench ends its child too, and the bench dies of the signal",
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
        childPid = Number(line);
        expect(alive(childPid)).toBe(true);
        parent.kill(signal);
        const [code, diedOf] = await exited;
        expect({ code, diedOf }).toEqual({ code: null, diedOf: signal });
        await waitFor(() => !alive(childPid), "the bench's child to end", 10_000);
      } finally {
        parent.kill("SIGKILL");
        if (childPid > 0 && alive(childPid)) process.kill(childPid, "SIGKILL");
      }
    },
    30_000,
  );
});
