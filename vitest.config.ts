import { defineConfig } from "vitest/config";
import LongestFirstSequencer from "./test/support/longest-first-sequencer.js";

export default defineConfig({
  test: {
    // Tests wait on conditions, not on time; these limits only catch a hang. The end-to-end tests
    // start several child processes, and on a loaded 2-core machine one such test took 30 s where
    // it takes 8 s on a quiet one: a limit that close fails on load, not on a defect.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Two cores, but the file the sequencer starts first spends minutes waiting on Terraform, not
    // computing: a third worker keeps both cores busy with the rest meanwhile. A fourth starved the
    // fault tests' timers (a 2 s send timeout against a loaded machine) into false failures.
    maxWorkers: 3,
    sequence: { sequencer: LongestFirstSequencer },
    reporters: ["default", "./test/support/summary-line-reporter.ts"],
    globalSetup: ["./test/support/temp-root.ts"],
    projects: [
      {
        extends: true,
        // Pure logic: a fresh worker per file cost more than the tests (test/unit: 60 s and 37 s of
        // CPU isolated, 14 s and 12.5 s sharing workers). Everything with servers, child processes
        // or Pulumi's global runtime keeps its own worker.
        test: { name: "unit", include: ["test/unit/**/*.test.ts"], isolate: false },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["test/unit/**"],
          globalSetup: ["./test/support/temp-root.ts", "./test/support/cli-build.ts"],
        },
      },
    ],
  },
});
