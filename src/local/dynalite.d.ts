// dynalite ships no types; this is the part of its API the local stack uses (dynalite 4 index.js).
declare module "dynalite" {
  import type { Server } from "node:http";

  interface DynaliteOptions {
    /** LevelDB folder; in memory when absent. */
    path?: string;
    /** How long a new table stays CREATING (default 500 ms). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }

  /** An http.Server not yet listening; close() also closes the database. */
  export default function dynalite(options?: DynaliteOptions): Server;
}
