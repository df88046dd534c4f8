import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

/** The folder holding this project's package.json, wherever the code runs from (src/ or dist/). */
export function findProjectRoot(from: string = import.meta.dirname): string {
  let dir = from;
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

export const projectRoot = findProjectRoot();

/** The git-ignored folder for local state: emulator data, outputs, outbox. */
export const defaultStateDir = join(projectRoot, ".local-stack");

export function localOutputsPath(stateDir: string): string {
  return join(stateDir, "outputs.json");
}

/** The welcome emails of the local consumer (`consume --outbox` overrides). */
export function outboxDir(stateDir: string): string {
  return join(stateDir, "outbox");
}

/** Sends the mail server accepted, waiting for their record (`consume` writes, `forget` sweeps). */
export function acceptedDir(stateDir: string): string {
  return join(stateDir, "accepted");
}

/** The local consumer's SQLite sent-email store (`consume --sent-store` overrides). */
export function sentStorePath(stateDir: string): string {
  return join(stateDir, "sent-emails.sqlite");
}

/**
 * The SQLite suppression list (hard bounces, complaints) when the store is SQLite: in the folder of
 * the store's file (the state folder by default), so a durable `--sent-store` keeps it durable too.
 */
export function suppressionListPath(storeDir: string): string {
  return join(storeDir, "suppressed-addresses.sqlite");
}
