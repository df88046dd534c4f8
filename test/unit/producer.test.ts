/** The producer's retries, through the engine it shares with the consumer: a stub SQS, no waits. */
import { describe, expect, it } from "vitest";
import type { OutgoingRegistration } from "../../src/contract/registration.js";
import { Producer } from "../../src/producer/producer.js";
import { systemClock } from "../../src/time/clock.js";
import { stubSqs } from "../support/stub-sqs.js";

/** A clock whose sleeps end at once, recording each backoff. */
function instantClock() {
  const sleeps: number[] = [];
  const sleep = async (ms: number) => {
    sleeps.push(ms);
  };
  return { sleeps, clock: { ...systemClock, sleep } };
}

const registrations = (n: number): OutgoingRegistration[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `reg_${i}`,
    nome: `P ${i}`,
    email: `p${i}@example.com`,
    registeredAt: new Date(0).toISOString(),
  }));

type Entries = { Entries: { Id: string }[] };

describe("producer retries", () => {
  it("retries only the entries SQS failed on its side, with backoff, until all are in", async () => {
    let call = 0;
    const sqs = stubSqs({
      SendMessageBatch: (input) => {
        call += 1;
        const { Entries } = input as unknown as Entries;
        const Failed =
          call <= 2
            ? Entries.slice(-3).map((e) => ({ Id: e.Id, Code: "InternalError", SenderFault: false }))
            : [];
        return { Successful: Entries.slice(0, Entries.length - Failed.length), Failed };
      },
    });
    const { sleeps, clock } = instantClock();
    const report = await new Producer({ client: sqs.client, queueUrl: "q", concurrency: 1, clock }).send(
      registrations(10),
    );
    expect(report).toMatchObject({ sent: 10, failed: [] });
    expect(sqs.named("SendMessageBatch").map((i) => (i as unknown as Entries).Entries.length)).toEqual([
      10, 3, 3,
    ]);
    expect(sleeps).toHaveLength(2);
    // Full jitter below 100 ms, then below 200 ms.
    expect(sleeps[0]).toBeLessThan(100);
    expect(sleeps[1]).toBeLessThan(200);
  });

  it("reports the sender's faults by index without retrying them", async () => {
    const sqs = stubSqs({
      SendMessageBatch: (input) => {
        const { Entries } = input as unknown as Entries;
        return {
          Successful: Entries.filter((e) => e.Id !== "1"),
          Failed: [{ Id: "1", Code: "InvalidMessageContents", Message: "bad", SenderFault: true }],
        };
      },
    });
    const { sleeps, clock } = instantClock();
    const report = await new Producer({ client: sqs.client, queueUrl: "q", clock }).send(registrations(3));
    expect(report.sent).toBe(2);
    expect(report.failed).toEqual([{ index: 1, id: "reg_1", code: "InvalidMessageContents", reason: "bad" }]);
    expect(sleeps).toEqual([]);
  });

  it("retries a throttled request, then stops on one that retrying cannot fix", async () => {
    let call = 0;
    const sqs = stubSqs({
      SendMessageBatch: () => {
        call += 1;
        if (call === 1) throw Object.assign(new Error("slow down"), { name: "ThrottlingException" });
        throw Object.assign(new Error("no"), { name: "AccessDenied" });
      },
    });
    const { sleeps, clock } = instantClock();
    const report = await new Producer({ client: sqs.client, queueUrl: "q", concurrency: 1, clock }).send(
      registrations(25),
    );
    expect(report.sent).toBe(0);
    expect(report.aborted?.name).toBe("AccessDenied");
    expect(report.requests).toBe(2);
    expect(sleeps).toHaveLength(1);
    // The first batch failed with the request's error; nothing more was read after it.
    expect(report.failed.map((f) => f.code)).toEqual(Array(10).fill("AccessDenied"));
  });
});
