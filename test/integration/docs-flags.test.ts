/**
 * The flags and defaults the docs state are the CLIs' own: docs/usage.md's configuration table
 * (flag, environment variable, default, commands) and the flags and defaults docs/email-delivery.md
 * states, against each CLI's `--help` (one child process per CLI). A flag a page
 * gives a command that does not have it, or a default that differs, fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { HELP_ARGS, type Help, helpOfAll } from "../support/cli-help.js";

const page = (name: string) => readFileSync(join(projectRoot, "docs", name), "utf8");
const usage = page("usage.md");
const emailDelivery = page("email-delivery.md");
const commands = Object.keys(HELP_ARGS);

let help: Record<string, Help>;
beforeAll(async () => {
  help = await helpOfAll();
}, 120_000);

/** "no value": what a page writes as —, off, or nothing, and commander as false or []. */
const NONE = "(none)";
const normalised = (value: string | undefined): string => {
  const plain = (value ?? "").replace(/`/g, "").trim();
  return ["", "—", "off", "false", "[]"].includes(plain) ? NONE : plain;
};

interface Row {
  readonly line: number;
  readonly flags: string[];
  readonly env: string | undefined;
  readonly defaults: string;
  readonly usedBy: string;
}

/** The configuration table of docs/usage.md: the rows that name a flag. */
function configurationRows(): Row[] {
  const lines = usage.split("\n");
  const start = lines.findIndex((line) => /^\| flag +\| env +\| default +\| used by/.test(line));
  if (start < 0)
    throw new Error("docs/usage.md has no configuration table (| flag | env | default | used by |)");
  const rows: Row[] = [];
  for (let i = start + 2; i < lines.length && lines[i]?.startsWith("|"); i++) {
    const [flagCell = "", envCell = "", defaultCell = "", usedByCell = ""] = (lines[i] ?? "")
      .split("|")
      .slice(1, -1)
      .map((cell) => cell.trim());
    const flags = [...flagCell.matchAll(/--[\w-]+/g)].map((m) => m[0]);
    if (flags.length === 0) continue;
    rows.push({
      line: i + 1,
      flags,
      env: /`([A-Z_]+(?:=\w+)?)`/.exec(envCell)?.[1],
      defaults: defaultCell,
      usedBy: usedByCell,
    });
  }
  return rows;
}

/** The commands a row names: a list, "all", "all but …", or (when empty) those its defaults name. */
function commandsOf(row: Row): string[] {
  const named = (text: string) => [...text.matchAll(/[a-z]+(?::[a-z]+)?/g)].map((m) => m[0]);
  const all = /^all(?: but (.*))?$/.exec(row.usedBy);
  if (all) return commands.filter((c) => !named(all[1] ?? "").includes(c));
  const listed =
    row.usedBy === "" ? [...row.defaults.matchAll(/\((\w+)\)/g)].map((m) => m[1] ?? "") : named(row.usedBy);
  return listed;
}

/** The default a row states for one command: "8 (produce), 20 (consume)", "x (`y` for demo)", or one value. */
function defaultFor(row: Row, command: string): string {
  const perCommand = [...row.defaults.matchAll(/([^,()]+?) \((\w+)\)/g)].filter((m) =>
    commands.includes(m[2] ?? ""),
  );
  if (perCommand.length > 0) return normalised(perCommand.find((m) => m[2] === command)?.[1]);
  const override = new RegExp(`\\(\`?([^\`)]+)\`? for ${command}\\)`).exec(row.defaults);
  if (override) return normalised(override[1]);
  return normalised(row.defaults.replace(/\([^)]*\)/g, ""));
}

describe("docs/usage.md's configuration table matches every CLI's --help", () => {
  it("reads a table of flags for the commands it knows", () => {
    const rows = configurationRows();
    expect(rows.length).toBeGreaterThan(20);
    for (const row of rows) expect(commandsOf(row).length, `line ${row.line}`).toBeGreaterThan(0);
  });

  it("gives each command only flags it has", () => {
    const wrong: string[] = [];
    for (const row of configurationRows()) {
      for (const command of commandsOf(row)) {
        for (const flag of row.flags) {
          if (!help[command]) wrong.push(`line ${row.line}: ${command} is not a CLI the test knows`);
          else if (!help[command].has(flag)) wrong.push(`line ${row.line}: ${command} has no ${flag}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("states the defaults the CLIs print", () => {
    const wrong: string[] = [];
    for (const row of configurationRows()) {
      if (row.flags.length !== 1) continue;
      const flag = row.flags[0] ?? "";
      for (const command of commandsOf(row)) {
        const printed = help[command]?.get(flag)?.default;
        // A default applied in code rather than by commander (a path under --state-dir, the
        // selected stack) is not printed: nothing to compare.
        if (printed === undefined) continue;
        const stated = defaultFor(row, command);
        if (stated !== normalised(printed)) {
          wrong.push(`line ${row.line}: ${command} ${flag} defaults to ${printed}, the page says ${stated}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("names the environment variable each CLI reads for the flag", () => {
    const wrong: string[] = [];
    for (const row of configurationRows()) {
      for (const command of commandsOf(row)) {
        for (const flag of row.flags) {
          const env = help[command]?.get(flag)?.env;
          if (env !== undefined && env !== row.env) {
            wrong.push(
              `line ${row.line}: ${command} ${flag} reads ${env}, the page says ${row.env ?? "none"}`,
            );
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("documents every flag of every CLI somewhere on the page", () => {
    const missing = Object.entries(help).flatMap(([command, options]) =>
      [...options.keys()]
        .filter((flag) => flag !== "--help" && !new RegExp(`${flag}(?![\\w-])`).test(usage))
        .map((flag) => `${command} ${flag}`),
    );
    expect(missing).toEqual([]);
  });

  it("shows only real flags in its `npm run <cli> -- …` examples", () => {
    const wrong: string[] = [];
    for (const match of usage.matchAll(/npm run ([\w:-]+) -- ([^\n`#]*)/g)) {
      const [, script = "", rest = ""] = match;
      const options = help[script];
      if (!options) continue;
      for (const flag of rest.match(/--[\w-]+/g) ?? []) {
        if (!options.has(flag)) wrong.push(`npm run ${script} -- … ${flag}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe("docs/email-delivery.md states consume's flags and defaults", () => {
  it("names only flags consume has", () => {
    const named = [
      ...new Set([...emailDelivery.matchAll(/`(?:consume )?(--[\w-]+)/g)].map((m) => m[1] ?? "")),
    ];
    expect(named.length).toBeGreaterThan(3);
    expect(named.filter((flag) => !help.consume?.has(flag))).toEqual([]);
  });

  it("states each default it gives (`--flag`, env X, default N s|ms) as consume prints it", () => {
    const stated = [
      ...emailDelivery.matchAll(/\(`(--[\w-]+)`, env `([A-Z_]+)`, default ([\d.,]+) ?(ms|s)\b/g),
    ].map(([, flag = "", env = "", value = "", unit = ""]) => ({
      flag,
      env,
      ms: Number(value.replace(/,/g, "")) * (unit === "s" ? 1000 : 1),
    }));
    expect(stated.map((s) => s.flag)).toContain("--send-timeout");
    for (const { flag, env, ms } of stated) {
      const option = help.consume?.get(flag);
      expect(option?.env, flag).toBe(env);
      expect(Number(option?.default), `${flag}: consume --help says ${option?.default} ms`).toBe(ms);
    }
  });
});
