import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: the integration tests start servers and child processes.
    maxWorkers: 2,
    reporters: ["default", "./test/support/summary-line-reporter.ts"],
  },
});
