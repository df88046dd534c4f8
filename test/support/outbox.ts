/** Reads the outbox journal (`sent.log`) the way the tests count emails: from the files, not the code. */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ALREADY_IN_OUTBOX, JOURNAL } from "../../src/consumer/mail/outbox.js";

/**
 * The registration ids of the journal's lines, in order. `written: true` keeps only the emails
 * written, leaving out deliveries that found their email there already (a consumer killed between
 * writing an email and recording it; an SMTP transport would have sent those twice).
 */
export async function journal(outboxDir: string, options: { written?: boolean } = {}): Promise<string[]> {
  const text = await readFile(join(outboxDir, JOURNAL), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split("\t"))
    .filter((columns) => !options.written || columns[2] !== ALREADY_IN_OUTBOX)
    .map((columns) => columns[0] ?? "");
}
