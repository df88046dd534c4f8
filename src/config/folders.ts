/**
 * Folders the processes write, checked at start, and what the operating system says about a
 * path in words a user acts on (the CLIs' boundary maps the same codes).
 */
import { constants } from "node:fs";
import { access, mkdir, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { ConfigurationError } from "../errors.js";

/** What the operating system said, in words a user acts on. */
export const PATH_PROBLEMS: Record<string, string> = {
  ENOTDIR: "a part of the path is a file, not a folder",
  EISDIR: "it is a folder where a file is needed",
  ENAMETOOLONG: "the path is too long",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "the disk is full",
  EEXIST: "a file with that name already exists where a folder is needed",
  ENOENT: "it does not exist",
  ELOOP: "too many symbolic links",
};

interface SystemErrorLike {
  code?: unknown;
  path?: unknown;
  dest?: unknown;
  syscall?: unknown;
  address?: unknown;
  port?: unknown;
  errstr?: unknown;
  message?: unknown;
  cause?: unknown;
}

/** The error and its causes, outermost first. */
export function errorChain(error: unknown): SystemErrorLike[] {
  const errors: SystemErrorLike[] = [];
  let current = error;
  while (current && typeof current === "object" && errors.length < 8) {
    errors.push(current as SystemErrorLike);
    current = (current as SystemErrorLike).cause;
  }
  return errors;
}

/** What went wrong with a path, in words (`it does not exist (ENOENT on open)`), or undefined. */
export function pathProblem(error: unknown): string | undefined {
  for (const e of errorChain(error)) {
    const code = typeof e.code === "string" ? e.code : undefined;
    if (code && code in PATH_PROBLEMS) {
      return `${PATH_PROBLEMS[code]} (${code}${typeof e.syscall === "string" ? ` on ${e.syscall}` : ""})`;
    }
  }
  return undefined;
}

/** `path` or its nearest ancestor that exists. */
async function nearestExisting(path: string): Promise<string> {
  let current = resolve(path);
  while (
    !(await stat(current).then(
      () => true,
      () => false,
    ))
  ) {
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return current;
}

/**
 * Checks at start that `path` is a folder this process can write (creating it), so that a bad
 * path is one line and exit 2 before anything is received or sent, not a pause or a hang later
 * (a consumer treats a failing outbox as its own fault and waits for it to be fixed).
 */
export async function checkWritableFolder(path: string, flag: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true }).catch(async (error: unknown) => {
      // A recursive mkdir under a read-only or forbidden folder says ENOENT; the nearest folder
      // that exists says why (EROFS, EACCES).
      await access(await nearestExisting(path), constants.W_OK);
      throw error;
    });
    await access(path, constants.W_OK);
  } catch (error) {
    const problem = pathProblem(error);
    if (problem === undefined) throw error;
    throw new ConfigurationError(
      `Cannot use ${flag} ${path}: ${problem}. Choose a folder this user can write.`,
      { cause: error },
    );
  }
}
