/**
 * The send boundary's failure model (docs/email-delivery.md, rows S1–S14) under real faults: a
 * real SMTP server (smtp-server) that drops the connection after DATA or answers later than the
 * send timeout, and a DynamoDB-protocol store (dynalite) that stops answering for 12 s. Counted at
 * the SMTP server (every body it took, answered or not: the copies a person may get) and from the
 * queues, never from the consumer's own counters.
 *
 * Durations: the faults last what the model's cases name (25 s, 30 s, 12 s); the send timeout is
 * 2 s instead of 10 s (the lease follows: 2.5 s), the breaker probes from 0.5 s up to 4 s instead
 * of 1–15 s, and the visibility timeout is 10 s, so that a case takes tens of seconds, not minutes.
 * Each test has its own queues, servers, store and folders, and they run side by side: a case
 * spends its time waiting out its fault window (about 14 s of CPU for the seven cases, 145 s one
 * at a time), so that the file holds one of the suite's workers for the longest case, not the sum.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { describe, expect, it, type TestContext } from "vitest";
import { SmtpMailer } from "../../src/consumer/mail/smtp.js";
import { buildRegistrationConsumer, type RegistrationConsumer } from "../../src/consumer/registrations.js";
import { DynamoDbSentEmailStore } from "../../src/consumer/store/dynamodb.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { storeTiming } from "../../src/consumer/store/timing.js";
import { type Registration, toOutgoing } from "../../src/contract/registration.js";
import { ensureTable, startLocalDynamoDb } from "../../src/local/dynamodb.js";
import { writeOutputs } from "../../src/local/stack.js";
import { consumerMetrics } from "../../src/observability/metrics.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { acceptedOnDisk } from "../support/accepted-on-disk.js";
import { cleanEnv, runCli, startCli } from "../support/cli.js";
import { testDigestKey } from "../support/digest-key.js";
import { startDynamoDbProxy } from "../support/dynamodb-proxy.js";
import { queueDepth, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";
import { startTestSmtp, type TestSmtp } from "../support/smtp.js";

const SEND_TIMEOUT_MS = 2_000;
const VISIBILITY_SECONDS = 10;
const BREAKER = { firstProbeMs: 500, maxProbeMs: 4_000 };
const FROM = "Cadastro <no-reply@example.com>";

type Cleanups = (() => Promise<unknown> | unknown)[];

/**
 * What one test started, released in reverse order when it ends (per test, so a failed case
 * never leaves its servers to the next).
 */
function cleanupsOf(context: TestContext): Cleanups {
  const cleanups: Cleanups = [];
  context.onTestFinished(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

async function queues(cleanups: Cleanups): Promise<TestSqs> {
  const sqs = await startTestSqs({ visibilityTimeoutSeconds: VISIBILITY_SECONDS });
  cleanups.push(() => sqs.close());
  return sqs;
}

async function smtpServer(cleanups: Cleanups): Promise<TestSmtp> {
  const server = await startTestSmtp();
  cleanups.push(() => server.close());
  return server;
}

async function produce(sqs: TestSqs, count: number): Promise<Registration[]> {
  const registrations = await generateRegistrations(count, 19);
  const outgoing = registrations.map((r) => toOutgoing(r, () => new Date(), testDigestKey));
  expect((await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(outgoing)).sent).toBe(
    count,
  );
  return registrations;
}

/** Copies per registration address, as the server took them (health checks to our sender apart). */
function copiesByAddress(server: TestSmtp, from: "bodies" | "received"): Map<string, number> {
  const copies = new Map<string, number>();
  for (const mail of server[from]) {
    for (const to of mail.to) if (!FROM.includes(to)) copies.set(to, (copies.get(to) ?? 0) + 1);
  }
  return copies;
}

/**
 * Each send takes a moment (its 250 comes 150 ms after the body); the store stops while the
 * 15th body waits for its 250, so that sends are surely under way, their records not yet written.
 */
async function storeStopsDuringASend(
  server: TestSmtp,
  proxy: { freeze(mode: "hold" | "lose"): void },
  mode: "hold" | "lose",
): Promise<void> {
  let bodies = 0;
  let frozen = false;
  server.script = (stage) => {
    if (stage !== "data") return undefined;
    bodies += 1;
    if (bodies === 15) {
      proxy.freeze(mode);
      frozen = true;
    }
    return { delayMs: 150 };
  };
  await waitFor(() => frozen, "the store stopped during a send");
}

interface ConsumerSetup {
  readonly cleanups: Cleanups;
  readonly sqs: TestSqs;
  readonly server: TestSmtp;
  readonly concurrency: number;
  readonly stateDir: string;
  readonly store?: { client: DynamoDBClient; tableName: string };
  readonly shutdownTimeoutMs?: number;
}

async function consumerFor(setup: ConsumerSetup): Promise<RegistrationConsumer> {
  const { cleanups, sqs, server, stateDir } = setup;
  const mailer = new SmtpMailer({ url: server.url, sendTimeoutMs: SEND_TIMEOUT_MS, from: FROM });
  const store = setup.store
    ? new DynamoDbSentEmailStore({
        client: setup.store.client,
        table: { tableName: setup.store.tableName },
        timing: storeTiming(SEND_TIMEOUT_MS),
      })
    : ({ kind: "sqlite", path: join(stateDir, "sent-emails.sqlite") } as const);
  const built = await buildRegistrationConsumer({
    client: sqs.client,
    queueUrl: sqs.queueUrl,
    deadLetterQueueUrl: sqs.deadLetterQueueUrl,
    store,
    mailer,
    digestKey: testDigestKey,
    sendTimeoutMs: SEND_TIMEOUT_MS,
    acceptedDir: join(stateDir, "accepted"),
    consumer: {
      concurrency: setup.concurrency,
      waitTimeSeconds: 1,
      breaker: BREAKER,
      ...(setup.shutdownTimeoutMs ? { shutdownTimeoutMs: setup.shutdownTimeoutMs } : {}),
    },
  });
  cleanups.push(async () => {
    await built.consumer.stop();
    await built.close();
  });
  return built;
}

/** Every registration accepted by the server at least once and the main queue empty. */
async function allMailed(sqs: TestSqs, server: TestSmtp, registrations: Registration[], timeoutMs: number) {
  await waitFor(
    async () => {
      const accepted = copiesByAddress(server, "received");
      return (
        registrations.every((r) => (accepted.get(r.email) ?? 0) > 0) &&
        (await queueDepth(sqs.client, sqs.queueUrl)) === 0
      );
    },
    "every registration mailed and the queue empty",
    timeoutMs,
  );
}

async function storeBehindProxy(cleanups: Cleanups) {
  const dynamo = await startLocalDynamoDb({ port: 0 });
  cleanups.push(() => dynamo.stop());
  const direct = createDynamoDbClient({ endpoint: dynamo.endpoint });
  cleanups.push(() => direct.destroy());
  const tableName = "sent-emails-boundary";
  await ensureTable(direct, { tableName });
  const proxy = await startDynamoDbProxy(dynamo.endpoint);
  cleanups.push(() => {
    proxy.thaw();
    return proxy.close();
  });
  const client = () => {
    const made = createDynamoDbClient({ endpoint: proxy.endpoint });
    cleanups.push(() => made.destroy());
    return made;
  };
  return { proxy, tableName, client };
}

/** The two ways a store stops answering. */
const MODES = [
  ["frozen (what it was sent is carried out when it continues, as under SIGSTOP)", "hold"],
  ["partitioned (what it was sent meanwhile is lost)", "lose"],
] as const;

// Through the real binary (startCli ties the child to this test through its context).
describe.concurrent("the consume CLI while the store stops answering (S10)", () => {
  it("S10: the consume CLI SIGKILLed while the store is partitioned, another started on the same state folder: every one mailed once", async (context) => {
    const cleanups = cleanupsOf(context);
    const sqs = await queues(cleanups);
    const server = await smtpServer(cleanups);
    const { proxy, tableName } = await storeBehindProxy(cleanups);
    const registrations = await produce(sqs, 40);
    const stateDir = await mkdtemp(join(tmpdir(), "send-boundary-cli-"));
    await writeOutputs(join(stateDir, "outputs.json"), {
      ...sqs.stack.outputs,
      sentEmailsTableName: tableName,
      dynamoDbEndpoint: proxy.endpoint,
    });
    const args = [
      "--mailer",
      "smtp",
      "--smtp-url",
      server.url,
      "--concurrency",
      "10",
      "--state-dir",
      stateDir,
    ];
    const env = cleanEnv({ MAIL_SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS) });
    const killed = startCli("consume", args, env, context.onTestFinished);
    let stderr = "";
    killed.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    await storeStopsDuringASend(server, proxy, "lose");
    let thawed = false;
    const thaw = setTimeout(() => {
      thawed = true;
      proxy.thaw();
    }, 12_000);
    cleanups.push(() => clearTimeout(thaw));
    // Sends under way finish and cannot be recorded; the claims fail until the consumer pauses.
    await waitFor(() => stderr.includes("environment fault: pausing"), "the consumer paused", 11_000);
    const exited = new Promise((resolve) => killed.once("exit", resolve));
    killed.kill("SIGKILL");
    await exited;
    const pending = (await acceptedOnDisk(join(stateDir, "accepted"))).length;
    await waitFor(
      async () => {
        const storeDown = !thawed;
        const run = await runCli("consume", [...args, "--until-empty", "--json"], { env });
        // While the store is down, consume refuses to start (its table check fails): restarted
        // until it starts, as a supervisor would.
        if (run.code !== 0 && storeDown) return false;
        expect(run.code, run.stderr.slice(-2_000)).toBe(0);
        return (await queueDepth(sqs.client, sqs.queueUrl)) === 0;
      },
      "the queue drained",
      120_000,
    );
    const copies = copiesByAddress(server, "bodies");
    expect(registrations.every((r) => copies.get(r.email) === 1)).toBe(true);
    expect(copies.size).toBe(40);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
    expect((await acceptedOnDisk(join(stateDir, "accepted"))).length).toBe(0);
    expect(pending).toBeGreaterThan(0); // the case this row is about: 250s unrecorded at the kill
  }, 180_000);
});

describe.concurrent("the mail server misbehaves (S4, S5)", () => {
  it("S4/S5: 20 registrations while the server drops the connection after DATA for 25 s, then healthy: none dead-lettered, every one mailed, none more than twice", async (context) => {
    const cleanups = cleanupsOf(context);
    const sqs = await queues(cleanups);
    const server = await smtpServer(cleanups);
    let dropping = true;
    server.script = (stage) => (dropping && stage === "data" ? "drop" : undefined);
    const registrations = await produce(sqs, 20);
    const stateDir = await mkdtemp(join(tmpdir(), "send-boundary-"));
    const { consumer, emails } = await consumerFor({ cleanups, sqs, server, concurrency: 10, stateDir });
    const { registry } = consumerMetrics(consumer, sqs.client, emails);
    let paused = 0;
    consumer.on("paused", () => {
      paused += 1;
    });
    await consumer.start();
    const healed = setTimeout(() => {
      dropping = false;
    }, 25_000);
    cleanups.push(() => clearTimeout(healed));
    await allMailed(sqs, server, registrations, 90_000);
    const copies = copiesByAddress(server, "bodies");
    expect(registrations.every((r) => (copies.get(r.email) ?? 0) >= 1)).toBe(true);
    expect(Math.max(...copies.values())).toBeLessThanOrEqual(2);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
    expect(paused).toBeGreaterThan(0);
    // The second copies are those the summary reports: each went to a registration dropped once.
    const twice = [...copies.values()].filter((n) => n === 2).length;
    expect(twice).toBeGreaterThan(0);
    expect(emails.secondSends).toBe(twice);
    expect(await registry.metrics()).toMatch(new RegExp(`^consumer_second_sends_total ${twice}$`, "m"));
  }, 150_000);

  it("S4/S5: a server that answers later than the send timeout for 30 s: none more than twice, none dead-lettered", async (context) => {
    const cleanups = cleanupsOf(context);
    const sqs = await queues(cleanups);
    const server = await smtpServer(cleanups);
    let slow = true;
    server.script = (stage) => (slow && stage === "data" ? { delayMs: SEND_TIMEOUT_MS + 1_000 } : undefined);
    const registrations = await produce(sqs, 20);
    const stateDir = await mkdtemp(join(tmpdir(), "send-boundary-"));
    const { consumer } = await consumerFor({ cleanups, sqs, server, concurrency: 10, stateDir });
    await consumer.start();
    const healed = setTimeout(() => {
      slow = false;
    }, 30_000);
    cleanups.push(() => clearTimeout(healed));
    await allMailed(sqs, server, registrations, 120_000);
    const copies = copiesByAddress(server, "bodies");
    expect(registrations.every((r) => (copies.get(r.email) ?? 0) >= 1)).toBe(true);
    expect(Math.max(...copies.values())).toBeLessThanOrEqual(2);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  }, 180_000);
});

describe.concurrent("the store stops answering for 12 s while sends complete (S7, S9, S10)", () => {
  it.for(MODES)(
    "S7/S9: 40 registrations at concurrency 10, store %s for 12 s: every one mailed once, nothing left invisible",
    { timeout: 150_000 },
    async ([_name, mode], context) => {
      const cleanups = cleanupsOf(context);
      const sqs = await queues(cleanups);
      const server = await smtpServer(cleanups);
      // Each send takes a moment, so that sends are under way when the store stops.
      const { proxy, tableName, client } = await storeBehindProxy(cleanups);
      const registrations = await produce(sqs, 40);
      const stateDir = await mkdtemp(join(tmpdir(), "send-boundary-"));
      const built = await consumerFor({
        cleanups,
        sqs,
        server,
        concurrency: 10,
        stateDir,
        store: { client: client(), tableName },
      });
      await built.consumer.start();
      await storeStopsDuringASend(server, proxy, mode);
      const thaw = setTimeout(() => proxy.thaw(), 12_000);
      cleanups.push(() => clearTimeout(thaw));
      await allMailed(sqs, server, registrations, 90_000);
      const copies = copiesByAddress(server, "bodies");
      expect(registrations.every((r) => copies.get(r.email) === 1)).toBe(true);
      expect(copies.size).toBe(40);
      expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
      await waitFor(() => built.consumer.inFlight === 0, "nothing held after the fault cleared", 10_000);
      expect((await acceptedOnDisk(join(stateDir, "accepted"))).length).toBe(0);
    },
  );

  it.for(MODES)(
    "S10: store %s for 12 s, the consumer stopped mid-outage (its handlers abandoned) and a new one started on the same state folder: every one mailed once",
    { timeout: 180_000 },
    async ([_name, mode], context) => {
      const cleanups = cleanupsOf(context);
      const sqs = await queues(cleanups);
      const server = await smtpServer(cleanups);
      const { proxy, tableName, client } = await storeBehindProxy(cleanups);
      const registrations = await produce(sqs, 40);
      const stateDir = await mkdtemp(join(tmpdir(), "send-boundary-"));
      const first = await consumerFor({
        cleanups,
        sqs,
        server,
        concurrency: 10,
        stateDir,
        store: { client: client(), tableName },
        shutdownTimeoutMs: 500,
      });
      await first.consumer.start();
      await storeStopsDuringASend(server, proxy, mode);
      const frozenAt = Date.now();
      const thaw = setTimeout(() => proxy.thaw(), 12_000);
      cleanups.push(() => clearTimeout(thaw));
      // Sends under way finish, their records cannot be written; the claims fail until the
      // consumer pauses (the store's fault). Stop it then, with the store still down.
      await waitFor(() => first.consumer.paused, "the consumer paused on the store's fault", 11_000);
      const pending = (await acceptedOnDisk(join(stateDir, "accepted"))).length;
      await first.consumer.stop(); // its handlers are abandoned at the 0.5 s deadline
      expect(Date.now() - frozenAt).toBeLessThan(12_000); // stopped while the store was still down
      const second = await consumerFor({
        cleanups,
        sqs,
        server,
        concurrency: 10,
        stateDir,
        store: { client: client(), tableName },
      });
      await second.consumer.start();
      await allMailed(sqs, server, registrations, 120_000);
      const copies = copiesByAddress(server, "bodies");
      expect(registrations.every((r) => copies.get(r.email) === 1)).toBe(true);
      expect(copies.size).toBe(40);
      // The case this row is about happened: accepted sends were waiting for their record at the stop.
      expect(pending).toBeGreaterThan(0);
      expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
      await waitFor(() => second.consumer.inFlight === 0, "nothing held after the fault cleared", 10_000);
      expect((await acceptedOnDisk(join(stateDir, "accepted"))).length).toBe(0);
    },
  );
});
