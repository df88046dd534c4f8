/**
 * The README and docs/ stay true: the README fits on a page with its two-command quickstart, every
 * relative link and every repository path a page names exists, and every `npm run` it shows is a
 * script of package.json.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";

const README_MAX_BYTES = 10 * 1024;

const pages = [
  "README.md",
  ...readdirSync(join(projectRoot, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];
const text = (page: string) => readFileSync(join(projectRoot, page), "utf8");
const scripts = Object.keys(
  (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { scripts: Record<string, string> })
    .scripts,
);

/** Relative link targets: `[text](target)`, without an anchor; web addresses and anchors skipped. */
function links(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => (match[1] ?? "").split("#")[0] ?? "")
    .filter((target) => target !== "" && !/^[a-z]+:/i.test(target));
}

/** Paths in code spans that start at a top-level folder of this repository. */
function repositoryPaths(markdown: string): string[] {
  const roots = /^(src|test|bench|docs|infra-pulumi|infra-terraform|\.github|\.ci)\/[\w./-]*[\w-]$/;
  return [...markdown.matchAll(/`([^`\s]+)`/g)]
    .map((match) => match[1] ?? "")
    .filter((path) => roots.test(path) && !path.includes("*") && !path.includes("<"));
}

describe("README and docs/", () => {
  it("README's supervisor command is the image's CMD, heap flags and all", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(text("Dockerfile.consumer"))?.[1];
    const command = (JSON.parse(cmd ?? "[]") as string[]).join(" ");
    expect(command).toContain("--max-old-space-size=");
    expect(text("README.md").replace(/\s+/g, " ")).toContain(`\`${command}\``);
  });

  it(`README.md fits on a page (≤ ${README_MAX_BYTES} bytes) and opens with the two-command quickstart`, () => {
    expect(Buffer.byteLength(text("README.md"))).toBeLessThanOrEqual(README_MAX_BYTES);
    const quickstart = text("README.md").split("## Quickstart")[1]?.split("```sh")[1]?.split("```")[0] ?? "";
    const commands = quickstart
      .split("\n")
      .map((line) => line.replace(/#.*/, "").trim())
      .filter(Boolean);
    expect(commands).toEqual(["npm ci && npm run demo", "npm test"]);
  });

  it.each(pages)("%s: every relative link resolves to a file", (page) => {
    const missing = links(text(page)).filter(
      (target) => !existsSync(resolve(projectRoot, dirname(page), target)),
    );
    expect(missing).toEqual([]);
  });

  it.each(pages)("%s: every repository path it names exists", (page) => {
    const missing = repositoryPaths(text(page)).filter((path) => !existsSync(join(projectRoot, path)));
    expect(missing).toEqual([]);
  });

  it.each(pages)("%s: every `npm run` it shows is a script", (page) => {
    const named = [...text(page).matchAll(/npm run ([a-z][\w:-]*)/g)].map((match) => match[1] ?? "");
    expect(named.filter((script) => !scripts.includes(script))).toEqual([]);
  });
});
