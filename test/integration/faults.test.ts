/**
 * Nothing is lost under faults. Every test counts: each produced registration is processed at
 * least once (its email is in the outbox journal or the handler saw it) or is in the dead-letter
 * queue. fauxqs never duplicates by itself, so redelivery is provoked: kills, short visibility
 * timeouts, a restarted emulator, injected throttling.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { localOutputsPath, outboxDir } from "../../src/config/paths.js";
import { defaultPrefetch } from "../../src/consumer/runtime/options.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import type { ConsumerOptions } from "../../src/consumer/runtime/types.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { writeOutputs } from "../../src/local/stack.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { startCli } from "../support/cli.js";
import { runConsumeApp } from "../support/consume-app.js";
import { testDigestKey } from "../support/digest-key.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { queueDepth, receiveAll, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";
import { journal } from "../support/outbox.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function sqsWith(
  settings: Parameters<typeof startTestSqs>[0],
  options?: Parameters<typeof startTestSqs>[1],
) {
  const sqs = await startTestSqs(settings, options);
  cleanups.push(() => sqs.close());
  return sqs;
}

async function produce(sqs: TestSqs, count: number, seed: number) {
  const registrations = (await generateRegistrations(count, seed)).map((r) =>
    toOutgoing(r, () => new Date(), testDigestKey),
  );
  const report = await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations);
  expect(report.sent).toBe(count);
  return registrations.map((r) => r.id);
}

async function stateFor(sqs: TestSqs) {
  const stateDir = await mkdtemp(join(tmpdir(), "faults-"));
  await writeOutputs(localOutputsPath(stateDir), sqs.stack.outputs);
  return stateDir;
}

/** A consumer on the test queue pair (1 s polls), stopped when the test ends. */
function consumerOn(
  sqs: TestSqs,
  options: Partial<ConsumerOptions> & Pick<ConsumerOptions, "handler">,
): Consumer {
  const consumer = new Consumer({
    client: sqs.client,
    queueUrl: sqs.queueUrl,
    deadLetterQueueUrl: sqs.deadLetterQueueUrl,
    waitTimeSeconds: 1,
    ...options,
  });
  cleanups.push(() => consumer.stop());
  return consumer;
}

const idOf = (m: Message) => JSON.parse(m.Body ?? "{}").id as string;

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("fault tolerance", () => {
  it("SIGTERM mid-load: exits 0 within the deadline; nothing lost, no delete lost", async () => {
    const sqs = await sqsWith({});
    const ids = await produce(sqs, 1500, 11);
    const stateDir = await stateFor(sqs);
    const child = startCli("consume", [
      "--state-dir",
      stateDir,
      "--concurrency",
      "50",
      "--send-latency",
      "20",
      "--json",
    ]);
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    await waitFor(async () => (await journal(outboxDir(stateDir))).length >= 200, "some emails sent");
    const signalled = Date.now();
    child.kill("SIGTERM");
    expect(await exited(child)).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(25_000);
    const summary = JSON.parse(stdout);
    const sent = await journal(outboxDir(stateDir));
    // Handed back with a visibility of 1 s (HAND_BACK_SECONDS in runtime/retry-delay.ts): wait for them.
    const remaining: string[] = [];
    await waitFor(async () => {
      remaining.push(...(await receiveAll(sqs.client, sqs.queueUrl)).map(idOf));
      return sent.length + remaining.length >= ids.length;
    }, "the handed-back messages visible again");
    expect(summary.processed).toBe(sent.length);
    expect(sent.length).toBeLessThan(ids.length); // really mid-load
    // Every email sent had its message deleted (no delete lost), and the rest is still queued.
    expect(remaining.filter((id) => sent.includes(id))).toEqual([]);
    expect(new Set([...sent, ...remaining])).toEqual(new Set(ids));
    expect(sent.length + remaining.length).toBe(ids.length);
  });

  it("SIGKILL mid-load, then a new consumer: nothing lost, duplicates within what was in flight, no duplicate email", async () => {
    const sqs = await sqsWith({ visibilityTimeoutSeconds: 2 });
    const ids = await produce(sqs, 800, 12);
    const stateDir = await stateFor(sqs);
    const concurrency = 40;
    const first = startCli("consume", [
      "--state-dir",
      stateDir,
      "--concurrency",
      String(concurrency),
      "--send-latency",
      "20",
      // A short send timeout keeps the killed consumer's claims (the lease) shorter than the test.
      "--send-timeout",
      "1000",
    ]);
    await waitFor(async () => (await journal(outboxDir(stateDir))).length >= 150, "some emails sent");
    first.kill("SIGKILL");
    await exited(first);
    const second = await runConsumeApp([
      "--state-dir",
      stateDir,
      "--until-empty",
      "--wait-time",
      "3",
      "--json",
    ]);
    expect(second.code, second.stderr).toBe(0);
    const summary = JSON.parse(second.stdout);
    // No email written twice: one per registration in the outbox.
    const written = await journal(outboxDir(stateDir), { written: true });
    expect(written.length).toBe(new Set(written).size);
    // A delivery that found its email written already: the killed consumer wrote it and died before
    // recording it. Only a send in flight at the kill can be one (an SMTP transport would send it
    // twice: the at-least-once window between a send and its record).
    const found = (await journal(outboxDir(stateDir))).length - written.length;
    expect(found).toBeLessThanOrEqual(concurrency);
    const emails = (await readdir(join(stateDir, "outbox"))).filter((f) => f.endsWith(".eml"));
    expect(new Set(emails.map((f) => f.replace(/\.eml$/, "")))).toEqual(new Set(ids));
    // Redelivered after the kill: at most what the first consumer held (handlers + buffer).
    const prefetch = defaultPrefetch(concurrency);
    console.info(
      `after SIGKILL: ${summary.duplicatesSkipped} redelivered messages had their email recorded, ${found} found it written`,
    );
    expect(summary.duplicatesSkipped).toBeLessThanOrEqual(concurrency + prefetch);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  });

  it("the emulator restarts from its durable data mid-load: nothing lost", async () => {
    const dataDir = await mkdtemp(join(tmpdir(), "faults-data-"));
    let sqs = await startTestSqs({}, { dataDir });
    const port = sqs.stack.emulator.port;
    const ids = await produce(sqs, 600, 13);
    const client = createSqsClient({ endpoint: sqs.endpoint }, { maxAttempts: 2 });
    cleanups.push(async () => client.destroy()); // after the consumer's stop (cleanups run in reverse)
    const seen = new Set<string>();
    const consumer = consumerOn(sqs, {
      client,
      concurrency: 20,
      handler: async (m) => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        seen.add(idOf(m));
      },
    });
    let receiveErrors = 0;
    consumer.on("receive-error", () => {
      receiveErrors += 1;
    });
    await consumer.start();
    await waitFor(() => seen.size >= 100, "some messages processed");
    await sqs.close();
    expect(seen.size).toBeLessThan(ids.length); // the outage really is mid-load
    await waitFor(() => receiveErrors > 0, "the consumer to notice the outage");
    sqs = await startTestSqs({}, { dataDir, port });
    cleanups.push(() => sqs.close());
    await waitFor(() => seen.size === ids.length, "every message processed after the restart", 60_000);
    expect(new Set(seen)).toEqual(new Set(ids));
    await waitFor(
      async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 0,
      "the queue drained",
      60_000,
    );
  });

  it("a handler that throws for some messages: each retried, then dead-lettered after maxReceiveCount; counts exact", async () => {
    const sqs = await sqsWith({ maxReceiveCount: 3 });
    const ids = await produce(sqs, 60, 14);
    const poison = new Set(ids.filter((_, i) => i % 12 === 0)); // 5 of 60
    const attempts = new Map<string, number>();
    const consumer = consumerOn(sqs, {
      retryBaseDelaySeconds: 0,
      handler: async (m) => {
        const id = idOf(m);
        attempts.set(id, (attempts.get(id) ?? 0) + 1);
        if (poison.has(id)) throw new Error("mail server rejected the address");
      },
    });
    await consumer.start();
    await waitFor(
      async () => (await queueDepth(sqs.client, sqs.deadLetterQueueUrl)) === poison.size,
      "the poison in the DLQ",
    );
    await waitFor(() => consumer.stats.processed === ids.length - poison.size, "the rest processed");
    expect(consumer.stats.failed).toBe(poison.size * 3);
    for (const id of poison) expect(attempts.get(id)).toBe(3);
    for (const id of ids.filter((i) => !poison.has(i))) expect(attempts.get(id)).toBe(1);
    expect(new Set((await receiveAll(sqs.client, sqs.deadLetterQueueUrl)).map(idOf))).toEqual(poison);
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
  });

  it("a handler slower than the visibility timeout: the heartbeat keeps its messages invisible, no second delivery", async () => {
    const sqs = await sqsWith({ visibilityTimeoutSeconds: 2 });
    const ids = await produce(sqs, 15, 15);
    const calls = new Map<string, number>();
    const consumer = consumerOn(sqs, {
      concurrency: 20,
      handler: async (m) => {
        calls.set(idOf(m), (calls.get(idOf(m)) ?? 0) + 1);
        await new Promise((resolve) => setTimeout(resolve, 5_000)); // 2.5 × the visibility timeout
      },
    });
    await consumer.start();
    await waitFor(() => consumer.stats.processed === ids.length, "all processed", 20_000);
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(calls.size).toBe(ids.length);
    expect(consumer.stats.received).toBe(ids.length);
  });

  it("SQS throttles and fails with 5xx for a while: backoff, no crash, nothing lost", async () => {
    const sqs = await sqsWith({});
    const proxy = await startFaultProxy(sqs.endpoint);
    cleanups.push(() => proxy.close());
    const client = createSqsClient({ endpoint: proxy.endpoint });
    cleanups.push(async () => client.destroy());
    proxy.failEvery = 3; // a third of all requests fail, alternately throttled and 503
    // The producer through the faults: SDK retries and entry retries get everything in.
    const registrations = (await generateRegistrations(400, 16)).map((r) =>
      toOutgoing(r, () => new Date(), testDigestKey),
    );
    const report = await new Producer({ client, queueUrl: sqs.queueUrl, baseDelayMs: 20 }).send(
      registrations,
    );
    expect(report.sent).toBe(400);
    expect(report.failed).toEqual([]);

    const seen = new Set<string>();
    const consumer = consumerOn(sqs, {
      client,
      concurrency: 20,
      handler: async (m) => {
        seen.add(idOf(m));
      },
    });
    await consumer.start();
    await waitFor(() => seen.size >= 100, "work under faults");
    proxy.failEvery = 0;
    await waitFor(() => seen.size === 400, "every message processed", 60_000);
    await waitFor(
      async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 0,
      "every delete done",
      60_000,
    );
    expect(proxy.faults.throttled).toBeGreaterThan(5);
    expect(proxy.faults.unavailable).toBeGreaterThan(5);
    expect(new Set(seen)).toEqual(new Set(registrations.map((r) => r.id)));
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  });
});
