/**
 * Row S15 of docs/email-delivery.md: how many short fault episodes a message survives. The page
 * states it with the queue's `maxReceiveCount`; both numbers are read back against the settings
 * data, so a changed setting fails here until the page says the new count.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";

const page = readFileSync(join(projectRoot, "docs/email-delivery.md"), "utf8").replace(/\s+/g, " ");
const ORDINAL = /^(\d+)(st|nd|rd|th)$/;

describe("email-delivery.md: fault episodes against the receive budget", () => {
  it("states maxReceiveCount as the settings data has it, and that a message survives one episode fewer", () => {
    const { maxReceiveCount } = settings.queues;
    expect(page).toContain(`SQS dead-letters it after \`maxReceiveCount\`, ${maxReceiveCount})`);
    const stated =
      /With `maxReceiveCount` = (\d+) .*? a message survives (\d+) episodes that catch it in hand, and the (\w+) dead-letters it/.exec(
        page,
      );
    expect(
      stated,
      "the S15 paragraph: 'With `maxReceiveCount` = N … survives M episodes … the (M+1)th dead-letters it'",
    ).not.toBeNull();
    const [, budget, survives, fatal = ""] = stated ?? [];
    expect(Number(budget)).toBe(maxReceiveCount);
    // The first receive is one of the budget; each episode that hands the message back costs one more.
    expect(Number(survives)).toBe(maxReceiveCount - 1);
    expect(Number(ORDINAL.exec(fatal)?.[1])).toBe(maxReceiveCount);
    expect(page).toMatch(/\| S15 \|/);
  });
});
