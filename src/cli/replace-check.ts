/**
 * `npm run infra:replace-check -- <plan.json | ->`: fails when a plan would replace or delete a
 * queue or the sent-email table (src/stack/replace-check.ts). The plan is what
 * `terraform show -json <planfile>` or `pulumi preview --json` printed.
 *
 * Exit codes: 0 the plan keeps every queue and the table; 1 it would replace or delete one (one
 * line per resource on stderr, naming it); 2 usage: no file, unreadable, not JSON, not a plan.
 */
import { readFileSync } from "node:fs";
import { checkPlanText, REPLACE_CHECK_EXIT } from "../stack/replace-check.js";

function main(argv: readonly string[]): number {
  const [file] = argv;
  if (!file || argv.length > 1 || file === "--help") {
    process.stderr.write(
      "usage: replace-check <plan.json | ->  (terraform show -json, or pulumi preview --json)\n",
    );
    return file === "--help" ? REPLACE_CHECK_EXIT.ok : REPLACE_CHECK_EXIT.usage;
  }
  let text: string;
  try {
    text = readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (error) {
    process.stderr.write(`replace-check: cannot read ${file}: ${(error as Error).message}\n`);
    return REPLACE_CHECK_EXIT.usage;
  }
  const { code, lines } = checkPlanText(text);
  for (const line of lines) process.stderr.write(`${line}\n`);
  if (code === REPLACE_CHECK_EXIT.ok)
    process.stdout.write("replace-check: no queue or table replaced or deleted.\n");
  return code;
}

process.exitCode = main(process.argv.slice(2));
