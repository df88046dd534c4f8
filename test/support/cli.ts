/**
 * Runs a CLI entry point as a child process, as a user runs it: a CLI of src/cli/ from the run's
 * transpiled src/ (test/support/cli-build.ts) when the test project built one, through tsx
 * otherwise; any other entry point through tsx.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { inject, onTestFinished } from "vitest";
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

/** Node's arguments that start the entry point `name` (see cliPath). */
function nodeArgs(name: string): string[] {
  const built = name.includes("/") ? undefined : inject("cliBuild");
  return built ? [join(built, "src", "cli", `${name}.js`)] : [...TSX, cliPath(name)];
}

/** Environment for children: no inherited queue settings, no AWS credentials from this machine. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // NODE_COMPILE_CACHE and GOGC: the run's code cache and Terraform's garbage-collection pace
  // (test/support/temp-root.ts); neither changes behaviour.
  for (const name of ["PATH", "HOME", "TMPDIR", "LANG", "SYSTEMROOT", "NODE_COMPILE_CACHE", "GOGC"]) {
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
      [...nodeArgs(name), ...args],
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

/**
 * Starts a long-running CLI; the caller signals and awaits it. Killed if the test ends first: a
 * concurrent test passes its own context's hook, as the global one cannot tell such tests apart.
 */
export function startCli(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = cleanEnv(),
  onFinished: (cleanup: () => void) => void = onTestFinished,
): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs(name), ...args], {
    cwd: projectRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  onFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return child;
}
