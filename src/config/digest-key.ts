/**
 * The deployment secret of registration digests: from REGISTRATION_DIGEST_KEY, or on a laptop a
 * key generated once in the state folder (mode 0600) and reused by every later run, so that the
 * producer and the consumer of one local stack compute the same default ids.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { DigestKey, MIN_DIGEST_KEY_LENGTH } from "../contract/digest.js";
import { ConfigurationError } from "../errors.js";

export function digestKeyPath(stateDir: string): string {
  return join(stateDir, "digest.key");
}

/** Permission bits that let anyone but the owner read or change the key file. */
const NOT_OWNER_ONLY = 0o077;

export async function loadDigestKey(options: {
  /** The configured secret (REGISTRATION_DIGEST_KEY); wins over the local file. */
  readonly secret?: string | undefined;
  readonly stateDir: string;
  /** Told one line when the key file is open to group or others (the CLIs print it on stderr). */
  readonly warn?: (message: string) => void;
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
  const secret = (await readFile(path, "utf8")).trim();
  if (secret.length < MIN_DIGEST_KEY_LENGTH) {
    // Never generated here (ours are 64 hex digits): someone wrote it, and a new one would change
    // every default id, so the fix is theirs to choose.
    throw new ConfigurationError(
      `The registration digest key in ${path} is too short (${secret.length} characters without blanks; at least ${MIN_DIGEST_KEY_LENGTH}). Write a longer one (\`openssl rand -hex 32 > ${path}\`), or delete the file to have one generated; producers and consumers of one queue need the same key.`,
    );
  }
  const { mode } = await stat(path);
  if (process.platform !== "win32" && (mode & NOT_OWNER_ONLY) !== 0) {
    options.warn?.(
      `the registration digest key ${path} is readable by others (mode ${(mode & 0o777).toString(8)}): \`chmod 600 ${path}\``,
    );
  }
  return new DigestKey(secret);
}
