/**
 * A stop ends within its deadline whatever the handlers do, acts on
 * nothing after it, hands prefetched messages back first, and loses nothing; the signal reaches
 * the consumer however the README tells people to run it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { localOutputsPath, outboxDir, projectRoot } from "../../src/config/paths.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { writeOutputs } from "../../src/local/stack.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { cleanEnv, startCli } from "../support/cli.js";
import { runConsumeApp } from "../support/consume-app.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, receiveAll, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";
import { journal } from "../support/outbox.js";

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const idOf = (m: Message) => JSON.parse(m.Body ?? "{}").id as string;

async function sqsWith(settings: Parameters<typeof startTestSqs>[0]) {
  const sqs = await startTestSqs(settings);
  cleanups.push(() => sqs.close());
  return sqs;
}

async function produce(sqs: TestSqs, count: number, seed: number): Promise<string[]> {
  const registrations = (await generateRegistrations(count, seed)).map((r) =>
    toOutgoing(r, () => new Date(), testDigestKey),
  );
  const report = await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations);
  expect(report.sent).toBe(count);
  return registrations.map((r) => r.id);
}

async function stateFor(sqs: TestSqs): Promise<string> {
  const stateDir = await mkdtemp(join(tmpdir(), "shutdown-"));
  await writeOutputs(localOutputsPath(stateDir), sqs.stack.outputs);
  return stateDir;
}

async function notVisible(sqs: TestSqs): Promise<number> {
  return (await queueDepth(sqs.client, sqs.queueUrl)) - (await visible(sqs));
}

async function visible(sqs: TestSqs): Promise<number> {
  const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
  const { Attributes = {} } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: sqs.queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages"],
    }),
  );
  return Number(Attributes.ApproximateNumberOfMessages);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Every message of the queue, waiting for the invisible ones to come back. */
async function drainIds(sqs: TestSqs, expected: number): Promise<string[]> {
  const ids: string[] = [];
  await waitFor(
    async () => {
      ids.push(...(await receiveAll(sqs.client, sqs.queueUrl)).map(idOf));
      return ids.length >= expected;
    },
    `${expected} messages back in the queue`,
    30_000,
  );
  return ids;
}

describe("shutdown", () => {
  it("handlers slower than the deadline: stop() resolves within deadline + 1 s, hands the prefetched back, ignores late handlers", async () => {
    const sqs = await sqsWith({ visibilityTimeoutSeconds: 3 });
    const ids = await produce(sqs, 30, 41);
    let deletes = 0;
    sqs.client.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === "DeleteMessageBatchCommand") deletes += 1;
        return next(args);
      },
      { step: "initialize", name: "countDeletes" },
    );
    let finishHandlers!: () => void;
    const handlersMayFinish = new Promise<void>((resolve) => {
      finishHandlers = resolve;
    });
    const signals: AbortSignal[] = [];
    const returned: Promise<void>[] = [];
    const deadlineMs = 1_500;
    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      concurrency: 5,
      prefetch: 5,
      shutdownTimeoutMs: deadlineMs,
      // A handler that ignores its signal and finishes long after the deadline.
      handler: (_message, { signal }) => {
        signals.push(signal);
        const done = handlersMayFinish;
        returned.push(done);
        return done;
      },
    });
    cleanups.push(() => consumer.stop());
    await consumer.start();
    await waitFor(() => signals.length === 5 && consumer.inFlight === 10, "5 running and 5 prefetched");

    const stopping = performance.now();
    const stats = await consumer.stop();
    const seconds = (performance.now() - stopping) / 1000;
    console.info(`stop() with handlers ignoring the deadline (${deadlineMs} ms): ${seconds.toFixed(3)} s`);
    expect(seconds).toBeLessThan(deadlineMs / 1000 + 1);
    expect(stats).toMatchObject({ abandoned: 5, released: 5, processed: 0 });
    expect(signals.every((s) => s.aborted)).toBe(true);

    // The abandoned handlers now succeed: the consumer must not act on it (it has stopped).
    finishHandlers();
    await Promise.all(returned);
    // Nothing lost: all 30 come back (the 5 abandoned after their visibility timeout).
    const back = await drainIds(sqs, ids.length);
    expect(new Set(back)).toEqual(new Set(ids));
    expect(deletes).toBe(0);
  });

  it("on the emulator with a data folder (as npm run local runs it), messages handed back at stop come back", async () => {
    // fauxqs 2.4.1 persisted: a visibility change to 0 fails with a 500 after taking the message
    // out of flight, stranding it until a restart; the consumer hands back with 1 s instead.
    const dataDir = await mkdtemp(join(tmpdir(), "shutdown-data-"));
    const sqs = await startTestSqs({ visibilityTimeoutSeconds: 3 }, { dataDir });
    cleanups.push(() => sqs.close());
    const ids = await produce(sqs, 30, 44);
    let started = 0;
    const consumer = new Consumer({
      client: sqs.client,
      queueUrl: sqs.queueUrl,
      deadLetterQueueUrl: sqs.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      concurrency: 5,
      prefetch: 5,
      shutdownTimeoutMs: 0,
      handler: (_message, { signal }) => {
        started += 1;
        return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
      },
    });
    cleanups.push(() => consumer.stop());
    await consumer.start();
    await waitFor(() => started === 5 && consumer.inFlight === 10, "5 running and 5 prefetched");
    expect(await consumer.stop()).toMatchObject({ released: 5, abandoned: 5 });
    expect(new Set(await drainIds(sqs, ids.length))).toEqual(new Set(ids));
  });

  it("S6: consume CLI, sends slower than the deadline: SIGTERM → exit 0 within deadline + 1 s, no email after it, nothing lost", async () => {
    const sqs = await sqsWith({ visibilityTimeoutSeconds: 3 });
    const ids = await produce(sqs, 20, 42);
    const stateDir = await stateFor(sqs);
    const child = startCli("consume", [
      "--state-dir",
      stateDir,
      "--concurrency",
      "5",
      "--send-latency",
      "40000",
      // Longer than the run before SIGTERM; its claims lapse 5 s later (lease = timeout + margin).
      "--send-timeout",
      "4000",
      "--shutdown-timeout",
      "2",
      "--wait-time",
      "1",
      "--json",
    ]);
    let stdout = "";
    child.stdout?.on("data", (chunk) => {
      stdout += chunk;
    });
    const exited = exitOf(child);
    await waitFor(async () => (await notVisible(sqs)) >= 10, "a batch received");
    const signalled = performance.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    const seconds = (performance.now() - signalled) / 1000;
    console.info(
      `consume --send-latency 40000 --shutdown-timeout 2: exited ${seconds.toFixed(3)} s after SIGTERM`,
    );
    expect(seconds).toBeLessThan(3);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ processed: 0, abandoned: 5, emailsSent: 0 });
    expect(await journal(outboxDir(stateDir))).toEqual([]); // the process is gone: nothing written after "stopped"

    // A new consumer sends every email exactly once: cut-off claims lapsed, nothing was released.
    const second = await runConsumeApp([
      "--state-dir",
      stateDir,
      "--until-empty",
      "--wait-time",
      "10",
      "--json",
    ]);
    expect(second.code, second.stderr).toBe(0);
    const sent = await journal(outboxDir(stateDir));
    expect(sent.length).toBe(ids.length);
    expect(new Set(sent)).toEqual(new Set(ids));
    expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
    expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
  });

  it.each([
    ["SIGTERM to npm's own pid (a supervisor)", false],
    ["SIGINT to the process group (Ctrl-C), which npm forwards a second time", true],
  ])("npm run consume, %s: the consumer stops and exits 0", async (_, group) => {
    const sqs = await sqsWith({});
    await produce(sqs, 10, 43);
    const stateDir = await stateFor(sqs);
    // npm 11 forwards SIGTERM to its child; the script execs node so that the child is the
    // consumer itself, not a shell that dies and leaves the consumer running.
    const npm = spawn("npm", ["run", "--silent", "consume", "--", "--state-dir", stateDir, "--json"], {
      cwd: projectRoot,
      env: cleanEnv({ LOG_LEVEL: "info" }),
      stdio: ["ignore", "pipe", "pipe"],
      detached: group, // its own process group, as a terminal's foreground job
    });
    onTestFinished(() => {
      if (npm.exitCode === null && npm.signalCode === null) npm.kill("SIGKILL");
    });
    let stdout = "";
    let stderr = "";
    npm.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    npm.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = exitOf(npm);
    await waitFor(
      async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 0,
      "the queue drained",
      30_000,
    );
    if (group && npm.pid !== undefined) process.kill(-npm.pid, "SIGINT");
    else npm.kill("SIGTERM");
    expect(await exited, stderr).toBe(0);
    // The summary is printed by the consumer on its way out: it got the signal and stopped.
    expect(JSON.parse(stdout)).toMatchObject({ processed: 10 });
  });
});
