/**
 * Building the registration consumer: what it opened is closed when the runtime refuses its
 * options, not left open for the caller to leak.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AcceptedSends } from "../../src/consumer/accepted-sends.js";
import { buildRegistrationConsumer } from "../../src/consumer/registrations.js";
import { ConsumerOptionsError } from "../../src/consumer/runtime/options.js";
import { SqliteSentEmailStore } from "../../src/consumer/store/sqlite.js";
import { testDigestKey } from "../support/digest-key.js";
import { stubSqs } from "../support/stub-sqs.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("buildRegistrationConsumer", () => {
  it("closes the accepted sends' file and the store it opened when the runtime refuses an option", async () => {
    const dir = await mkdtemp(join(tmpdir(), "registrations-"));
    const sqs = stubSqs({ GetQueueAttributes: () => ({ Attributes: { VisibilityTimeout: "30" } }) });
    const acceptedClosed = vi.spyOn(AcceptedSends.prototype, "close");
    const storeClosed = vi.spyOn(SqliteSentEmailStore.prototype, "close");
    await expect(
      buildRegistrationConsumer({
        client: sqs.client,
        queueUrl: "https://sqs.test/000000000000/q",
        deadLetterQueueUrl: "https://sqs.test/000000000000/q-dlq",
        store: { kind: "sqlite", path: join(dir, "sent.sqlite") },
        outboxDir: join(dir, "outbox"),
        acceptedDir: join(dir, "accepted"),
        digestKey: testDigestKey,
        consumer: { concurrency: 0 },
      }),
    ).rejects.toBeInstanceOf(ConsumerOptionsError);
    expect(acceptedClosed).toHaveBeenCalledTimes(1);
    expect(storeClosed).toHaveBeenCalledTimes(1);
  });
});
