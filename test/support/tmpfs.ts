/**
 * A tiny tmpfs for real ENOSPC tests. Mounting needs root (CI containers and this machine have
 * it); elsewhere `smallTmpfs` returns undefined and the test skips itself.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SmallTmpfs {
  readonly dir: string;
  unmount(): void;
}

export function smallTmpfs(size: string, options: { readOnly?: boolean } = {}): SmallTmpfs | undefined {
  const dir = mkdtempSync(join(tmpdir(), "tmpfs-"));
  const mode = options.readOnly ? "ro," : "";
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `${mode}size=${size}`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount() {
      execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
