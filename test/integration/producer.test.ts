import type { SendMessageBatchCommandInput, SendMessageBatchCommandOutput } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseRegistration, toOutgoing } from "../../src/contract/registration.js";
import { bodyOf, Producer } from "../../src/producer/producer.js";
import { createSqsClient, explainSqsError } from "../../src/sqs/client.js";
import { countRequests } from "../../src/sqs/request-counter.js";
import { testDigestKey } from "../support/digest-key.js";
import { purge, receiveAll, startTestSqs, type TestSqs } from "../support/local-sqs.js";

const now = () => new Date("2026-11-28T12:00:00Z");
const registration = (nome: string, email: string) => toOutgoing({ nome, email }, now, testDigestKey);

let sqs: TestSqs;
beforeAll(async () => {
  sqs = await startTestSqs();
});
afterAll(() => sqs.close());
beforeEach(() => purge(sqs.client, sqs.queueUrl));

describe("producer against a real fauxqs", () => {
  it("round-trips non-ASCII names in the original wire format, 10 per request", async () => {
    // Within the Basic Multilingual Plane: fauxqs 2.4.1 rejects characters above U+FFFF.
    const names = [
      "João Conceição",
      "Zoë Ørsted",
      "Łukasz Żółć",
      "Мария Иванова",
      "佐藤 花子",
      "Nguyễn Văn Ánh",
    ];
    const registrations = Array.from({ length: 25 }, (_, i) =>
      registration(names[i % names.length] ?? "", `pessoa${i}@example.com`),
    );
    const client = createSqsClient(sqs.stack.outputs);
    const counts = countRequests(client);
    const report = await new Producer({ client, queueUrl: sqs.queueUrl }).send(registrations);
    expect(report).toEqual({ sent: 25, failed: [], requests: 3 });
    expect(counts).toEqual({ SendMessageBatch: 3 });

    const bodies = (await receiveAll(sqs.client, sqs.queueUrl)).map((m) => JSON.parse(m.Body ?? ""));
    expect(bodies).toHaveLength(25);
    expect(new Set(bodies.map((b) => `${b.nome}|${b.email}`))).toEqual(
      new Set(registrations.map((r) => `${r.nome}|${r.email}`)),
    );
    // What the Python consumer reads: body["nome"], body["email"].
    for (const body of bodies) expect(parseRegistration(JSON.stringify(body)).nome).toBe(body.nome);
    client.destroy();
  });

  it("retries entries SQS failed on its side, and each arrives exactly once", async () => {
    const client = createSqsClient(sqs.stack.outputs);
    // Fault injection: the first two requests lose their last three entries before reaching
    // SQS, and report them failed the way SQS does (SenderFault false).
    let faults = 2;
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as SendMessageBatchCommandInput;
        if (faults-- <= 0 || !input.Entries) return next(args);
        const dropped = input.Entries.slice(-3);
        input.Entries = input.Entries.slice(0, -3);
        const result = await next(args);
        const output = result.output as SendMessageBatchCommandOutput;
        output.Failed = [
          ...(output.Failed ?? []),
          ...dropped.map((e) => ({
            Id: e.Id,
            Code: "InternalError",
            SenderFault: false,
            Message: "try again",
          })),
        ];
        return result;
      },
      { step: "initialize", name: "dropEntries" },
    );
    const registrations = Array.from({ length: 20 }, (_, i) =>
      registration(`Pessoa ${i}`, `p${i}@example.com`),
    );
    const report = await new Producer({ client, queueUrl: sqs.queueUrl, baseDelayMs: 1 }).send(registrations);
    expect(report.sent).toBe(20);
    expect(report.failed).toEqual([]);
    expect(report.requests).toBeGreaterThan(2);
    const ids = (await receiveAll(sqs.client, sqs.queueUrl)).map((m) => JSON.parse(m.Body ?? "").id);
    expect(ids.sort()).toEqual(registrations.map((r) => r.id).sort());
    client.destroy();
  });

  it("reports by index what SQS refused and still sends the rest of the batch", async () => {
    const client = createSqsClient(sqs.stack.outputs);
    // Fault injection: one body goes out with a raw character above U+FFFF, which fauxqs refuses
    // (the producer itself always escapes them).
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as SendMessageBatchCommandInput;
        for (const entry of input.Entries ?? []) {
          if (entry.MessageBody?.includes("Recusado"))
            entry.MessageBody = entry.MessageBody.replace("Recusado", "😀");
        }
        return next(args);
      },
      { step: "initialize", name: "rawEmoji" },
    );
    const registrations = [
      registration("Ana", "ana@example.com"),
      registration("Recusado", "recusado@example.com"),
      registration("Bia", "bia@example.com"),
    ];
    const report = await new Producer({ client, queueUrl: sqs.queueUrl }).send(registrations);
    expect(report.sent).toBe(2);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]).toMatchObject({ index: 1, id: registrations[1]?.id });
    expect(report.failed[0]?.code).toMatch(/InvalidMessageContents/);
    expect(
      (await receiveAll(sqs.client, sqs.queueUrl)).map((m) => JSON.parse(m.Body ?? "").nome).sort(),
    ).toEqual(["Ana", "Bia"]);
    client.destroy();
  });

  it("sends names above U+FFFF (emoji) as \\u escapes, as Python's json.dumps does, and they round-trip", async () => {
    const names = ["Emoji 😀 Silva", "𝒜na 🇧🇷", "Zoë 👩🏽‍💻"];
    const registrations = names.map((nome, i) => registration(nome, `emoji${i}@example.com`));
    const report = await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations);
    expect(report).toMatchObject({ sent: 3, failed: [] });
    const messages = await receiveAll(sqs.client, sqs.queueUrl);
    for (const message of messages) {
      expect(message.Body).toMatch(/\\ud83d|\\ud835/); // a surrogate pair, escaped
      expect(message.Body).not.toMatch(/[\u{10000}-\u{10FFFF}]/u);
    }
    expect(messages.map((m) => parseRegistration(m.Body ?? "").nome).sort()).toEqual([...names].sort());
    // Accented letters inside the BMP stay UTF-8 (no size cost against the 256 KiB limit).
    expect(bodyOf(registration("Zoë", "z@example.com"))).toContain("Zoë");
    expect(bodyOf(registration("x\uFFFEy", "z@example.com"))).toContain("x\\ufffey");
  });

  it("stops at an unreachable endpoint, reports what was in flight, reads no further, says what to run", async () => {
    const closed = `http://127.0.0.1:9`; // discard port: nothing listens here
    const client = createSqsClient({ endpoint: closed }, { maxAttempts: 1 });
    const registrations = Array.from({ length: 30 }, (_, i) => registration(`P ${i}`, `p${i}@example.com`));
    const report = await new Producer({ client, queueUrl: `${closed}/000000000000/q`, concurrency: 1 }).send(
      registrations,
    );
    expect(report.sent).toBe(0);
    // The first request failed for good: its 10 entries are reported; the input is not read on.
    expect(report.failed.map((f) => f.index)).toEqual(registrations.slice(0, 10).map((_, i) => i));
    expect(report.aborted).toBeDefined();
    const explained = explainSqsError(report.aborted, `${closed}/000000000000/q`, "send messages", {
      endpoint: closed,
      source: "local",
    });
    expect(explained?.message).toContain("Cannot reach the local SQS at http://127.0.0.1:9 (ECONNREFUSED)");
    expect(explained?.message).toContain("npm run local");
    client.destroy();
  });
});
