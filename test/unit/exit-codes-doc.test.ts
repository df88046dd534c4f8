/**
 * The exit-code table of docs/usage.md is the one definition's (src/errors.ts, ExitCode), and its
 * list of commands names every CLI in src/cli/ and the bench.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEMO_COUNT_MAX,
  MAIL_RATE_MAX_PER_SECOND,
  MAIL_RATE_MIN_PER_SECOND,
  MAIL_SEND_TIMEOUT_MAX_MS,
  MAIL_SEND_TIMEOUT_MIN_MS,
  PORT_MAX,
  PORT_MIN,
} from "../../src/config/limits.js";
import { projectRoot } from "../../src/config/paths.js";
import { ExitCode } from "../../src/errors.js";
import { OPS_ANSWER_TIMEOUT_MS, RUN_ANSWER_TIMEOUT_MS } from "../../src/sqs/client.js";
import { IN_FLIGHT_MAX_MESSAGES, LONG_POLL_MAX_SECONDS } from "../../src/sqs/limits.js";

async function exitCodeSection(): Promise<string> {
  const usage = await readFile(join(projectRoot, "docs", "usage.md"), "utf8");
  const start = usage.indexOf("# Exit codes");
  expect(start).toBeGreaterThanOrEqual(0);
  const end = usage.indexOf("\n# ", start + 1);
  return usage.slice(start, end === -1 ? undefined : end);
}

describe("docs/usage.md, Exit codes", () => {
  it("lists exactly the codes ExitCode defines (and the Pulumi CLI's own, N)", async () => {
    const rows = [...(await exitCodeSection()).matchAll(/^\| (\d+|N) +\|/gm)].map((m) => m[1]);
    const defined = Object.values(ExitCode).map(String);
    expect(rows.filter((code) => code !== "N").sort()).toEqual([...defined].sort());
    expect(rows).toContain("N");
  });

  it("says what each code means where ExitCode's comment does", async () => {
    const section = await exitCodeSection();
    expect(section).toMatch(new RegExp(`^\\| ${ExitCode.deadLettersPresent} +\\| \`status\` only`, "m"));
    expect(section).toMatch(new RegExp(`^\\| ${ExitCode.usage} +\\| usage or configuration`, "m"));
  });

  it("names every command", async () => {
    const section = await exitCodeSection();
    const manifest = JSON.parse(await readFile(join(projectRoot, "package.json"), "utf8"));
    const scripts = Object.entries(manifest.scripts as Record<string, string>)
      .filter(([, command]) => /src\/cli\/(?!require-node)[\w-]+\.ts|test\/bench\//.test(command))
      .map(([name]) => (name.startsWith("infra:") && name !== "infra:replace-check" ? "infra:*" : name));
    for (const name of new Set(scripts)) expect(section, name).toContain(`\`${name}\``);
    // Every entry point in src/cli/ has an npm script (so the list above covers it).
    const entries = (await readdir(join(projectRoot, "src", "cli"))).filter((file) => {
      return (
        file.endsWith(".ts") &&
        !["shared.ts", "user-errors.ts", "store-flags.ts", "consume-flags.ts"].includes(file)
      );
    });
    const run = Object.values(manifest.scripts as Record<string, string>).join("\n");
    for (const file of entries) expect(run, file).toContain(`src/cli/${file}`);
  });

  it("states the ranges and the answer timeout the code defines", async () => {
    const section = await exitCodeSection();
    for (const fact of [
      `ports ${PORT_MIN}–${PORT_MAX}`,
      `\`--wait-time\` 0–${LONG_POLL_MAX_SECONDS}`,
      `${MAIL_SEND_TIMEOUT_MIN_MS}–${MAIL_SEND_TIMEOUT_MAX_MS} ms`,
      `\`--mail-rate\` ${MAIL_RATE_MIN_PER_SECOND}–${MAIL_RATE_MAX_PER_SECOND}`,
      `\`demo --count\` up to ${DEMO_COUNT_MAX}`,
      `\`dlq list|show --max\` up to ${IN_FLIGHT_MAX_MESSAGES}`,
      `long-poll wait plus ${OPS_ANSWER_TIMEOUT_MS / 1000} s and one retry`,
      `\`produce\` and \`consume\` give it ${RUN_ANSWER_TIMEOUT_MS / 1000} s`,
    ]) {
      expect(section.replace(/\s+/g, " "), fact).toContain(fact);
    }
  });
});
