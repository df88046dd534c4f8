/**
 * What every conformance case runs on: the embedded SQS with a queue pair and the local DynamoDB
 * (dynalite) with the sent-email table, both in this process on port 0; the DynamoDB store every
 * runtime instance shares; an outbox mailer whose faults a case switches on and off; and the
 * counts a case checks, read from the queues and the outbox, never from a runtime's counters.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Message, SQSClient } from "@aws-sdk/client-sqs";
import type { QueueSettings } from "../../src/config/queue-settings.js";
import { EnvironmentFaultError, NotSentError } from "../../src/consumer/errors.js";
import type { Mailer } from "../../src/consumer/mail/mailer.js";
import { OutboxMailer } from "../../src/consumer/mail/outbox.js";
import type { SentEmailStore } from "../../src/consumer/store/contract.js";
import { DynamoDbSentEmailStore } from "../../src/consumer/store/dynamodb.js";
import { createDynamoDbClient } from "../../src/consumer/store/dynamodb-client.js";
import { storeTiming } from "../../src/consumer/store/timing.js";
import type { Registration } from "../../src/contract/registration.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { testDigestKey } from "../support/digest-key.js";
import { startTestSqs, type TestSqs } from "../support/local-sqs.js";
import type { RuntimeSetup } from "./drivers.js";

/** A short send timeout: the claim lease is this plus 0.5 s, well inside the function's timeout. */
export const SEND_TIMEOUT_MS = 500;

/**
 * The outbox, with the two faults a mail server shows: a refusal of one email before DATA (a
 * failure of that message: retried), and an outage (an environment fault: every send refused).
 */
export class FaultyMailer implements Mailer {
  readonly kind = "outbox" as const;
  readonly sendTimeoutMs = SEND_TIMEOUT_MS;
  /** Every send is refused as the mail service being down. */
  down = false;
  /** Refused once each, as a 421 for that email alone. */
  readonly refuseOnce = new Set<string>();
  /** Send attempts by registration id (refused ones included). */
  readonly attempts = new Map<string, number>();
  /** Sends refused because the service was down. */
  outageRefusals = 0;

  constructor(private readonly outbox: OutboxMailer) {}

  async send(registration: Registration, id: string, options?: { signal?: AbortSignal }): Promise<void> {
    this.attempts.set(id, (this.attempts.get(id) ?? 0) + 1);
    if (this.down) {
      this.outageRefusals += 1;
      throw new NotSentError(new EnvironmentFaultError("mailer", "the mail service answers 454 (down)"));
    }
    if (this.refuseOnce.delete(id)) throw new NotSentError(new Error(`421 try again later (${id})`));
    await this.outbox.send(registration, id, options);
  }

  prepare(options: { staleAfterMs: number }): Promise<void> {
    return this.outbox.prepare(options);
  }

  close(): void {}
}

/**
 * The shared store with one fault a case switches on and off: `markSent` failing as the table
 * being down, after the mail server accepted (row S9 of docs/email-delivery.md).
 */
function withMarkSentFault(store: SentEmailStore, faults: StoreFaults): SentEmailStore {
  return new Proxy(store, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== "function") return value;
      if (property !== "markSent") return value.bind(object);
      return async (...args: Parameters<SentEmailStore["markSent"]>) => {
        if (faults.markSentDown) throw new EnvironmentFaultError("store", "the table answers 503 (down)");
        return object.markSent(...args);
      };
    },
  });
}

export interface StoreFaults {
  markSentDown: boolean;
}

export interface Harness {
  readonly sqs: TestSqs;
  readonly outboxDir: string;
  readonly mailer: FaultyMailer;
  /** The store every runtime instance shares (without the faults), for a case's own checks. */
  readonly store: SentEmailStore;
  readonly storeFaults: StoreFaults;
  readonly setup: RuntimeSetup;
  /** The highest ApproximateReceiveCount any runtime's receive showed, by registration id. */
  readonly receiveCounts: Map<string, number>;
  close(): Promise<void>;
}

/** Records the receive counts of every message the client receives, by the registration id in it. */
function watchReceives(client: SQSClient, counts: Map<string, number>): SQSClient {
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const messages = (result.output as { Messages?: Message[] }).Messages ?? [];
      for (const m of messages) {
        const id = idOf(m);
        const count = Number(m.Attributes?.ApproximateReceiveCount ?? 0);
        if (id) counts.set(id, Math.max(counts.get(id) ?? 0, count));
      }
      return result;
    },
    { step: "initialize", name: "conformanceReceiveCounts" },
  );
  return client;
}

export function idOf(message: Message): string | undefined {
  try {
    return (JSON.parse(message.Body ?? "") as { id?: string }).id;
  } catch {
    return undefined;
  }
}

/**
 * The suite's visibility timeout: short, so that an abandoned message comes back within a case,
 * yet long enough that a batch slowed by a loaded machine (the suite shares two cores) settles
 * before its messages reappear, which would count as an extra receive.
 */
export const VISIBILITY_TIMEOUT_SECONDS = 8;

export async function startHarness(settings: Partial<QueueSettings> = {}): Promise<Harness> {
  const sqs = await startTestSqs(
    // maxReceiveCount well above what a case spends: a message dead-lettered by SQS is a failure.
    { visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS, maxReceiveCount: 10, ...settings },
    { dynamoDb: true },
  );
  const outboxDir = await mkdtemp(join(tmpdir(), "conformance-"));
  const tables = createDynamoDbClient({ endpoint: sqs.stack.outputs.dynamoDbEndpoint ?? "" });
  const store = new DynamoDbSentEmailStore({
    client: tables,
    table: { tableName: sqs.stack.outputs.sentEmailsTableName ?? "" },
    timing: storeTiming(SEND_TIMEOUT_MS),
  });
  const mailer = new FaultyMailer(
    new OutboxMailer({ outboxDir, sendTimeoutMs: SEND_TIMEOUT_MS, latencyMs: 5 }),
  );
  const receiveCounts = new Map<string, number>();
  const storeFaults: StoreFaults = { markSentDown: false };
  return {
    sqs,
    outboxDir,
    mailer,
    store,
    storeFaults,
    receiveCounts,
    setup: {
      queueUrl: sqs.queueUrl,
      newClient: () => watchReceives(createSqsClient(sqs.stack.outputs), receiveCounts),
      store: withMarkSentFault(store, storeFaults),
      mailer,
      digestKey: testDigestKey,
      sendTimeoutMs: SEND_TIMEOUT_MS,
    },
    async close() {
      await store.close();
      tables.destroy();
      await sqs.close();
      await rm(outboxDir, { recursive: true, force: true });
    },
  };
}
