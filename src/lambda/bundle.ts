/**
 * The function's deployment package: one ES module bundled by esbuild (`index.mjs`, handler
 * export `handler`, so the function's handler setting is `index.handler`) zipped by yazl. The AWS
 * SDK clients go into the bundle rather than relying on the runtime's copy: the function then runs
 * the versions the tests ran, and a runtime update cannot change them.
 *
 * Build-time only (esbuild and yazl are devDependencies): nothing in the function imports this.
 */
import { createWriteStream } from "node:fs";
import { mkdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { finished } from "node:stream/promises";
import { build } from "esbuild";
import { ZipFile } from "yazl";
import { LAMBDA_BUNDLE } from "../contract/lambda-bundle.js";

/**
 * A fixed date for the zip's entry, so the same bundle gives the same zip byte for byte and a
 * deployment changes only when the code does (the providers compare the file's hash).
 */
const ZIP_ENTRY_TIME = new Date("2020-01-01T00:00:00Z");

/**
 * CommonJS packages in the bundle (pino, nodemailer, the SDK's dependencies) call `require` and read
 * `__dirname`; an ES module has neither, so the bundle defines them from import.meta.
 */
const COMMONJS_SHIM = [
  'import { createRequire as __createRequire } from "node:module";',
  'import { fileURLToPath as __fileURLToPath } from "node:url";',
  'import { dirname as __pathDirname } from "node:path";',
  "const require = __createRequire(import.meta.url);",
  "const __filename = __fileURLToPath(import.meta.url);",
  "const __dirname = __pathDirname(__filename);",
].join("\n");

export interface LambdaBundle {
  readonly modulePath: string;
  readonly zipPath: string;
  readonly moduleBytes: number;
  readonly zipBytes: number;
}

/** Bundles and zips the function into `<root>/<outDir>` (default dist/lambda). */
export async function buildLambdaBundle(
  root: string,
  outDir: string = join(root, LAMBDA_BUNDLE.folder),
): Promise<LambdaBundle> {
  await mkdir(outDir, { recursive: true });
  const modulePath = join(outDir, LAMBDA_BUNDLE.module);
  const zipPath = join(outDir, LAMBDA_BUNDLE.zip);
  await build({
    absWorkingDir: root,
    entryPoints: [join(root, LAMBDA_BUNDLE.entry)],
    outfile: modulePath,
    bundle: true,
    platform: "node",
    target: "node22",
    format: "esm",
    minify: true,
    legalComments: "none",
    banner: { js: COMMONJS_SHIM },
    logLevel: "silent",
  });
  const zip = new ZipFile();
  zip.addBuffer(await readFile(modulePath), LAMBDA_BUNDLE.module, { mtime: ZIP_ENTRY_TIME, mode: 0o100644 });
  zip.end();
  const written = finished(zip.outputStream.pipe(createWriteStream(zipPath)));
  await written;
  return {
    modulePath,
    zipPath,
    moduleBytes: (await stat(modulePath)).size,
    zipBytes: (await stat(zipPath)).size,
  };
}
