/** What a state folder's accepted-sends file holds, read without changing it. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setImmediate } from "node:timers/promises";
import { ACCEPTED_SENDS_FILE } from "../../src/consumer/accepted-sends.js";

/**
 * Resolves once the current turn of the event loop is over: when AcceptedSends has written what
 * the turn added and removed (a process killed later than this has its facts on disk).
 */
export function endOfTurn(): Promise<void> {
  return setImmediate();
}

/** The ids of the accepted-send facts the file holds once this turn's writes are done. */
export async function acceptedOnDisk(dir: string): Promise<string[]> {
  await endOfTurn();
  const path = join(dir, ACCEPTED_SENDS_FILE);
  if (!existsSync(path)) return [];
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db
      .prepare("SELECT id FROM accepted_sends ORDER BY id")
      .all()
      .map((row) => String(row.id));
  } finally {
    db.close();
  }
}
