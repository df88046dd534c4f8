/**
 * Facts the docs state twice, tied to their one source: the fleet-sizing page quotes the
 * benchmark page's measured row, and the delivery page's list of dependencies with install
 * scripts is the lock file's, its list of metrics the metric contract's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { PROMETHEUS_METRICS } from "../../src/contract/metrics.js";

const read = (path: string) => readFileSync(join(projectRoot, path), "utf8");
const number = (text: string | undefined) => Number((text ?? "").replace(/,/g, ""));

describe("docs quote their sources", () => {
  it("fleet-sizing.md quotes benchmarks.md's row for our consumer with a 20 ms handler", () => {
    // Label, msg/s, SQS requests per message, CPU per 1,000 messages (further columns may follow).
    const row =
      /^\| 20 ms handler: ours[^|]*\|\s*([\d,.]+)\s*\|\s*([\d.]+)\s*\|\s*([\d.]+)\s*\|[^\n]*$/m.exec(
        read("docs/benchmarks.md"),
      );
    expect(row, "benchmarks.md has the row '20 ms handler: ours'").not.toBeNull();
    const [, rate, requests, cpu] = row ?? [];
    const sizing = read("docs/fleet-sizing.md").replace(/\s+/g, " "); // line breaks fall anywhere
    const quoted =
      /\*\*([\d,]+) messages\/s\*\* using \*\*([\d.]+) CPU-seconds per 1,000\s+messages\*\*, at \*\*([\d.]+) SQS requests per message\*\*/.exec(
        sizing,
      );
    expect(quoted, "fleet-sizing.md states the rate, CPU and requests per message").not.toBeNull();
    expect(number(quoted?.[1])).toBe(number(rate));
    expect(number(quoted?.[2])).toBe(number(cpu));
    expect(number(quoted?.[3])).toBe(number(requests));
  });

  it("pipeline.md names every metric of /metrics, as src/contract/metrics.ts spells it", () => {
    const page = read("docs/pipeline.md");
    const missing = Object.values(PROMETHEUS_METRICS).filter((name) => !page.includes(`\`${name}`));
    expect(missing).toEqual([]);
  });

  it("pipeline.md names every dependency with an install script, as package-lock.json marks them", () => {
    const lock = JSON.parse(read("package-lock.json")) as {
      packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }>;
    };
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ""));
    expect(withScripts.length).toBeGreaterThan(0);
    const section = read("docs/pipeline.md").split("## Install scripts")[1]?.split(/^#/m)[0] ?? "";
    const named = withScripts.filter((name) => new RegExp(`\\b${name}\\b`).test(section));
    expect(named).toEqual(withScripts);
    // "none of them is a production dependency": the image installs with --omit=dev.
    expect(
      Object.entries(lock.packages)
        .filter(([, entry]) => entry.hasInstallScript && !entry.dev)
        .map(([path]) => path),
    ).toEqual([]);
  });
});
