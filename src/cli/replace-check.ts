/**
 * `npm run infra:replace-check -- <plan.json | ->`: fails when a plan would replace or delete a
 * queue or the sent-email table (src/stack/replace-check.ts). The plan is what
 * `terraform show -json <planfile>` or `pulumi preview --json` printed.
 *
 * Exit codes: 0 the plan keeps every queue and the table; 1 it would replace or delete one (one
 * line per resource on stderr, naming it); 2 usage: no file, unreadable, not JSON, not a plan.
 */
import { readFileSync } from "node:fs";
import { pathProblem } from "../config/folders.js";
import { ConfigurationError } from "../errors.js";
import { checkPlanText, REPLACE_CHECK_EXIT } from "../stack/replace-check.js";
import { runCli } from "./shared.js";

const USAGE = "replace-check <plan.json | ->  (terraform show -json, or pulumi preview --json)";

async function main(argv: readonly string[]): Promise<number> {
  const [file] = argv;
  if (file === "--help" || file === "-h") {
    process.stdout.write(`usage: ${USAGE}\n`);
    return REPLACE_CHECK_EXIT.ok;
  }
  if (!file || argv.length > 1) {
    throw new ConfigurationError(`Give one plan file (or - for standard input): ${USAGE}.`);
  }
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (error) {
    throw new ConfigurationError(
      `Cannot read the plan ${file}: ${pathProblem(error) ?? (error as Error).message}. Pass the file \`terraform show -json\` or \`pulumi preview --json\` wrote.`,
      { cause: error },
    );
  }
  const { code, lines } = checkPlanText(text);
  for (const line of lines) process.stderr.write(`${line}\n`);
  if (code === REPLACE_CHECK_EXIT.ok)
    process.stdout.write("replace-check: no queue or table replaced or deleted.\n");
  return code;
}

await runCli(() => main(process.argv.slice(2)));
