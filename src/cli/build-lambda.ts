/**
 * `npm run build:lambda`: the Lambda function's bundle and zip (src/lambda/bundle.ts), in
 * dist/lambda/ where both infrastructure programs look for it by default.
 */
import { relative } from "node:path";
import { projectRoot } from "../config/paths.js";
import { LAMBDA_BUNDLE } from "../contract/lambda-bundle.js";
import { buildLambdaBundle } from "../lambda/bundle.js";
import { newCommand, parseFlags, runCli } from "./shared.js";

async function main(argv: readonly string[]): Promise<number> {
  const program = newCommand("build:lambda")
    .description(`Bundle the Lambda function with esbuild and zip it (handler ${LAMBDA_BUNDLE.handler}).`)
    .option("--json", "print the paths and sizes as JSON");
  const flags = parseFlags<{ json?: boolean }>(program, argv);
  const bundle = await buildLambdaBundle(projectRoot);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(bundle)}\n`);
  } else {
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    process.stdout.write(
      `${relative(projectRoot, bundle.modulePath)} ${kib(bundle.moduleBytes)}\n${relative(projectRoot, bundle.zipPath)} ${kib(bundle.zipBytes)} (handler ${LAMBDA_BUNDLE.handler})\n`,
    );
  }
  return 0;
}

await runCli(() => main(process.argv.slice(2)));
