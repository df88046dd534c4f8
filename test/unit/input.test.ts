/**
 * Streaming input and input compatibility (the producer's half): lines are
 * read as they are needed, a BOM is not "not JSON", the producer holds a bounded number of
 * registrations whatever the input's size.
 */
import { PassThrough } from "node:stream";
import type { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { toOutgoing } from "../../src/contract/registration.js";
import {
  generatedItems,
  MAX_LINE_CHARS,
  ndjsonItems,
  parseNdjson,
  preparedStream,
  readLines,
} from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { testDigestKey } from "../support/digest-key.js";

const now = () => new Date("2026-11-28T12:00:00Z");

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of source) all.push(item);
  return all;
}

/** A client that accepts every entry at once and counts the requests. */
function acceptingClient() {
  const calls: number[] = [];
  const client = {
    send: async (command: SendMessageBatchCommand) => {
      const entries = command.input.Entries ?? [];
      calls.push(entries.length);
      await new Promise((resolve) => setImmediate(resolve));
      return {
        Successful: entries.map((e) => ({ Id: e.Id, MessageId: e.Id, MD5OfMessageBody: "" })),
        Failed: [],
      };
    },
  };
  return { client: client as unknown as SQSClient, calls };
}

describe("readLines", () => {
  it("strips a UTF-8 byte order mark from line 1 only, and handles CRLF", async () => {
    const text = '\uFEFF{"nome":"Ana","email":"ana@example.com"}\r\n\uFEFFx\n';
    const lines = await collect(readLines([Buffer.from(text)]));
    expect(lines).toEqual([
      { line: 1, text: '{"nome":"Ana","email":"ana@example.com"}' },
      { line: 2, text: "\uFEFFx" },
    ]);
    expect(parseNdjson(text).items).toHaveLength(1);
  });

  it("reassembles characters and lines split across chunks", async () => {
    const bytes = Buffer.from('{"nome":"João 😀","email":"j@example.com"}\n{"nome":"Zoë"}');
    const chunks = Array.from(bytes, (b) => Buffer.from([b])); // one byte at a time
    const items = await collect(ndjsonItems(chunks));
    expect(items[0]).toMatchObject({ line: 1, value: { nome: "João 😀" } });
    expect(items[1]).toMatchObject({ line: 2, reason: expect.stringContaining("email") });
  });

  it("reports an over-long line without holding it, and goes on", async () => {
    const long = "x".repeat(MAX_LINE_CHARS + 10);
    const chunks = [
      long.slice(0, 600_000),
      long.slice(600_000),
      '\n{"nome":"Ana","email":"a@example.com"}\n',
    ];
    const items = await collect(ndjsonItems(chunks));
    expect(items[0]).toEqual({ line: 1, reason: `line is longer than ${MAX_LINE_CHARS} characters` });
    expect(items[1]).toMatchObject({ line: 2, value: { nome: "Ana" } });
  });

  it("yields a line as soon as it is complete, while the stream stays open", async () => {
    const input = new PassThrough();
    const lines = readLines(input);
    input.write("first\nsec");
    expect(await lines.next()).toEqual({ done: false, value: { line: 1, text: "first" } });
    input.write("ond\n");
    expect(await lines.next()).toEqual({ done: false, value: { line: 2, text: "second" } });
    input.end();
    expect((await lines.next()).done).toBe(true);
  });
});

describe("Producer with a streamed source", () => {
  it("reads a large input lazily: at most concurrency × 10 (+1) registrations held at once", async () => {
    const { client, calls } = acceptingClient();
    const producer = new Producer({
      client,
      queueUrl: "https://sqs.eu-west-1.amazonaws.com/1/q",
      concurrency: 4,
    });
    const total = 50_000;
    let pulled = 0;
    let mostAhead = 0;
    function* source() {
      for (let i = 0; i < total; i++) {
        pulled += 1;
        mostAhead = Math.max(mostAhead, producer.buffered);
        yield toOutgoing({ nome: `Pessoa ${i}`, email: `p${i}@example.com` }, now, testDigestKey);
      }
    }
    const report = await producer.send(source());
    expect(report).toMatchObject({ sent: total, failed: [] });
    expect(pulled).toBe(total);
    expect(calls).toHaveLength(total / 10);
    expect(producer.peakBuffered).toBeLessThanOrEqual(4 * 10 + 1);
    expect(mostAhead).toBeLessThanOrEqual(4 * 10 + 1);
    expect(producer.buffered).toBe(0);
  });

  it("sends a large generated --count through the same bounded pipeline", async () => {
    const { client } = acceptingClient();
    const producer = new Producer({
      client,
      queueUrl: "https://sqs.eu-west-1.amazonaws.com/1/q",
      concurrency: 8,
    });
    const invalid: unknown[] = [];
    const report = await producer.send(
      preparedStream(generatedItems(20_000, 3), 262_144, testDigestKey, (p) => invalid.push(p)),
    );
    expect(report).toMatchObject({ sent: 20_000, failed: [] });
    expect(invalid).toEqual([]);
    expect(producer.peakBuffered).toBeLessThanOrEqual(8 * 10 + 1);
  });

  it("starts sending before the input ends (a stdin that stays open)", async () => {
    const { client, calls } = acceptingClient();
    const input = new PassThrough();
    let sent = 0;
    const sending = new Producer({ client, queueUrl: "https://sqs.eu-west-1.amazonaws.com/1/q" }).send(
      (async function* () {
        for await (const item of ndjsonItems(input)) {
          if (item && "value" in item) yield toOutgoing(item.value, now, testDigestKey);
        }
      })(),
      (progress) => {
        sent = progress.sent;
      },
    );
    for (let i = 0; i < 10; i++)
      input.write(`${JSON.stringify({ nome: `P ${i}`, email: `p${i}@example.com` })}\n`);
    await expect.poll(() => sent, { timeout: 5_000 }).toBe(10);
    expect(calls).toEqual([10]);
    input.end(`${JSON.stringify({ nome: "Last", email: "last@example.com" })}\n`);
    expect(await sending).toMatchObject({ sent: 11, failed: [] });
  });

  it("keeps line numbers of numbered items in failure reports", async () => {
    const client = {
      send: async (command: SendMessageBatchCommand) => ({
        Successful: [],
        Failed: (command.input.Entries ?? []).map((e) => ({ Id: e.Id, Code: "Bad", SenderFault: true })),
      }),
    } as unknown as SQSClient;
    const registration = toOutgoing({ nome: "Ana", email: "ana@example.com" }, now, testDigestKey);
    const report = await new Producer({ client, queueUrl: "https://x.example/1/q" }).send([
      { registration, index: 7 },
      { registration, index: 42 },
    ]);
    expect(report.failed.map((f) => f.index)).toEqual([7, 42]);
  });
});
