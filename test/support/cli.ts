/** Runs a CLI entry point as a child process, the way a user runs it (through tsx). */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { projectRoot } from "../../src/config/paths.js";

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const TSX = ["--import", "tsx"];

/** A CLI of src/cli/ by name (`produce`), or another entry point by its path (`test/bench/run.ts`). */
export function cliPath(name: string): string {
  return name.includes("/") ? join(projectRoot, name) : join(projectRoot, "src", "cli", `${name}.ts`);
}

/** Environment for children: no inherited queue settings, no AWS credentials from this machine. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "SYSTEMROOT"]) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return { ...env, LOG_LEVEL: "warn", ...extra };
}

export function runCli(
  name: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [...TSX, cliPath(name), ...args],
      { cwd: projectRoot, env: options.env ?? cleanEnv(), maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/** Starts a long-running CLI; the caller signals and awaits it. Killed if the test ends first. */
export function startCli(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
): ChildProcess {
  const child = spawn(process.execPath, [...TSX, cliPath(name), ...args], {
    cwd: projectRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}
