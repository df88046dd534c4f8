/**
 * `npm run status -- …`: visible, in-flight and delayed messages of the main and dead-letter
 * queues, and the age of the oldest message (CloudWatch on AWS; unknown on the emulator).
 * Exit codes: 0 the dead-letter queue is empty; 3 it holds messages; 1 SQS could not be read;
 * 2 usage or configuration error.
 */
import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import { isLocalEndpoint } from "../config/endpoint.js";
import { readEnvironment } from "../config/env.js";
import { OPERATOR_DEAD_LETTER_HINT } from "../ops/queues.js";
import {
  CloudWatchAges,
  DEAD_LETTERS_PRESENT_EXIT_CODE,
  formatStatus,
  queueStatus,
  unknownAges,
} from "../ops/status.js";
import { explained, OPS_ANSWER_TIMEOUT_MS } from "../sqs/client.js";
import { queuePair } from "../sqs/queue-pair.js";
import {
  addQueueOptions,
  connect,
  givenFlags,
  loggerFor,
  newCommand,
  npmRun,
  parseFlags,
  type QueueFlags,
  runCli,
} from "./shared.js";

interface StatusFlags extends QueueFlags {
  emulator?: boolean;
}

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const program = addQueueOptions(
    newCommand("status")
      .description(
        `Depth of the main and dead-letter queues. Exits ${DEAD_LETTERS_PRESENT_EXIT_CODE} when the dead-letter queue holds messages.`,
      )
      .option(
        "--emulator",
        "the endpoint is an emulator without CloudWatch (implied by a loopback endpoint): ages unknown",
      ),
    env,
  );
  const flags = parseFlags<StatusFlags>(program, argv);
  const logger = loggerFor(flags, "status");

  // Every request bounded: an endpoint that accepts and never answers ends this in seconds.
  const { location, client } = await connect(flags, { answerTimeoutMs: OPS_ANSWER_TIMEOUT_MS });
  const emulator = flags.emulator === true || isLocalEndpoint(location.endpoint);
  const cloudwatch = emulator
    ? undefined
    : new CloudWatchClient({
        ...(location.region ? { region: location.region } : {}),
        maxAttempts: 2,
        requestHandler: {
          requestTimeout: OPS_ANSWER_TIMEOUT_MS,
          connectionTimeout: OPS_ANSWER_TIMEOUT_MS,
          throwOnRequestTimeout: true,
        },
      });
  try {
    const report = await explained(
      async () =>
        queueStatus({
          client,
          queues: await queuePair(client, location, OPERATOR_DEAD_LETTER_HINT),
          ages: cloudwatch ? new CloudWatchAges(cloudwatch) : unknownAges,
          onAgeError: (error) =>
            logger.warn(
              { err: error },
              "could not read ApproximateAgeOfOldestMessage from CloudWatch (needs cloudwatch:GetMetricData); ages unknown",
            ),
        }),
      location.queueUrl,
      "read the queue attributes",
      location,
    );
    process.stdout.write(
      flags.json
        ? `${JSON.stringify(report)}\n`
        : formatStatus(report, npmRun("dlq", "list", ...givenFlags(program))),
    );
    return report.deadLetterQueueEmpty ? 0 : DEAD_LETTERS_PRESENT_EXIT_CODE;
  } finally {
    client.destroy();
    cloudwatch?.destroy();
  }
}

await runCli(() => main(process.argv.slice(2)));
