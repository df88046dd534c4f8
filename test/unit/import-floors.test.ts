/**
 * The import graph reads top-down: an entry point may import anything below it, a lower floor
 * never imports a higher one. Read with the TypeScript compiler's own import scanner (every
 * `import`, `export … from`, `import type` and dynamic `import()`), so a new arrow is seen the
 * day it is written, not at the next design review.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";

/**
 * Floors, lowest first. The ground floor holds what everything may use: the message and metric
 * contracts, the clock, the error classes, the logger, and SQS's published limits (facts about
 * AWS, read by the configuration's ranges as much as by the SQS plumbing). Folders not named here
 * (producer, observability, local, lambda) sit beside the floors and are not ranked.
 */
const FLOORS: readonly (readonly string[])[] = [
  ["src/contract/", "src/time/", "src/errors.ts", "src/log/", "src/sqs/limits.ts"],
  ["src/config/"],
  ["src/sqs/"],
  ["src/stack/"],
  ["src/consumer/"],
  ["src/ops/"],
  ["src/cli/"],
];

function sources(folder: string): string[] {
  return readdirSync(join(projectRoot, folder), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => join(folder, file).split("\\").join("/"));
}

/** Every relative import of the TypeScript files under `folders`, as "from -> to" (project paths). */
function arrows(...folders: string[]): { from: string; to: string }[] {
  return folders.flatMap(sources).flatMap((from) =>
    ts
      .preProcessFile(readFileSync(join(projectRoot, from), "utf8"), true, true)
      .importedFiles.map((imported) => imported.fileName)
      .filter((specifier) => specifier.startsWith("."))
      .map((specifier) => ({
        from,
        to: relative(projectRoot, resolve(projectRoot, dirname(from), specifier))
          .split("\\")
          .join("/")
          .replace(/\.js$/, ".ts"),
      })),
  );
}

/** The floor of a file: the most specific prefix that names it wins (a file before its folder). */
function floorOf(file: string): number | undefined {
  let best: { floor: number; length: number } | undefined;
  FLOORS.forEach((prefixes, floor) => {
    for (const prefix of prefixes) {
      const matches = prefix.endsWith("/") ? file.startsWith(prefix) : file === prefix;
      if (matches && (!best || prefix.length > best.length)) best = { floor, length: prefix.length };
    }
  });
  return best?.floor;
}

const name = ({ from, to }: { from: string; to: string }) => `${from} -> ${to}`;

describe("the import floors", () => {
  const graph = arrows("src", "infra-pulumi");

  it("reads the real graph (the scanner sees the entry points' imports)", () => {
    expect(graph.some(({ from, to }) => from.startsWith("src/cli/") && to.startsWith("src/consumer/"))).toBe(
      true,
    );
    expect(graph.some(({ to }) => to === "src/time/clock.ts")).toBe(true);
  });

  it("has no arrow from a lower floor to a higher one", () => {
    const upward = graph.filter(({ from, to }) => {
      const [a, b] = [floorOf(from), floorOf(to)];
      return a !== undefined && b !== undefined && a < b;
    });
    expect(upward.map(name)).toEqual([]);
  });

  it("keeps the Pulumi program out of the consumer's implementation", () => {
    const intoConsumer = graph.filter(
      ({ from, to }) => from.startsWith("infra-pulumi/") && to.startsWith("src/consumer/"),
    );
    expect(intoConsumer.map(name)).toEqual([]);
  });
});
