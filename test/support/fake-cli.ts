/**
 * Fake `pulumi` / `terraform` executables: they record the arguments and working directory they
 * were called with and print recorded JSON (or fail like the real tool), so the resolver's real
 * process handling is exercised without the real tools.
 */
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface FakeCli {
  /** Folder to put first on PATH. */
  readonly dir: string;
  /** Each call: its working directory, then its arguments. */
  calls(): Promise<{ cwd: string; args: string[] }[]>;
}

export async function fakeCli(
  name: string,
  behaviour: { stdout?: string; stderr?: string; exitCode?: number; hang?: boolean },
): Promise<FakeCli> {
  const dir = await mkdtemp(join(tmpdir(), `fake-${name}-`));
  const log = join(dir, "calls.jsonl");
  await writeFile(join(dir, "stdout"), behaviour.stdout ?? "");
  await writeFile(join(dir, "stderr"), behaviour.stderr ?? "");
  const script = [
    "#!/usr/bin/env node",
    'const fs = require("node:fs");',
    `fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify({ cwd: process.cwd(), args: process.argv.slice(2) }) + "\\n");`,
    `process.stdout.write(fs.readFileSync(${JSON.stringify(join(dir, "stdout"))}));`,
    `process.stderr.write(fs.readFileSync(${JSON.stringify(join(dir, "stderr"))}));`,
    `process.exitCode = ${behaviour.exitCode ?? 0};`,
    // A backend that never answers: the tool waits until it is stopped.
    ...(behaviour.hang ? ["setInterval(() => {}, 1000);"] : []),
    "",
  ].join("\n");
  const file = join(dir, name);
  await writeFile(file, script);
  await chmod(file, 0o755);
  return {
    dir,
    async calls() {
      const text = await readFile(log, "utf8").catch(() => "");
      return text
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    },
  };
}
