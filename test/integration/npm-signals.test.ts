/**
 * Signals reach the process under `npm run`: npm passes SIGTERM to its direct child and exits, so
 * a script must `exec` its program (package.json) or the shell in between dies and orphans it.
 * Here with `npm run local`, the one that holds ports: after SIGTERM to npm's own pid, nothing of
 * it is left listening and no process of it is left running.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it, onTestFinished } from "vitest";
import { projectRoot } from "../../src/config/paths.js";

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Pids whose command line names `marker` (the test's own temporary folder). */
async function processesNaming(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(marker)) pids.push(Number(entry));
  }
  return pids;
}

async function until(condition: () => Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 100));
}

describe.skipIf(process.platform !== "linux")("npm run passes signals on", () => {
  it("SIGTERM to npm's own pid stops `npm run local`: its ports close, no process is left", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "npm-signals-"));
    const npm = spawn("npm", ["run", "--silent", "local", "--", "--port", "0", "--state-dir", stateDir], {
      cwd: projectRoot,
      env: { ...process.env, LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    onTestFinished(async () => {
      for (const pid of await processesNaming(stateDir)) process.kill(pid, "SIGKILL");
    });
    const ports: number[] = [];
    const lines = createInterface({ input: npm.stdout });
    await new Promise<void>((resolve, reject) => {
      npm.once("exit", (code) => reject(new Error(`npm run local exited ${code} before it listened`)));
      lines.on("line", (line) => {
        const port = /(?:SQS listening|DynamoDB \(dynalite\)) on http:\/\/127\.0\.0\.1:(\d+)/.exec(line)?.[1];
        if (port) ports.push(Number(port));
        if (line.startsWith("Press Ctrl-C")) resolve();
      });
    });
    expect(ports).toHaveLength(2);
    for (const port of ports) expect(await listening(port)).toBe(true);
    expect((await processesNaming(stateDir)).length).toBeGreaterThan(0);

    const exited = new Promise((resolve) => npm.once("exit", resolve));
    npm.kill("SIGTERM");
    await exited;
    // The program stops within its own graceful stop; the test's timeout is what catches a leak.
    await until(async () => (await processesNaming(stateDir)).length === 0);
    for (const port of ports) expect(await listening(port)).toBe(false);
  });
});
