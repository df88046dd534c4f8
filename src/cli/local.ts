/**
 * `npm run local`: the embedded SQS on 127.0.0.1 with durable state, the queue pair provisioned
 * from the settings module, and the stack outputs written for the producer and consumer. Stays in
 * the foreground until Ctrl-C.
 */

import { Option } from "commander";
import { readEnvironment } from "../config/env.js";
import { checkWritableFolder } from "../config/folders.js";
import { localOutputsPath } from "../config/paths.js";
import { ConfigurationError } from "../errors.js";
import { dynamoDbDataDir } from "../local/dynamodb.js";
import type { ProvisionedQueue } from "../local/provision.js";
import { emulatorDataDir, startLocalStack } from "../local/stack.js";
import { addStateDir, givenFlags, newCommand, npmRun, parseFlags, portNumber, runCli } from "./shared.js";

function describe(queue: ProvisionedQueue): string {
  const detail = queue.change === "updated" ? ` (set ${queue.updatedAttributes.join(", ")})` : "";
  return `  ${queue.change.padEnd(9)} ${queue.name}${detail}\n            ${queue.url}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = newCommand("local")
    .description("Run the embedded SQS (fauxqs) on 127.0.0.1 with the queue pair, until Ctrl-C.")
    .addOption(
      new Option("--port <port>", "port to listen on; 0 picks a free one [env LOCAL_SQS_PORT]")
        .argParser(portNumber("--port"))
        .default(env.LOCAL_SQS_PORT ?? 4566),
    )
    .addOption(addStateDir(env));
  const flags = parseFlags<{ port: number; stateDir: string }>(program, argv);
  const outputsPath = localOutputsPath(flags.stateDir);
  await checkWritableFolder(flags.stateDir, "--state-dir");

  let stack: Awaited<ReturnType<typeof startLocalStack>>;
  try {
    stack = await startLocalStack({
      port: flags.port,
      dataDir: emulatorDataDir(flags.stateDir),
      dynamoDb: { dataDir: dynamoDbDataDir(flags.stateDir) },
      outputsPath,
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new ConfigurationError(
        `Port ${flags.port} on 127.0.0.1 is in use (another \`npm run local\`?). Stop it, or pick another port with --port or LOCAL_SQS_PORT.`,
      );
    }
    throw error;
  }
  const { provisioned, emulator, outputs } = stack;
  const same = givenFlags(program);
  process.stdout.write(
    [
      `Local SQS listening on ${emulator.endpoint} (127.0.0.1 only; state in ${emulatorDataDir(flags.stateDir)})`,
      describe(provisioned.deadLetterQueue),
      describe(provisioned.queue),
      `Local DynamoDB (dynalite) on ${outputs.dynamoDbEndpoint} (127.0.0.1 only; data in ${dynamoDbDataDir(flags.stateDir)})`,
      `  table     ${outputs.sentEmailsTableName} (the consumers' shared sent-email store)`,
      `Stack outputs written to ${outputsPath}`,
      `Now, in another terminal: ${npmRun("produce", "--count", "100", ...same)}   and   ${npmRun("consume", "--until-empty", ...same)}`,
      "Press Ctrl-C to stop.",
      "",
    ].join("\n"),
  );
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  await stack.stop();
  process.stdout.write(
    "Local SQS and DynamoDB stopped; queues, messages and the table are kept for the next run.\n",
  );
  return 0;
}

await runCli(() => main(process.argv.slice(2)));
