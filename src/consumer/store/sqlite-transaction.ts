/**
 * One write transaction on a node:sqlite database, as the sent-email store and the accepted sends
 * both take it: `BEGIN IMMEDIATE` (the write lock at once, so a busy file fails at the start, not
 * half way), the body, `COMMIT`; any error rolls back and is rethrown. The statements are prepared
 * once per database: `exec` would parse them anew for every transaction.
 */
import type { DatabaseSync } from "node:sqlite";

export type WriteTransaction = <T>(body: () => T) => T;

export function writeTransaction(db: DatabaseSync): WriteTransaction {
  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  return (body) => {
    begin.run();
    try {
      const result = body();
      commit.run();
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec("ROLLBACK");
      throw error;
    }
  };
}
