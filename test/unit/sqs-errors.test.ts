import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  OverLimit,
  QueueDoesNotExist,
  QueueNameExists,
  RequestThrottled,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/local/emulator.js";
import { createSqsClient } from "../../src/sqs/client.js";
import {
  is,
  isAccessDenied,
  isFatal,
  isQueueMissing,
  isRetryable,
  isUnsupportedOperation,
  sqsErrorName,
} from "../../src/sqs/errors.js";

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const named = (name: string, extra: object = {}) => Object.assign(new Error(name), { name, ...extra });

describe("SQS error classification", () => {
  it("knows the SDK's classes and the emulator's prefixed names alike", () => {
    const sdk = new QueueDoesNotExist({ message: "gone", $metadata: {} });
    expect(isQueueMissing(sdk)).toBe(true);
    expect(isQueueMissing(named("AWS.SimpleQueueService.NonExistentQueue"))).toBe(true);
    expect(sqsErrorName(named("AWS.SimpleQueueService.QueueNameExists"))).toBe("QueueNameExists");
    expect(is(named("AWS.SimpleQueueService.QueueNameExists"), QueueNameExists)).toBe(true);
    expect(is(named("QueueNameExists"), QueueDoesNotExist)).toBe(false);
  });

  it.each([
    [named("AccessDenied"), true],
    [named("InvalidClientTokenId"), true],
    [named("KmsAccessDenied"), true],
    [named("CredentialsProviderError"), true],
    [named("InvalidAddress"), true],
    [new QueueDoesNotExist({ message: "gone", $metadata: {} }), true],
    [named("RequestThrottled"), false],
    [named("InternalError", meta(500)), false],
    [named("ReceiptHandleIsInvalid"), false],
  ])("isFatal(%s) is %s", (error, expected) => {
    expect(isFatal(error)).toBe(expected);
  });

  it.each([
    [new RequestThrottled({ message: "slow down", $metadata: {} }), true],
    [new OverLimit({ message: "in flight", $metadata: {} }), true],
    [named("ThrottlingException", meta(400)), true],
    [named("Whatever", meta(429)), true],
    [named("InternalError", meta(500)), true],
    [named("ServiceUnavailable", meta(503)), true],
    [named("TimeoutError"), true],
    [named("Error", { code: "EPIPE" }), true],
    [named("Error", { code: "ECONNREFUSED" }), false],
    [named("AccessDenied", meta(403)), false],
    [named("InvalidParameterValue", meta(400)), false],
    ["a string", false],
    [undefined, false],
  ])("isRetryable(%s) is %s", (error, expected) => {
    expect(isRetryable(error)).toBe(expected);
  });

  it("keeps access separate from missing queues and unsupported actions", () => {
    expect(isAccessDenied(named("AccessDenied"))).toBe(true);
    expect(isAccessDenied(named("QueueDoesNotExist"))).toBe(false);
    expect(isUnsupportedOperation(named("UnsupportedOperation"))).toBe(true);
    expect(isUnsupportedOperation(named("AccessDenied"))).toBe(false);
  });
});

describe("SQS error classification against the emulator", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator.stop());

  it("classifies what fauxqs really answers, prefixed or not", async () => {
    const client = createSqsClient({ endpoint: emulator.endpoint });
    try {
      const missing = await client.send(new GetQueueUrlCommand({ QueueName: "absent" })).catch((e) => e);
      expect(isQueueMissing(missing)).toBe(true);
      expect(isFatal(missing)).toBe(true);

      await client.send(new CreateQueueCommand({ QueueName: "taken", Attributes: { DelaySeconds: "1" } }));
      const taken = await client
        .send(new CreateQueueCommand({ QueueName: "taken", Attributes: { DelaySeconds: "2" } }))
        .catch((e) => e);
      // fauxqs names it AWS.SimpleQueueService.QueueNameExists: instanceof alone would miss it.
      expect(is(taken, QueueNameExists)).toBe(true);
      expect(isRetryable(taken)).toBe(false);
    } finally {
      client.destroy();
    }
  });
});
