/**
 * Opening the producer's inputs as streams that can be read again (for `--strict`'s validation
 * pass): a file is reopened; standard input is spooled to a temporary file first.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConfigurationError } from "../errors.js";

/** An NDJSON input that can be read from the start as many times as needed. */
export interface ReplayableInput {
  open(): AsyncIterable<Buffer>;
  /** Removes anything created for it (a spooled copy of stdin). */
  close(): Promise<void>;
}

/** A readable regular file (or pipe), checked before anything is sent. */
export async function fileInput(path: string): Promise<ReplayableInput> {
  let reason: string | undefined;
  try {
    const info = await stat(path);
    if (info.isDirectory()) reason = "it is a folder";
  } catch (error) {
    reason = (error as Error).message;
  }
  if (reason) {
    throw new ConfigurationError(
      `Cannot read --file ${path}: ${reason}. Give the path of an NDJSON file, or - for standard input.`,
    );
  }
  return { open: () => createReadStream(path), close: async () => {} };
}

/**
 * Standard input copied to a temporary file, so that it can be validated in full and then sent
 * (`--strict` with `--file -`): memory stays flat, the disk holds one copy until the run ends.
 */
export async function spooledInput(input: Readable): Promise<ReplayableInput> {
  const dir = await mkdtemp(join(tmpdir(), "produce-stdin-"));
  const path = join(dir, "stdin.ndjson");
  try {
    await pipeline(input, createWriteStream(path));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    open: () => createReadStream(path),
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
