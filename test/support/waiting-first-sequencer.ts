/**
 * Starts the test files that spend minutes waiting (Terraform's AWS provider re-reads a queue for
 * 25 s after each change) before everything else, so that their waits overlap with the CPU-bound
 * files instead of ending the run. Vitest's own order puts the longest files first only when its
 * cache knows their durations; a fresh clone has no cache and falls back to file size, which runs
 * these small files last. send-boundary is not among them: its 2 s send timeout is better kept
 * out of the suite's busiest first minute.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Longest wait first, as measured on this 2-core machine (in seconds, alone / beside the suite). */
export const WAITING_FILES = [
  // ~165 beside the suite: tf:local's apply and destroy beside the adoption's three applies
  "test/integration/terraform-apply.test.ts",
] as const;

export default class WaitingFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    // A renamed file would silently lose its place in the order: say so instead.
    const missing = WAITING_FILES.filter((file) => !existsSync(join(root, file)));
    if (missing.length > 0) {
      throw new Error(`${import.meta.filename} lists test files that do not exist: ${missing.join(", ")}`);
    }
    const rank = (spec: TestSpecification) =>
      (WAITING_FILES as readonly string[]).indexOf(relative(root, spec.moduleId).replaceAll("\\", "/"));
    const sorted = await super.sort(files);
    const waiting = sorted.filter((spec) => rank(spec) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...waiting, ...sorted.filter((spec) => rank(spec) < 0)];
  }
}
