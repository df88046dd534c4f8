import { describe, expect, it } from "vitest";
import {
  deadLetterQueueAttributes,
  defaultQueueSettings,
  InvalidQueueSettingsError,
  mainQueueAttributes,
  queueSettingsProblems,
  validateQueueSettings,
} from "../../src/config/queue-settings.js";

const DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:user-registrations-dlq";
const MAIN_ARN = "arn:aws:sqs:us-east-1:123456789012:user-registrations";

describe("queue settings → SQS attributes", () => {
  it("turns every main-queue setting into its CreateQueue attribute", () => {
    const s = defaultQueueSettings;
    expect(mainQueueAttributes(s, DLQ_ARN)).toEqual({
      VisibilityTimeout: String(s.visibilityTimeoutSeconds),
      MessageRetentionPeriod: String(s.messageRetentionSeconds),
      MaximumMessageSize: String(s.maximumMessageSizeBytes),
      ReceiveMessageWaitTimeSeconds: String(s.receiveWaitTimeSeconds),
      DelaySeconds: String(s.delaySeconds),
      SqsManagedSseEnabled: "true",
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: DLQ_ARN, maxReceiveCount: s.maxReceiveCount }),
    });
  });

  it("gives the dead-letter queue its own retention and a redrive-allow policy naming only the main queue", () => {
    const attributes = deadLetterQueueAttributes(defaultQueueSettings, MAIN_ARN);
    expect(attributes.MessageRetentionPeriod).toBe(String(defaultQueueSettings.deadLetterRetentionSeconds));
    expect(attributes.MaximumMessageSize).toBe(
      String(defaultQueueSettings.deadLetterMaximumMessageSizeBytes),
    );
    expect(JSON.parse(attributes.RedriveAllowPolicy ?? "")).toEqual({
      redrivePermission: "byQueue",
      sourceQueueArns: [MAIN_ARN],
    });
    expect(attributes).not.toHaveProperty("RedrivePolicy");
    expect(deadLetterQueueAttributes(defaultQueueSettings)).not.toHaveProperty("RedriveAllowPolicy");
  });

  it("adds the FIFO attributes to both queues of a FIFO pair", () => {
    const fifo = {
      ...defaultQueueSettings,
      fifo: true,
      contentBasedDeduplication: true,
      queueName: "q.fifo",
      deadLetterQueueName: "q-dlq.fifo",
    };
    expect(queueSettingsProblems(fifo)).toEqual([]);
    for (const attributes of [
      mainQueueAttributes(fifo, DLQ_ARN),
      deadLetterQueueAttributes(fifo, MAIN_ARN),
    ]) {
      expect(attributes.FifoQueue).toBe("true");
      expect(attributes.ContentBasedDeduplication).toBe("true");
      // The local stack carries what both programs declare for a FIFO pair.
      expect(attributes.DeduplicationScope).toBe(fifo.deduplicationScope);
    }
    expect(mainQueueAttributes(defaultQueueSettings, DLQ_ARN)).not.toHaveProperty("FifoQueue");
    expect(mainQueueAttributes(defaultQueueSettings, DLQ_ARN)).not.toHaveProperty("DeduplicationScope");
  });

  it("keeps the defaults within AWS's ranges", () => {
    expect(queueSettingsProblems(defaultQueueSettings)).toEqual([]);
    expect(validateQueueSettings(defaultQueueSettings)).toBe(defaultQueueSettings);
  });

  it.each([
    [
      { visibilityTimeoutSeconds: 43_201 },
      "visibilityTimeoutSeconds is 43201; AWS accepts a whole number from 0 to 43200.",
    ],
    [{ receiveWaitTimeSeconds: 21 }, "receiveWaitTimeSeconds is 21"],
    [{ maxReceiveCount: 0 }, "maxReceiveCount is 0"],
    [{ messageRetentionSeconds: 59 }, "messageRetentionSeconds is 59"],
    [{ maximumMessageSizeBytes: 512 }, "maximumMessageSizeBytes is 512"],
    [{ delaySeconds: 1.5 }, "delaySeconds is 1.5"],
    [{ fifo: true }, 'queueName "user-registrations" must end in ".fifo"'],
    [{ queueName: "bad name" }, 'queueName "bad name" is not a valid queue name'],
    [{ deadLetterQueueName: "user-registrations" }, "must differ"],
    [{ contentBasedDeduplication: true }, "contentBasedDeduplication applies to FIFO queues only"],
  ])("rejects %o with a sentence naming the setting", (override, expected) => {
    const settings = { ...defaultQueueSettings, ...override };
    expect(() => validateQueueSettings(settings)).toThrow(InvalidQueueSettingsError);
    expect(queueSettingsProblems(settings).join("\n")).toContain(expected);
  });
});
