/** docs/personal-data.md: its retention figures are the settings data's, recomputed here. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { recordRetentionMs } from "../../src/config/derived.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";

const page = readFileSync(join(projectRoot, "docs", "personal-data.md"), "utf8");
const days = (seconds: number) => {
  const value = seconds / 86_400;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
};

describe("docs/personal-data.md", () => {
  it.each(["messageRetentionSeconds", "deadLetterRetentionSeconds"] as const)(
    "states %s in days, as the settings data has it",
    (name) => {
      const seconds = settings.queues[name];
      expect(page).toContain(`${days(seconds)} days (\`${name}\` = ${seconds})`);
    },
  );

  it("states the sent-email store's retention as the code computes it", () => {
    expect(page).toContain(`${days(recordRetentionMs() / 1000)} days after the send (\`recordRetentionMs\``);
  });

  it("names every place and the erase command", () => {
    for (const place of [
      "main queue",
      "dead-letter queue",
      "logs",
      "outbox",
      "sent-email store",
      "mail provider",
    ]) {
      expect(page).toContain(place);
    }
    expect(page).toContain("npm run forget -- --email");
  });
});
