/**
 * The deployment secret of registration digests: from REGISTRATION_DIGEST_KEY, or on a laptop a
 * key generated once in the state folder (mode 0600) and reused by every later run, so that the
 * producer and the consumer of one local stack compute the same default ids.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DigestKey } from "../contract/digest.js";

export function digestKeyPath(stateDir: string): string {
  return join(stateDir, "digest.key");
}

export async function loadDigestKey(options: {
  /** The configured secret (REGISTRATION_DIGEST_KEY); wins over the local file. */
  readonly secret?: string | undefined;
  readonly stateDir: string;
}): Promise<DigestKey> {
  if (options.secret !== undefined) return new DigestKey(options.secret);
  const path = digestKeyPath(options.stateDir);
  await mkdir(options.stateDir, { recursive: true });
  try {
    // `wx`: two processes starting at once cannot both create it; the loser reads the winner's.
    await writeFile(path, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return new DigestKey((await readFile(path, "utf8")).trim());
}
