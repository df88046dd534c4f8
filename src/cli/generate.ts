/**
 * `npm run generate`: writes the files derived from the settings table (src/config/generate.ts) —
 * Terraform's settings variables and Pulumi.yaml's config block. `--check` writes nothing and
 * exits 1 when one is stale (what the test in `npm test` asserts too).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { generatedFiles } from "../config/generate.js";
import { projectRoot } from "../config/paths.js";
import { newCommand, parseFlags, runCli } from "./shared.js";

async function main(argv: readonly string[]): Promise<number> {
  const program = newCommand("generate")
    .description("Write the Terraform variables and Pulumi.yaml config generated from the settings table.")
    .option("--check", "write nothing; exit 1 when a generated file is stale");
  const flags = parseFlags<{ check?: boolean }>(program, argv);
  let stale = 0;
  for (const file of generatedFiles(projectRoot)) {
    if (file.actual === file.expected) {
      process.stdout.write(`${file.path} is current\n`);
    } else if (flags.check) {
      stale += 1;
      process.stderr.write(`${file.path} is stale: run \`npm run generate\`\n`);
    } else {
      writeFileSync(join(projectRoot, file.path), file.expected);
      process.stdout.write(`wrote ${file.path}\n`);
    }
  }
  return stale === 0 ? 0 : 1;
}

await runCli(() => main(process.argv.slice(2)));
