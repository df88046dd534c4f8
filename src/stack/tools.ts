/**
 * The one way to run the infrastructure tools (pulumi, terraform) and the one sentence for
 * "not installed". Callers add what to do instead and choose their error class.
 */
import { spawn } from "node:child_process";

export const TOOLS = {
  pulumi: { title: "The Pulumi CLI", install: "https://www.pulumi.com/docs/iac/download-install/" },
  terraform: { title: "Terraform", install: "https://developer.hashicorp.com/terraform/install" },
} as const;

export type Tool = keyof typeof TOOLS;

/** The tool is not on PATH. The message names it and where to get it; callers add the rest. */
export class ToolNotInstalledError extends Error {
  override readonly name = "ToolNotInstalledError";
  constructor(
    readonly tool: Tool,
    options?: ErrorOptions,
  ) {
    super(
      `${TOOLS[tool].title} is not installed (no \`${tool}\` on PATH). Install it (${TOOLS[tool].install})`,
      options,
    );
  }
}

export interface ToolRunOptions {
  readonly cwd?: string;
  /** The child's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** "inherit" shows the tool's output; "pipe" (the default) captures it. */
  readonly output?: "inherit" | "pipe";
  /**
   * Stop the tool (SIGTERM) after this many ms: a read that talks to a backend over the network
   * must end in bounded time. Unset: no limit (an apply takes as long as it takes).
   */
  readonly timeoutMs?: number;
}

export interface ToolResult {
  /** The exit code; 1 when a signal ended the tool. */
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** It was stopped at timeoutMs. */
  readonly timedOut: boolean;
}

/** Runs `tool`; resolves with its exit code and what it printed, rejects ToolNotInstalledError. */
export function runTool(
  tool: Tool,
  args: readonly string[],
  options: ToolRunOptions = {},
): Promise<ToolResult> {
  const output = options.output ?? "pipe";
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(options.env ? { env: options.env } : {}),
      stdio: ["ignore", output, output],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGTERM");
          }, options.timeoutMs);
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === "ENOENT" ? new ToolNotInstalledError(tool, { cause: error }) : error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr, timedOut });
    });
  });
}
