/**
 * Starts first the test files that take longest, as measured on this 2-core machine, so that
 * none of them starts late and ends the run alone. Vitest's own order does that only when its cache
 * knows the durations; a fresh clone (CI) has no cache and falls back to file size, which runs
 * small, slow files (a few Terraform runs each) last.
 *
 * First the file that spends minutes waiting (Terraform's AWS provider re-reads a queue for 25 s
 * after each change), so that its waits overlap with everything else; then the CPU-bound ones.
 * send-boundary is not among them: its 2 s send timeout is better kept out of the suite's busiest
 * first minute. A stale entry costs only order; a missing file fails the run (below).
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/** In this order, then the rest in Vitest's (seconds beside the suite on a quiet machine). */
export const FIRST_FILES = [
  // ~165: tf:local's apply and destroy beside the adoption's three applies, mostly waiting
  "test/integration/terraform-apply.test.ts",
  "test/infra/parity.test.ts", // ~65: one plan of every configuration
  "test/infra/terraform-cli.test.ts", // ~35: init, validate, terraform test
  "test/infra/terraform-service.test.ts", // ~33: plans and an apply of the fleet on mocks
  "test/integration/container.test.ts", // ~40: tsc and npm ci of the image's layout
  // ~15: two consumer runs waiting out an unreachable collector's timeouts: a small file, which
  // the size order starts among the last
  "test/integration/tracing-unreachable.test.ts",
] as const;

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    // A renamed file would silently lose its place in the order: say so instead.
    const missing = FIRST_FILES.filter((file) => !existsSync(join(root, file)));
    if (missing.length > 0) {
      throw new Error(`${import.meta.filename} lists test files that do not exist: ${missing.join(", ")}`);
    }
    const rank = (spec: TestSpecification) =>
      (FIRST_FILES as readonly string[]).indexOf(relative(root, spec.moduleId).replaceAll("\\", "/"));
    const sorted = await super.sort(files);
    const first = sorted.filter((spec) => rank(spec) >= 0).sort((a, b) => rank(a) - rank(b));
    return [...first, ...sorted.filter((spec) => rank(spec) < 0)];
  }
}
