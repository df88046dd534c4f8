/** Reads the outbox journal (`sent.log`) the way the tests count emails: from the files, not the code. */
import { journalIds } from "../../src/consumer/mail/outbox.js";

/**
 * The registration ids of the journal's lines, in order. `written: true` keeps only the emails
 * written, leaving out deliveries that found their email there already (a consumer killed between
 * writing an email and recording it; an SMTP transport would have sent those twice).
 */
export const journal: (outboxDir: string, options?: { written?: boolean }) => Promise<string[]> = journalIds;
