/**
 * A stand-in for the function's bundle: a real zip (written by yazl, the zip library the build
 * uses) holding an index.mjs whose handler fails every message, so a stack that plans with it
 * could never pass for a deployed consumer. The infrastructure tests point functionBundlePath at
 * it; neither program opens it at plan time (Terraform hashes it: filebase64sha256).
 */
import { createWriteStream, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZipFile } from "yazl";

const PLACEHOLDER_HANDLER = `export const handler = async (event) => ({
  batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
});
`;

/** Writes the placeholder zip in a new temporary folder and returns its absolute path. */
export async function writePlaceholderBundle(): Promise<string> {
  const path = join(mkdtempSync(join(tmpdir(), "lambda-bundle-")), "function.zip");
  const zip = new ZipFile();
  // A fixed time: the same bytes (and so the same source hash) on every run.
  zip.addBuffer(Buffer.from(PLACEHOLDER_HANDLER), "index.mjs", { mtime: new Date(Date.UTC(2026, 0, 1)) });
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on("close", () => resolve());
    out.on("error", reject);
    zip.outputStream.on("error", reject).pipe(out);
  });
  return path;
}
