/**
 * Consumers as separate processes (the real consume CLI) sharing the DynamoDB store on a local
 * dynalite: what a fleet does that one process cannot show. Counted from the outbox journal and
 * the queues, never from the consumers' own statistics.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { localOutputsPath } from "../../src/config/paths.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { runFleet } from "../../src/local/fleet.js";
import { writeOutputs } from "../../src/local/stack.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { cleanEnv, startCli } from "../support/cli.js";
import { runConsumeApp } from "../support/consume-app.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";
import { journal } from "../support/outbox.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function fleetSqs(settings: Parameters<typeof startTestSqs>[0]): Promise<TestSqs> {
  const sqs = await startTestSqs(settings, { dynamoDb: true });
  cleanups.push(() => sqs.close());
  return sqs;
}

async function stateFor(sqs: TestSqs, outputs = sqs.stack.outputs): Promise<string> {
  const stateDir = await mkdtemp(join(tmpdir(), "fleet-"));
  await writeOutputs(localOutputsPath(stateDir), outputs);
  return stateDir;
}

function collect(child: ChildProcess): { stdout: () => string; stderr: () => string } {
  let out = "";
  let err = "";
  child.stdout?.on("data", (chunk) => {
    out += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    err += chunk;
  });
  return { stdout: () => out, stderr: () => err };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** The digest key is shared by every consumer of the fleet, as in production. */
const fleetEnv = () => cleanEnv({ REGISTRATION_DIGEST_KEY: "fleet-test-key-0123456789abcdef0123456789" });

describe("a fleet on the shared DynamoDB store", () => {
  it("three consume processes, every registration sent twice, two killed mid-drain and restarted: one email each, none lost", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "fleet-demo-"));
    const summary = await runFleet({ count: 60, consumers: 3, stateDir, sendLatencyMs: 20 });
    console.info(`fleet: ${JSON.stringify(summary)}`);
    expect(summary).toMatchObject({
      registrations: 60,
      messagesSent: 120,
      kills: 2,
      emailsSent: 60,
      duplicateEmails: 0,
      lost: 0,
      leftInQueue: 0,
      leftInDeadLetterQueue: 0,
    });
    // Counted again here, from the outbox itself: every email has its journal line, even one
    // whose writer was killed between the write and the line (the next delivery adds it).
    const emails = (await readdir(summary.outbox)).filter((f) => f.endsWith(".eml"));
    expect(emails).toHaveLength(60);
    expect(new Set(await journal(summary.outbox)).size).toBe(60);
  }, 150_000);

  it("S14, fencing: a consumer frozen (SIGSTOP) mid-send past its lease loses the claim; one email, its late write rejected", async () => {
    const sqs = await fleetSqs({ visibilityTimeoutSeconds: 1 });
    const stateDir = await stateFor(sqs);
    const outbox = join(stateDir, "outbox");
    const [registration] = (await generateRegistrations(1, 77)).map((r) =>
      toOutgoing(r, () => new Date(), testDigestKey),
    );
    if (!registration) throw new Error("no registration");
    expect(
      (await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send([registration])).sent,
    ).toBe(1);
    const table = sqs.stack.outputs.sentEmailsTableName ?? "";
    const dynamo = createDynamoDbClient({ endpoint: sqs.stack.outputs.dynamoDbEndpoint ?? "" });
    cleanups.push(async () => dynamo.destroy());
    const record = async () =>
      (
        await dynamo.send(
          new GetItemCommand({ TableName: table, Key: { id: { S: registration.id } }, ConsistentRead: true }),
        )
      ).Item;

    // A: a 3 s send, aborted at 4 s; its lease is 4.8 s.
    const common = ["--state-dir", stateDir, "--json", "--wait-time", "1", "--concurrency", "1"];
    const first = startCli(
      "consume",
      [...common, "--send-latency", "3000", "--send-timeout", "4000"],
      fleetEnv(),
    );
    const firstOut = collect(first);
    await waitFor(async () => (await record())?.state?.S === "sending", "the first consumer's claim", 30_000);
    const claimedBy = (await record())?.owner?.S;
    first.kill("SIGSTOP"); // frozen inside the send: its timers and heartbeat stop with it
    const frozenAt = Date.now();

    // B: takes the claim once A's lease lapsed, sends, marks sent.
    const second = startCli("consume", [...common, "--send-timeout", "1000"], fleetEnv());
    const secondOut = collect(second);
    await waitFor(async () => (await record())?.state?.S === "sent", "the second consumer to send", 30_000);
    expect((await record())?.owner?.S).not.toBe(claimedBy);
    expect(Date.now() - frozenAt).toBeGreaterThan(3_000); // not before A's lease lapsed
    await waitFor(
      async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 0,
      "the message deleted",
      30_000,
    );

    // A wakes up after its lease. Which of its overdue timers fires first depends on where the
    // freeze caught it (a loaded machine decides): its send finishes and its late write is
    // rejected (the fence), or its send is aborted at its timeout, or the lease check right
    // before the send finds the claim gone. Every path must end with A having sent and written
    // nothing that sticks.
    first.kill("SIGCONT");
    await waitFor(
      () => /late write was rejected|handler failed/.test(firstOut.stderr()),
      "the first consumer to finish its frozen message",
      30_000,
    );
    first.kill("SIGTERM");
    second.kill("SIGTERM");
    expect(await exited(first)).toBe(0);
    expect(await exited(second)).toBe(0);
    const a = JSON.parse(firstOut.stdout());
    const b = JSON.parse(secondOut.stdout());
    console.info(
      `fencing: frozen ${((Date.now() - frozenAt) / 1000).toFixed(1)} s; A staleClaims ${a.staleClaims}, emailsSent ${a.emailsSent}; B emailsSent ${b.emailsSent}`,
    );
    expect(a).toMatchObject({ store: "dynamodb", emailsSent: 0 });
    expect(a.staleClaims).toBeLessThanOrEqual(1);
    expect((await record())?.owner?.S).not.toBe(claimedBy); // A's writes never took the record back
    // One email written; A's late send, if it got that far, found it there (a second SMTP send
    // would be the price of a sender frozen past its lease: docs/delivery.md).
    expect(await journal(outbox, { written: true })).toEqual([registration.id]);
    expect((await readdir(outbox)).filter((f) => f.endsWith(".eml"))).toEqual([`${registration.id}.eml`]);
    expect((await record())?.state?.S).toBe("sent");
  }, 120_000);

  it("a missing table: the consumer stops before receiving, with one line that names the table", async () => {
    const sqs = await fleetSqs({});
    const stateDir = await stateFor(sqs, { ...sqs.stack.outputs, sentEmailsTableName: "no-such-table" });
    const result = await runConsumeApp(["--state-dir", stateDir, "--until-empty"], { env: fleetEnv() });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/"no-such-table" does not exist/);
  }, 60_000);
});
