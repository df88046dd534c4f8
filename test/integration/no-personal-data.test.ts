/**
 * Every value in a body is untrusted and personal: the failure paths must say what was wrong,
 * never quote it. Against the real emulator, this captures every log line (pino to a stream) and
 * every dead-letter attribute the failure paths produce, and scans them for the addresses and
 * names the bodies carried, and for anything shaped like an address.
 */
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { OutboxMailer } from "../../src/consumer/mail/outbox.js";
import { registrationHandler } from "../../src/consumer/registration-handler.js";
import { Consumer } from "../../src/consumer/runtime/state-machine.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import { DEAD_LETTER_ATTRIBUTES } from "../../src/contract/dead-letter.js";
import { capturedLogger } from "../support/captured-logger.js";
import { testDigestKey } from "../support/digest-key.js";
import { receiveAll, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";

let sqs: TestSqs | undefined;
let consumer: Consumer | undefined;
afterEach(async () => {
  await consumer?.stop();
  await sqs?.close();
});

/** Each failure path, with the reason it must be dead-lettered under. */
const poison: [reason: string, body: string][] = [
  ["not-json", "maria.silva@example.com"],
  ["not-json", '{"nome":"Maria Silva","email":"maria.silva@example.com",'],
  ["not-json", "Maria Silva <maria.silva@example.com>"],
  ["wrong-shape", JSON.stringify(["Maria Silva", "maria.silva@example.com"])],
  ["wrong-shape", JSON.stringify({ nome: 42, email: "joao.souza@example.com" })],
  ["wrong-shape", JSON.stringify({ nome: "Joao Souza", email: "joao.souza@example" })],
  [
    "wrong-shape",
    JSON.stringify({ nome: "Carla Dias", email: "carla.dias@example.com", id: "../carla.dias" }),
  ],
  ["wrong-shape", JSON.stringify({ nome: "Carla Dias", email: "carla.dias@example.com", id: "a\r\nb" })],
  ["wrong-shape", '{"nome":"Carla Dias","email":"carla.dias@example.com","id":1.5}'],
  [
    "wrong-shape",
    JSON.stringify({ nome: "Pedro\r\nBcc: pedro.alves@example.com", email: "pedro.alves@example.com" }),
  ],
  ["wrong-shape", JSON.stringify({ nome: "Pedro\u0000Alves", email: "pedro.alves@example.com" })],
  ["wrong-shape", JSON.stringify({ nome: "Rita \u202Emoc.elpmaxe@atir", email: "rita.melo@example.com" })],
  [
    "wrong-shape",
    JSON.stringify({ nome: "Lucas Rocha", email: "lucas.rocha@example.com\r\nBcc: x@evil.example" }),
  ],
  ["wrong-shape", JSON.stringify({ nome: "José Pereira", email: "josé.pereira@exemplo.com.br" })],
  [
    "wrong-shape",
    JSON.stringify({ nome: "Rita Melo", email: "rita.melo@example.com", registeredAt: "rita" }),
  ],
];
const conflicting = { nome: "Bruno Reis", email: "bruno.reis@example.com", id: "dup-1" };

const personal = [
  /maria|silva|joao|souza|carla|dias|pedro|alves|rita|melo|lucas|rocha|jos[eé]|pereira|bruno|reis|atir/i,
  /evil\.example/i,
];
/** Anything shaped like an address, except the masked form `a***@example.com`. */
const address = /[^\s"'<>@\\]+@[a-z0-9.-]+\.[a-z]{2,}/gi;

describe("failure paths leak no personal data", () => {
  it("logs and dead-letter attributes say what was wrong, never what the body contained", async () => {
    sqs = await startTestSqs();
    const s = sqs;
    const { logger, lines } = capturedLogger("trace");
    const root = await mkdtemp(join(tmpdir(), "pii-"));
    const store = new SqliteSentEmailStore(":memory:", { leaseMs: 30_000, retentionMs: 3_600_000 });
    const counts = { sent: 0, duplicates: 0, conflicts: 0 };
    consumer = new Consumer({
      client: s.client,
      queueUrl: s.queueUrl,
      deadLetterQueueUrl: s.deadLetterQueueUrl,
      waitTimeSeconds: 1,
      concurrency: 1,
      logger,
      handler: registrationHandler(new OutboxMailer({ outboxDir: join(root, "outbox"), logger }), {
        digestKey: testDigestKey,
        store,
        counts,
        logger,
      }),
    });
    await consumer.start();
    const send = (body: string) =>
      s.client.send(new SendMessageCommand({ QueueUrl: s.queueUrl, MessageBody: body }));
    await send(JSON.stringify({ nome: "Ana Costa", email: "ana.costa@example.com", id: "dup-1" }));
    await waitFor(() => counts.sent === 1, "the first registration under dup-1 sent");
    await send(JSON.stringify(conflicting));
    for (const [, body] of poison) await send(body);
    const total = poison.length + 1;
    await waitFor(() => consumer?.stats.deadLettered === total, `${total} messages dead-lettered`);
    await consumer.stop();
    await store.close();

    const dead = await receiveAll(s.client, s.deadLetterQueueUrl);
    expect(dead).toHaveLength(total);
    const reasons = Object.fromEntries(
      dead.map((m) => [m.Body ?? "", m.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue]),
    );
    for (const [reason, body] of poison) expect(reasons[body], body).toBe(reason);
    expect(reasons[JSON.stringify(conflicting)]).toBe("id-conflict");
    expect(counts).toEqual({ sent: 1, duplicates: 0, conflicts: 1 });

    const attributes = dead.flatMap((m) =>
      Object.entries(m.MessageAttributes ?? {}).map(([name, value]) => `${name}=${value.StringValue}`),
    );
    const scanned = [...lines, ...attributes];
    expect(scanned.length).toBeGreaterThan(total * 2);
    for (const text of scanned) {
      for (const pattern of personal) expect(text, text).not.toMatch(pattern);
      const shaped = [...text.matchAll(address)].map(([match]) => match).filter((m) => !/^.\*\*\*@/.test(m));
      expect(shaped, text).toEqual([]);
    }
    // What was wrong is still said: the byte, the field and the rule.
    expect(attributes.join("\n")).toMatch(/not JSON: syntax error at byte \d+, length \d+ bytes/);
    expect(attributes.join("\n")).toContain("id must be 1–128 characters");
    expect(attributes.join("\n")).toContain("nome must not contain control characters");
    expect(attributes.join("\n")).toContain(
      "registration id dup-1 is already used by a different registration",
    );
    // The bad ids reached no file name: one email, in the outbox, nothing beside it.
    expect(await readdir(root)).toEqual(["outbox"]);
    expect((await readdir(join(root, "outbox"))).sort()).toEqual(["dup-1.eml", "sent.log"]);
  });
});
