/**
 * Observability never changes an outcome: `npm run consume` with tracing turned on and its OTLP
 * collector unreachable (a closed port on 127.0.0.1) drains the queue, prints its normal summary
 * and exits 0; the failed export is one warning line on stderr, not a stack trace and exit 1.
 * Counted from the queue and the outbox, not from the summary alone.
 */
import { mkdtemp, readdir } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { outboxDir } from "../../src/config/paths.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { writeOutputs } from "../../src/local/stack.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, startTestSqs, type TestSqs } from "../support/local-sqs.js";

/** A port nothing listens on: bound by the kernel's choice, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A collector that accepts connections and never answers: the flush must still end. */
async function silentCollector(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<import("node:net").Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let sqs: TestSqs;
let stateDir: string;
beforeAll(async () => {
  sqs = await startTestSqs();
  stateDir = await mkdtemp(join(tmpdir(), "tracing-unreachable-"));
  await writeOutputs(join(stateDir, "outputs.json"), sqs.stack.outputs);
});
afterAll(() => sqs?.close());

describe("consume with an unreachable OTLP collector", () => {
  let run = 0;
  it.each([
    // A closed port: ECONNREFUSED, which the exporter retries until its own timeout.
    ["a closed port", async () => ({ port: await closedPort(), close: async () => {} })],
    // A collector that never answers, with the exporter's own timeout (10 s) left as it is: the
    // final flush is cut at TRACING_SHUTDOWN_TIMEOUT_MS.
    ["a collector that never answers", silentCollector],
  ] as const)(
    "%s: exits 0 with its normal summary and exactly one warning line",
    async (_, collector) => {
      run += 1;
      const ids = [`reg_otlp_${run}_1`, `reg_otlp_${run}_2`];
      for (const id of ids) {
        const body = toOutgoing(
          { id, nome: "Olga Trace", email: `${id}@example.com` },
          () => new Date(),
          testDigestKey,
        );
        await sqs.client.send(
          new SendMessageCommand({ QueueUrl: sqs.queueUrl, MessageBody: JSON.stringify(body) }),
        );
      }
      const server = await collector();
      try {
        const result = await runCli("consume", ["--until-empty", "--json", "--state-dir", stateDir], {
          env: cleanEnv({
            REGISTRATION_DIGEST_KEY: "test-digest-key-0123456789abcdef0123456789",
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.port}`,
          }),
        });
        expect(result.code, result.stderr).toBe(0);
        expect(JSON.parse(result.stdout)).toMatchObject({
          processed: 2,
          emailsSent: 2,
          deadLettered: 0,
          failed: 0,
        });
        const lines = result.stderr.split("\n").filter((line) => line.trim() !== "");
        expect(lines, result.stderr).toHaveLength(1);
        expect(JSON.parse(lines[0] ?? "")).toMatchObject({
          level: 40, // pino's warn
          msg: expect.stringContaining("OTLP collector"),
        });
        expect(lines[0]).not.toMatch(/\bat .*:\d+:\d+/); // no stack trace
        // Counted at the other side: both emails in the outbox, the queues empty.
        const emails = (await readdir(outboxDir(stateDir))).filter((f) => f.endsWith(".eml"));
        expect(emails).toEqual(expect.arrayContaining(ids.map((id) => `${id}.eml`)));
        expect(await queueDepth(sqs.client, sqs.queueUrl)).toBe(0);
        expect(await queueDepth(sqs.client, sqs.deadLetterQueueUrl)).toBe(0);
      } finally {
        await server.close();
      }
    },
    60_000,
  );
});
