/** `dlq list|show|purge`: what is printed about a dead-lettered message, and the purge's guards. */
import { describe, expect, it } from "vitest";
import { DEAD_LETTER_ATTRIBUTES } from "../../src/contract/dead-letter.js";
import { ConfigurationError } from "../../src/errors.js";
import { purgeDeadLetters, redact, summarize, summarizeBody } from "../../src/ops/dlq.js";
import { PurgeCancelledError, PurgeNotConfirmedError } from "../../src/ops/errors.js";
import { stubSqs } from "../support/stub-sqs.js";

const queues = {
  queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations",
  deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations-dlq",
};

describe("dlq: what is printed about a message", () => {
  it("masks addresses and elides quoted fragments in error texts", () => {
    expect(redact(`Unexpected token 'h', "hello maria@example.com" is not valid JSON`)).toBe(
      `Unexpected token 'h', "…" is not valid JSON`,
    );
    expect(redact("mailbox maria.silva@example.com unavailable")).toBe(
      "mailbox m***@example.com unavailable",
    );
  });

  it("summarizes a body by its registration fields only", () => {
    const body = JSON.stringify({
      nome: "Maria Silva",
      email: "maria@example.com",
      id: "reg_1",
      bio: "secret",
    });
    expect(summarizeBody(body)).toEqual({
      kind: "registration",
      nomeInitial: "M.",
      email: "m***@example.com",
      registrationId: "reg_1",
    });
    expect(summarizeBody("hello maria@example.com")).toEqual({
      kind: "not-json",
      nomeInitial: null,
      email: null,
      registrationId: null,
    });
    expect(summarizeBody(JSON.stringify({ nome: "Ana", email: 3 }))).toMatchObject({
      kind: "json",
      nomeInitial: "A.",
    });
    // No id in the body: the consumer's default id is keyed with the deployment's digest key,
    // which an operator's tool does not hold, so none is shown (never one computed without it).
    expect(
      summarizeBody(JSON.stringify({ nome: "Ana", email: "ana@example.com" })).registrationId,
    ).toBeNull();
    expect(
      summarizeBody(JSON.stringify({ nome: "Ana", email: "ana@example.com", id: 42 })).registrationId,
    ).toBe("42");
  });

  it("summarizes a message without its body or the addresses in its error", () => {
    const text = (v: string) => ({ DataType: "String", StringValue: v });
    const summary = summarize({
      MessageId: "m1",
      Body: "hello maria@example.com",
      Attributes: { SentTimestamp: "1796007482531", ApproximateReceiveCount: "2" },
      MessageAttributes: {
        [DEAD_LETTER_ATTRIBUTES.error]: text(`"hello maria@example.com" is not valid JSON`),
      },
    });
    expect(summary).toMatchObject({ id: "m1", reason: "unknown", receiveCount: 2, bodyBytes: 23 });
    expect(JSON.stringify(summary)).not.toContain("maria@");
  });
});

describe("dlq purge", () => {
  const base = { deadLetterQueueUrl: queues.deadLetterQueueUrl, count: 3 };

  it("refuses without a terminal and without --yes (exit code 2), sending nothing", async () => {
    const sqs = stubSqs({});
    const refusal = purgeDeadLetters({
      ...base,
      client: sqs.client,
      yes: false,
      interactive: false,
      ask: async () => "yes",
    });
    await expect(refusal).rejects.toThrow(PurgeNotConfirmedError);
    await expect(refusal).rejects.toBeInstanceOf(ConfigurationError);
    await expect(refusal).rejects.toThrow(/--yes/);
    expect(sqs.calls).toEqual([]);
  });

  it("asks on a terminal: only 'yes' purges", async () => {
    const sqs = stubSqs({ PurgeQueue: () => ({}) });
    const questions: string[] = [];
    const ask = (answer: string) => async (question: string) => {
      questions.push(question);
      return answer;
    };
    await expect(
      purgeDeadLetters({ ...base, client: sqs.client, yes: false, interactive: true, ask: ask("no") }),
    ).rejects.toThrow(PurgeCancelledError);
    expect(sqs.calls).toEqual([]);
    await purgeDeadLetters({ ...base, client: sqs.client, yes: false, interactive: true, ask: ask("yes") });
    expect(questions[0]).toContain("Delete all 3 message(s)");
    expect(sqs.named("PurgeQueue")).toEqual([{ QueueUrl: queues.deadLetterQueueUrl }]);
  });

  it("does not ask with --yes", async () => {
    const sqs = stubSqs({ PurgeQueue: () => ({}) });
    await purgeDeadLetters({
      ...base,
      client: sqs.client,
      yes: true,
      interactive: true,
      ask: async () => {
        throw new Error("asked");
      },
    });
    expect(sqs.named("PurgeQueue")).toHaveLength(1);
  });
});
