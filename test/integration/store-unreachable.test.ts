/**
 * `consume` starting while its DynamoDB store does not answer (the local stack's SQS up, its
 * DynamoDB port closed): the table check fails before any receive, and the one line says so —
 * the table and the store's endpoint, and the fix — instead of blaming the queue. Built as
 * `consume` builds it: the registration consumer inside `explained`, which turns SQS failures
 * into lines and must leave the store's own line alone.
 */
import { mkdtemp } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOOPBACK_ADDRESS } from "../../src/config/endpoint.js";
import { outboxDir } from "../../src/config/paths.js";
import { buildRegistrationConsumer } from "../../src/consumer/registrations.js";
import { ExitCode, StoreUnavailableError } from "../../src/errors.js";
import { explained } from "../../src/sqs/client.js";
import { testDigestKey } from "../support/digest-key.js";
import { receiveAll, startTestSqs, type TestSqs } from "../support/local-sqs.js";

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK_ADDRESS, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

let sqs: TestSqs;
beforeAll(async () => {
  sqs = await startTestSqs();
});
afterAll(() => sqs?.close());

describe("consume with its DynamoDB store down at start", () => {
  it("stops before any receive with one line naming the table, the store's endpoint and the fix (exit 1)", async () => {
    const endpoint = `http://${LOOPBACK_ADDRESS}:${await closedPort()}`;
    const tableName = "user-registrations-sent-emails";
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: sqs.queueUrl,
        MessageBody: JSON.stringify({ nome: "Maria", email: "maria@example.com" }),
      }),
    );
    const stateDir = await mkdtemp(join(tmpdir(), "store-unreachable-"));
    const error = await explained(
      () =>
        buildRegistrationConsumer({
          client: sqs.client,
          queueUrl: sqs.queueUrl,
          deadLetterQueueUrl: sqs.deadLetterQueueUrl,
          store: { kind: "dynamodb", tableName, endpoint },
          outboxDir: outboxDir(stateDir),
          digestKey: testDigestKey,
          consumer: { concurrency: 1, waitTimeSeconds: 0, stopWhenEmpty: true },
        }),
      sqs.queueUrl,
      "receive messages",
      { endpoint: sqs.stack.outputs.endpoint, source: "local" },
    ).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ tableName, reason: "unreachable", exitCode: ExitCode.notDone });
    const line = (error as Error).message;
    expect(line).not.toContain("\n");
    expect(line).not.toMatch(/SQS/);
    expect(line).toContain(`"${tableName}"`);
    expect(line).toContain(endpoint);
    expect(line).toMatch(/ECONNREFUSED/);
    expect(line).toMatch(/npm run local/);
    // Nothing was received: the message waits, visible, for a consumer whose store answers.
    expect(await receiveAll(sqs.client, sqs.queueUrl)).toHaveLength(1);
  }, 60_000);
});
