/**
 * One invocation's batch against a stub SQS: which records come back in batchItemFailures, with
 * which visibility, and what goes to the dead-letter queue. The same cases run end to end against
 * both runtimes in test/conformance/.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import {
  FUNCTION_BATCHING_WINDOW_MAX_SECONDS,
  FUNCTION_TIMEOUT_MAX_SECONDS,
  FUNCTION_SETTLE_MARGIN_MS as SETTLE_MARGIN_MS,
} from "../../src/config/limits.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import {
  EnvironmentFaultError,
  HoldError,
  PoisonMessageError,
  RetryAfterError,
} from "../../src/consumer/errors.js";
import {
  HAND_BACK_SECONDS,
  RETRY_DELAY_DEFAULTS,
  retryDelaySeconds,
} from "../../src/consumer/runtime/retry-delay.js";
import type { MessageHandler } from "../../src/consumer/runtime/types.js";
import { DEAD_LETTER_ATTRIBUTES } from "../../src/contract/dead-letter.js";
import {
  ENVIRONMENT_FAULT_BACKOFF,
  emptyBatchStats,
  environmentFaultDelaySeconds,
  outageSurvivedSeconds,
  processBatch,
} from "../../src/lambda/batch.js";
import { toMessage, toRecord } from "../../src/lambda/records.js";
import { VISIBILITY_MAX_SECONDS } from "../../src/sqs/limits.js";
import { stubSqs } from "../support/stub-sqs.js";

const QUEUE_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/q";
const DLQ_URL = "https://sqs.us-east-1.amazonaws.com/123456789012/q-dlq";
const ARN = "arn:aws:sqs:us-east-1:123456789012:q";

function message(id: string, extra: Record<string, string> = {}, receiveCount = 1): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: `{"n":"${id}"}`,
    Attributes: { ApproximateReceiveCount: String(receiveCount), ...extra },
  };
}

function event(messages: Message[]) {
  return { Records: messages.map((m) => toRecord(m, ARN, "us-east-1")) };
}

function run(
  messages: Message[],
  handler: MessageHandler,
  more: { fifo?: boolean; remainingMs?: number } = {},
) {
  const sqs = stubSqs({ SendMessage: () => ({}), ChangeMessageVisibilityBatch: () => ({ Failed: [] }) });
  const stats = emptyBatchStats();
  const started = Date.now();
  const result = processBatch(event(messages), {
    client: sqs.client,
    queueUrl: QUEUE_URL,
    deadLetterQueueUrl: DLQ_URL,
    fifo: more.fifo ?? false,
    handler,
    leaseMs: 1_000,
    remainingMs: () => (more.remainingMs ?? 60_000) - (Date.now() - started),
    concurrency: 1,
    stats,
  });
  const visibility = () =>
    Object.fromEntries(
      sqs
        .named("ChangeMessageVisibilityBatch")
        .flatMap((input) => input.Entries as { ReceiptHandle: string; VisibilityTimeout: number }[])
        .map((e) => [e.ReceiptHandle.slice(3), e.VisibilityTimeout]),
    );
  return { result, sqs, stats, visibility };
}

const failures = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier);

describe("a Lambda batch", () => {
  it("reads a record as the message ReceiveMessage returns, attributes included", () => {
    const m: Message = {
      ...message("a", { MessageGroupId: "g" }, 3),
      MessageAttributes: {
        s: { DataType: "String", StringValue: "x" },
        b: { DataType: "Binary", BinaryValue: Uint8Array.from([1, 2]) },
      },
      MD5OfBody: "d",
    };
    const back = toMessage(toRecord(m, ARN, "us-east-1"));
    expect(back).toMatchObject({
      MessageId: "a",
      ReceiptHandle: "rh-a",
      Body: m.Body,
      Attributes: m.Attributes,
    });
    expect(back.MessageAttributes?.s).toEqual({ DataType: "String", StringValue: "x" });
    expect([...(back.MessageAttributes?.b?.BinaryValue ?? [])]).toEqual([1, 2]);
  });

  it("successes are left for the mapping to delete; a failure comes back with the runtime's backoff", async () => {
    const { result, visibility, stats } = run([message("ok"), message("bad", {}, 3)], async (m) => {
      if (m.MessageId === "bad") throw new Error("transient");
    });
    expect(failures(await result)).toEqual(["bad"]);
    expect(visibility()).toEqual({ bad: retryDelaySeconds(new Error(), 3, RETRY_DELAY_DEFAULTS) });
    expect(visibility().bad).toBe(8);
    expect(stats).toMatchObject({ received: 2, processed: 1, failed: 1 });
  });

  it("a RetryAfterError sets its own delay; a HoldError waits out its hold", async () => {
    const { result, visibility } = run([message("after"), message("hold")], async (m) => {
      if (m.MessageId === "after") throw new RetryAfterError(7.2, "claimed elsewhere");
      throw new HoldError(2_500, "own claim");
    });
    expect(failures(await result)).toEqual(["after", "hold"]);
    expect(visibility()).toEqual({ after: 8, hold: 3 });
  });

  it("a delay longer than SQS allows after the mapping's receive is capped, not refused", async () => {
    // SQS refuses a visibility past 12 h from the receive. The mapping may have held the record
    // for a whole batching window before this invocation, which may then run its whole timeout:
    // each asked-for delay must end inside SQS's 12 h even then.
    const { result, visibility } = run([message("after"), message("hold")], async (m) => {
      if (m.MessageId === "after") throw new RetryAfterError(VISIBILITY_MAX_SECONDS, "quota");
      throw new HoldError(2 * VISIBILITY_MAX_SECONDS * 1000, "own claim");
    });
    expect(failures(await result)).toEqual(["after", "hold"]);
    const { after, hold } = visibility() as { after: number; hold: number };
    const latestSet = FUNCTION_BATCHING_WINDOW_MAX_SECONDS + FUNCTION_TIMEOUT_MAX_SECONDS;
    expect(after + latestSet).toBeLessThanOrEqual(VISIBILITY_MAX_SECONDS);
    expect(hold + latestSet).toBeLessThanOrEqual(VISIBILITY_MAX_SECONDS);
    expect(Math.min(after, hold)).toBeGreaterThan(VISIBILITY_MAX_SECONDS - latestSet - 60); // capped, not cut short
  });

  it("poison goes to the dead-letter queue with its reason and is reported done", async () => {
    const { result, sqs, stats } = run([message("poison")], async () => {
      throw new PoisonMessageError("not-json", "the body is not JSON");
    });
    expect(failures(await result)).toEqual([]);
    const [sent] = sqs.named("SendMessage");
    expect(sent?.QueueUrl).toBe(DLQ_URL);
    const attributes = sent?.MessageAttributes as Record<string, { StringValue: string }>;
    expect(attributes[DEAD_LETTER_ATTRIBUTES.reason]?.StringValue).toBe("not-json");
    expect(attributes[DEAD_LETTER_ATTRIBUTES.sourceMessageId]?.StringValue).toBe("poison");
    expect(stats).toMatchObject({ deadLettered: 1, processed: 0 });
  });

  it("an environment fault starts nothing after it and hands every unfinished record back with a growing visibility", async () => {
    const ran: string[] = [];
    const { result, visibility, stats } = run(
      [message("ok"), message("meets", {}, 2), message("later", {}, 4)],
      async (m) => {
        ran.push(m.MessageId ?? "");
        if (m.MessageId === "meets") throw new EnvironmentFaultError("store", "the table answers 503");
      },
    );
    expect(failures(await result)).toEqual(["meets", "later"]);
    expect(ran).toEqual(["ok", "meets"]);
    expect(visibility()).toEqual({
      meets: environmentFaultDelaySeconds(2),
      later: environmentFaultDelaySeconds(4),
    });
    expect(stats).toMatchObject({ processed: 1, failed: 0, environmentFaults: 2 });
  });

  it("FIFO: the first failure of a group names the rest of that group unstarted; other groups go on", async () => {
    const ran: string[] = [];
    const { result, visibility } = run(
      [
        message("a1", { MessageGroupId: "a" }),
        message("b1", { MessageGroupId: "b" }),
        message("a2", { MessageGroupId: "a" }),
        message("b2", { MessageGroupId: "b" }),
        message("a3", { MessageGroupId: "a" }),
      ],
      async (m) => {
        ran.push(m.MessageId ?? "");
        if (m.MessageId === "a2") throw new Error("transient");
      },
      { fifo: true },
    );
    expect(failures(await result)).toEqual(["a2", "a3"]);
    expect(ran).toEqual(["a1", "a2", "b1", "b2"]);
    expect(visibility()).toEqual({ a2: 2, a3: 2 });
  });

  it("starts a record only with time left for its lease; the rest are handed back", async () => {
    const { result, visibility } = run([message("late")], async () => {}, {
      remainingMs: SETTLE_MARGIN_MS + 500,
    });
    expect(failures(await result)).toEqual(["late"]);
    expect(visibility()).toEqual({ late: HAND_BACK_SECONDS });
  });

  it("gives each handler the invocation's end less the settling margin as its deadline", async () => {
    const deadlines: (number | undefined)[] = [];
    const before = Date.now();
    const { result } = run([message("a"), message("b")], async (_m, context) => {
      deadlines.push(context.deadline);
    });
    await result;
    const after = Date.now();
    expect(deadlines).toHaveLength(2);
    for (const deadline of deadlines) {
      expect(deadline).toBeGreaterThanOrEqual(before + 60_000 - SETTLE_MARGIN_MS);
      expect(deadline).toBeLessThanOrEqual(after + 60_000 - SETTLE_MARGIN_MS);
    }
  });

  it("counts each record once: a failure retried in 1 s is failed, not also released", async () => {
    const { result, visibility, stats } = run([message("soon")], async () => {
      throw new RetryAfterError(0.5, "claimed elsewhere");
    });
    expect(failures(await result)).toEqual(["soon"]);
    expect(visibility()).toEqual({ soon: HAND_BACK_SECONDS });
    expect(stats).toMatchObject({ received: 1, failed: 1, released: 0 });
  });

  it("counts a record not started for want of time as released, and FIFO records behind a fault as faults", async () => {
    const late = run([message("late")], async () => {}, { remainingMs: SETTLE_MARGIN_MS + 500 });
    await late.result;
    expect(late.stats).toMatchObject({ received: 1, failed: 0, released: 1 });
    const fifo = run(
      [message("a1", { MessageGroupId: "a" }), message("a2", { MessageGroupId: "a" })],
      async () => {
        throw new EnvironmentFaultError("store", "the table answers 503");
      },
      { fifo: true },
    );
    expect(failures(await fifo.result)).toEqual(["a1", "a2"]);
    expect(fifo.stats).toMatchObject({ received: 2, environmentFaults: 2, released: 0, failed: 0 });
  });

  it("states how long an outage a fresh message survives: the sum of its receives' delays", () => {
    const { firstSeconds, growth } = ENVIRONMENT_FAULT_BACKOFF;
    expect(outageSurvivedSeconds(5)).toBe(
      firstSeconds * (1 + growth + growth ** 2 + growth ** 3 + growth ** 4),
    );
    // SQS counts its 12 hours from the receive, up to a batching window and a function timeout
    // before the change.
    expect(environmentFaultDelaySeconds(20)).toBe(
      VISIBILITY_MAX_SECONDS - FUNCTION_BATCHING_WINDOW_MAX_SECONDS - FUNCTION_TIMEOUT_MAX_SECONDS,
    );
  });

  it("the docs state the outage a message survives with the stack's maxReceiveCount, and the delays, as the code computes them", () => {
    const page = (name: string) => readFileSync(join(projectRoot, "docs", name), "utf8").replace(/\s+/g, " ");
    const { maxReceiveCount } = settings.queues;
    const survived = outageSurvivedSeconds(maxReceiveCount);
    const delays = Array.from({ length: maxReceiveCount }, (_, i) => environmentFaultDelaySeconds(i + 1));
    expect(page("lambda.md")).toContain(`maxReceiveCount\` of ${maxReceiveCount}`);
    expect(page("lambda.md")).toContain(`survives an outage of ${survived} s`);
    expect(page("lambda.md")).toContain(`The delays in seconds: ${delays.join(", ")}`);
    expect(page("email-delivery.md")).toContain(`survives ${survived} s with ${maxReceiveCount} receives`);
  });
});
