/**
 * A fault of the consumer's own environment (its outbox disk full) pauses the
 * consumer instead of spending the messages' retries; it resumes by itself when the fault ends.
 * Counted against a real emulator: nothing dead-lettered, nothing lost, no message received more
 * than once past the delivery that met the fault.
 */
import { once } from "node:events";
import { appendFileSync, readdirSync, rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { EnvironmentFaultError } from "../../src/consumer/errors.js";
import { OutboxMailer } from "../../src/consumer/mail/outbox.js";
import { registrationHandler } from "../../src/consumer/registration-handler.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { startHealthServer } from "../../src/observability/health-server.js";
import { consumerMetrics } from "../../src/observability/metrics.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, startTestSqs, waitFor } from "../support/local-sqs.js";
import { contractTiming } from "../support/store-contract.js";
import { smallTmpfs } from "../support/tmpfs.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const idOf = (m: Message) => JSON.parse(m.Body ?? "{}").id as string;

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

describe("environment faults", () => {
  it("outbox disk full for a while: pauses, not ready but alive, resumes by itself; nothing dead-lettered or lost", async () => {
    // maxReceiveCount 3 and no backoff: spending retries on the fault would dead-letter in seconds.
    const sqs = await startTestSqs({ maxReceiveCount: 3, visibilityTimeoutSeconds: 10 });
    cleanups.push(() => sqs.close());
    const registrations = (await generateRegistrations(300, 31)).map((r) =>
      toOutgoing(r, () => new Date(), testDigestKey),
    );
    await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations);

    let diskFull = false;
    const done = new Map<string, number>(); // id → receive count of the delivery that succeeded
    const seenDuringFault = new Set<string>();
    let faultCalls = 0;
    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      concurrency: 10,
      retryBaseDelaySeconds: 0,
      breaker: { firstProbeMs: 100, maxProbeMs: 400 },
      handler: async (message, { receiveCount }) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (diskFull) {
          seenDuringFault.add(idOf(message));
          faultCalls += 1;
          const cause = Object.assign(new Error("ENOSPC: no space left on device, write"), {
            code: "ENOSPC",
          });
          throw new EnvironmentFaultError("outbox", "the outbox disk is full", { cause });
        }
        done.set(idOf(message), receiveCount);
      },
    });
    cleanups.push(() => consumer.stop());
    const { registry } = consumerMetrics(consumer, sqs.client);
    const health = await startHealthServer(consumer, { port: 0, registry });
    cleanups.push(() => health.close());

    await consumer.start();
    await waitFor(() => done.size >= 50, "some messages processed");
    const paused = once(consumer, "paused");
    const faultStarted = performance.now();
    diskFull = true;
    const [reason] = await within(paused, 10_000, "the consumer to pause");
    const secondsToPause = (performance.now() - faultStarted) / 1000;
    expect(reason).toBe("outbox");

    // Alive (an orchestrator must not restart it), not ready, and saying why.
    expect((await fetch(`${health.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${health.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, reason: "paused:outbox" });
    const metrics = await registry.metrics();
    expect(metrics).toContain('consumer_paused{reason="outbox"} 1');
    expect(metrics).toContain("consumer_ready 0");

    // The fault lasts through several probes, each on the one held message.
    await waitFor(() => faultCalls >= 15, "several failed probes");
    const resumed = once(consumer, "resumed");
    const faultEnded = performance.now();
    diskFull = false;
    await within(resumed, 30_000, "the consumer to resume");
    const secondsToResume = (performance.now() - faultEnded) / 1000;
    console.info(
      `environment fault: paused ${secondsToPause.toFixed(3)} s after it began, resumed ${secondsToResume.toFixed(3)} s after it ended (probes 0.1–0.4 s)`,
    );
    expect(secondsToResume).toBeLessThan(3); // the longest probe wait (0.4 s), a handler run, slack for load
    expect((await fetch(`${health.url}/readyz`)).status).toBe(200);

    await waitFor(() => done.size === registrations.length, "every message processed", 60_000);
    await waitFor(async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 0, "the queue drained");
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
    expect(consumer.stats.failed).toBe(0);
    expect(consumer.stats.deadLettered).toBe(0);
    // Only the messages held when the fault began (handlers + buffer) met it, not the backlog.
    expect(seenDuringFault.size).toBeLessThanOrEqual(20);
    expect(Math.max(...done.values())).toBeLessThanOrEqual(2);
    expect(new Set(done.keys())).toEqual(new Set(registrations.map((r) => r.id)));
  });

  it("a real full disk under the outbox (tmpfs): pauses, resumes once space is freed; one email each, nothing dead-lettered, no temp files", async (context) => {
    const disk = smallTmpfs("1m"); // 120 emails take 4 KiB blocks each: room for all once freed
    if (!disk) return context.skip(); // mounting needs root
    cleanups.push(async () => disk.unmount());
    const sqs = await startTestSqs({ maxReceiveCount: 3, visibilityTimeoutSeconds: 10 });
    cleanups.push(() => sqs.close());
    const registrations = (await generateRegistrations(120, 37)).map((r) =>
      toOutgoing(r, () => new Date(), testDigestKey),
    );
    await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations);
    const store = new SqliteSentEmailStore(
      join(await mkdtemp(join(tmpdir(), "full-disk-")), "sent.sqlite"),
      // A short lease: a send whose journal line met the full disk after its email was written
      // leaves its claim to lapse (the email may be out), and its redelivery waits for that.
      { ...contractTiming, leaseMs: 2_000 },
    );
    cleanups.push(() => store.close());
    const outbox = join(disk.dir, "outbox");
    const counts = { sent: 0, duplicates: 0, conflicts: 0 };
    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      concurrency: 5,
      retryBaseDelaySeconds: 0,
      breaker: { firstProbeMs: 100, maxProbeMs: 400 },
      handler: registrationHandler(new OutboxMailer({ outboxDir: outbox, latencyMs: 5 }), {
        digestKey: testDigestKey,
        store,
        counts,
      }),
    });
    cleanups.push(() => consumer.stop());
    await consumer.start();
    await waitFor(() => counts.sent >= 20, "some emails written");

    // Fill the disk for real: every later write of an email meets ENOSPC.
    const filler = join(disk.dir, "filler");
    const paused = once(consumer, "paused");
    const faultStarted = performance.now();
    try {
      for (;;) appendFileSync(filler, Buffer.alloc(4096));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
    }
    const [reason] = await within(paused, 10_000, "the consumer to pause on the full disk");
    expect(reason).toBe("outbox");
    const secondsToPause = (performance.now() - faultStarted) / 1000;
    const faultsBefore = consumer.stats.environmentFaults;
    await waitFor(() => consumer.stats.environmentFaults >= faultsBefore + 3, "a few failed probes");

    const resumed = once(consumer, "resumed");
    const faultEnded = performance.now();
    rmSync(filler);
    await within(resumed, 30_000, "the consumer to resume once space is freed");
    console.info(
      `full disk (tmpfs): paused ${secondsToPause.toFixed(3)} s after it filled, resumed ${((performance.now() - faultEnded) / 1000).toFixed(3)} s after space was freed`,
    );

    await waitFor(() => counts.sent === registrations.length, "every email written", 60_000);
    await waitFor(async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 0, "the queue drained");
    // Counted from the queues and the outbox, not from the consumer's own statistics.
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
    const files = readdirSync(outbox);
    expect(files.filter((f) => f.endsWith(".eml")).sort()).toEqual(
      registrations.map((r) => `${r.id}.eml`).sort(),
    );
    expect(files.filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(consumer.stats.deadLettered).toBe(0);
  }, 90_000);
});
