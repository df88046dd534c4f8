/**
 * `npm run build:lambda`'s output: the zip holds the bundle under the name the function's handler
 * setting points at, and the bundle loads on its own (no node_modules beside it) and answers.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { unzipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { buildLambdaBundle, LAMBDA_BUNDLE } from "../../src/lambda/bundle.js";

const run = promisify(execFile);
const folders: string[] = [];
/** The first test's zip, which the second compares a rebuild with. */
let firstZip: Buffer | undefined;
afterAll(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

describe("the Lambda bundle", () => {
  it("zips one module that exports the handler, loads without node_modules and answers an empty event", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "lambda-bundle-"));
    folders.push(outDir);
    const bundle = await buildLambdaBundle(projectRoot, outDir);
    expect(LAMBDA_BUNDLE.handler).toBe(`${LAMBDA_BUNDLE.module.replace(/\.mjs$/, "")}.handler`);

    firstZip = await readFile(bundle.zipPath);
    const entries = unzipSync(new Uint8Array(firstZip));
    expect(Object.keys(entries)).toEqual([LAMBDA_BUNDLE.module]);
    expect(Buffer.from(entries[LAMBDA_BUNDLE.module] ?? []).equals(await readFile(bundle.modulePath))).toBe(
      true,
    );

    // A folder of its own, as Lambda unpacks it: nothing to resolve imports from but the bundle.
    const alone = await mkdtemp(join(tmpdir(), "lambda-alone-"));
    folders.push(alone);
    await writeFile(join(alone, LAMBDA_BUNDLE.module), entries[LAMBDA_BUNDLE.module] ?? new Uint8Array());
    const url = pathToFileURL(join(alone, LAMBDA_BUNDLE.module)).href;
    const script = `
      const { handler } = await import(${JSON.stringify(url)});
      const context = { getRemainingTimeInMillis: () => 30000 };
      const empty = await handler({ Records: [] }, context);
      let refused = "";
      try { await handler({ Records: [{ messageId: "m" }] }, context); } catch (error) { refused = error.name + ": " + error.message; }
      process.stdout.write(JSON.stringify({ empty, refused }));
    `;
    const { stdout } = await run(process.execPath, ["--input-type=module", "-e", script], {
      cwd: alone,
      env: { PATH: process.env.PATH ?? "" },
    });
    const answer = JSON.parse(stdout);
    expect(answer.empty).toEqual({ batchItemFailures: [] });
    // With no environment, a real event is refused naming the first variable the stack must set.
    expect(answer.refused).toMatch(/^ConfigurationError: .*SQS_QUEUE_URL/);
  });

  it("gives the same zip for the same code (a deployment changes only when the code does)", async () => {
    const again = await mkdtemp(join(tmpdir(), "lambda-bundle-again-"));
    folders.push(again);
    const rebuilt = await buildLambdaBundle(projectRoot, again);
    expect(firstZip && (await readFile(rebuilt.zipPath)).equals(firstZip)).toBe(true);
  });
});
