/**
 * What each CLI says about itself: its `--help`, run as a user runs it (one child process per
 * CLI, test/support/cli.ts), parsed into its options. The docs tests compare the pages with this,
 * so a flag or a default is stated once, in the CLI's own definition, and the pages are checked
 * against it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "../../src/config/paths.js";
import { cleanEnv, runCli } from "./cli.js";

export interface HelpOption {
  readonly flag: string;
  /** The `(default: …)` commander prints, quotes removed; undefined when it prints none. */
  readonly default?: string;
  /** The `[env NAME]` the description names. */
  readonly env?: string;
  readonly description: string;
}

/** A CLI's options by flag (`--send-timeout`), from its help text. */
export type Help = ReadonlyMap<string, HelpOption>;

/**
 * The commander CLIs by their npm script name, with the arguments that print the help of the
 * command a user runs: `dlq`'s flags belong to its subcommands, which share them (`list` stands
 * for them).
 */
export const HELP_ARGS: Record<string, readonly string[]> = {
  produce: ["--help"],
  consume: ["--help"],
  demo: ["--help"],
  local: ["--help"],
  status: ["--help"],
  forget: ["--help"],
  dlq: ["list", "--help"],
  "tf:local": ["--help"],
};

/** The CLI file an npm script runs (`src/cli/<name>.ts`), read from package.json. */
export function scriptCli(script: string): string | undefined {
  const scripts = (
    JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> }
  ).scripts;
  return /src\/cli\/([\w-]+)\.ts/.exec(scripts[script] ?? "")?.[1];
}

export function parseHelp(text: string): Help {
  const options = new Map<string, HelpOption>();
  const section = text.split(/^Options:\n/m)[1]?.split(/^\S/m)[0] ?? "";
  const entries: { head: string; description: string[] }[] = [];
  for (const line of section.split("\n")) {
    const head = /^ {2}((?:-\w, )?--[\w-]+(?: <[^>]+>| \[[^\]]+\])?)\s{2,}(.*)$/.exec(line);
    if (head) entries.push({ head: head[1] ?? "", description: [head[2] ?? ""] });
    else if (/^\s{6,}\S/.test(line)) entries.at(-1)?.description.push(line.trim());
  }
  for (const { head, description } of entries) {
    const flag = /--[\w-]+/.exec(head)?.[0] ?? "";
    const text = description.join(" ");
    const fallback = /default: ("[^"]*"|[^);,]*)/.exec(text)?.[1]?.trim().replace(/^"|"$/g, "");
    const env = /\[env ([A-Z_]+(?:=\w+)?)\]/.exec(text)?.[1];
    options.set(flag, {
      flag,
      description: text,
      ...(fallback !== undefined ? { default: fallback } : {}),
      ...(env ? { env } : {}),
    });
  }
  return options;
}

/** Every CLI's help at once, in parallel; fails loudly if one cannot print it. */
export function helpOfAll(): Promise<Record<string, Help>> {
  return helpOf(Object.keys(HELP_ARGS));
}

/** The help of the named scripts' CLIs (those of HELP_ARGS), one child process each, in parallel. */
export async function helpOf(scripts: readonly string[]): Promise<Record<string, Help>> {
  const entries = await Promise.all(
    Object.entries(HELP_ARGS)
      .filter(([script]) => scripts.includes(script))
      .map(async ([script, args]) => {
        const cli = scriptCli(script);
        if (!cli) throw new Error(`package.json has no script ${script} running src/cli/*.ts`);
        // No LOG_LEVEL or other variable from the test's environment: commander prints an
        // environment variable's value as the default.
        const { LOG_LEVEL: _, ...env } = cleanEnv();
        const result = await runCli(cli, args, { env });
        if (result.code !== 0)
          throw new Error(`${cli} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
        const help = parseHelp(result.stdout);
        if (help.size === 0) throw new Error(`no options found in the help of ${cli}:\n${result.stdout}`);
        return [script, help] as const;
      }),
  );
  return Object.fromEntries(entries);
}
