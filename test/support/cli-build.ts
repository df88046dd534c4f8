/**
 * Vitest global setup of the integration tests: src/ transpiled once per run, so that the CLIs the
 * tests start as child processes run as plain JavaScript. It is the transform tsx applies to each
 * file at every start (esbuild, no bundling, one output file a source file), done once: a CLI
 * started through tsx costs ~0.8 s of CPU, about twice a compiled one's, and the suite starts a
 * few hundred. The npm scripts' own path (tsx) keeps its tests (npm-signals, produce-streaming);
 * the image's (tsc into dist/) keeps container.test.ts.
 *
 * The output sits in dist/ inside the checkout, so that a built file finds the project as the
 * source does: its package.json ("type": "module", and findProjectRoot's marker) above it, and
 * the settings data file at the same relative path (a link to the real one).
 */
import { globSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import type { TestProject } from "vitest/node";
import { projectRoot } from "../../src/config/paths.js";
import { SETTINGS_FILE } from "../../src/config/settings.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The folder holding the transpiled src/ (as `src/`), for runCli and startCli. */
    cliBuild: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const distDir = join(projectRoot, "dist");
  mkdirSync(distDir, { recursive: true });
  const dir = mkdtempSync(join(distDir, ".test-cli-"));
  await build({
    entryPoints: globSync("src/**/*.ts", { cwd: projectRoot }).map((file) => join(projectRoot, file)),
    outdir: join(dir, "src"),
    outbase: join(projectRoot, "src"),
    format: "esm",
    platform: "node",
    target: "node22",
    logLevel: "warning",
  });
  mkdirSync(join(dir, "infra-terraform"));
  symlinkSync(join(projectRoot, SETTINGS_FILE), join(dir, SETTINGS_FILE));
  project.provide("cliBuild", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
