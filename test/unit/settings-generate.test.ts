/**
 * The files generated from the settings table are current: a setting added or changed in
 * src/config/settings-table.ts reaches Terraform's variables and Pulumi.yaml only through
 * `npm run generate`, and this fails until it has run.
 */
import { describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { generatedFiles } from "../../src/config/generate.js";
import { projectRoot } from "../../src/config/paths.js";
import { parseSettings, RenamedSettingsSectionError, settings } from "../../src/config/settings.js";
import { allRows } from "../../src/config/settings-table.js";

describe("the files generated from the settings table", () => {
  for (const file of generatedFiles(projectRoot)) {
    it(`${file.path} is what \`npm run generate\` writes`, () => {
      expect(
        file.actual === file.expected,
        `${file.path} is stale: run \`npm run generate\` (src/config/settings-table.ts changed)`,
      ).toBe(true);
    });
  }

  it("Pulumi.yaml's generated block is YAML, one key per row", () => {
    const file = generatedFiles(projectRoot).find((f) => f.path === "Pulumi.yaml");
    const config = parseYaml(file?.expected ?? "").config;
    for (const { key } of allRows()) expect(config[key], key).toBeDefined();
  });
});

describe("the settings table and the data file", () => {
  it("has a row for every value of the data file and a value for every row", () => {
    const values = Object.entries(settings).flatMap(([section, rows]) =>
      Object.keys(rows).map((key) => `${section}.${key}`),
    );
    expect(values.sort()).toEqual(
      allRows()
        .map(({ section, key }) => `${section}.${key}`)
        .sort(),
    );
  });

  it("refuses a value outside the row's range, naming the key", () => {
    const copy = structuredClone(settings) as unknown as { queues: Record<string, unknown> };
    copy.queues.receiveWaitTimeSeconds = 21;
    expect(() => parseSettings(copy, "copy.json")).toThrow(/receiveWaitTimeSeconds/);
  });

  it("refuses the old section name `delivery` with the fix in one line", () => {
    const { pipeline, ...rest } = structuredClone(settings) as unknown as Record<string, unknown>;
    const old = { ...rest, delivery: pipeline };
    expect(() => parseSettings(old, "copy.json")).toThrow(RenamedSettingsSectionError);
    expect(() => parseSettings(old, "copy.json")).toThrow(
      'copy.json: the section "delivery" is now "pipeline" (the CI/CD roles); rename it in copy.json.',
    );
  });
});
