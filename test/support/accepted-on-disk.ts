/** The ids of the accepted-send facts a state folder's file holds, read without changing it. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { ACCEPTED_SENDS_FILE } from "../../src/consumer/accepted-sends.js";

export function acceptedOnDisk(dir: string): string[] {
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
