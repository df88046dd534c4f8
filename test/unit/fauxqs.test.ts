/**
 * The fauxqs adapter: the internals it reaches for are there, its fixes work, and when an upgrade
 * moves something the failure names what and where to change.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import { afterEach, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../src/local/emulator.js";
import {
  FAUXQS_INTERNALS,
  FAUXQS_VERSION,
  fauxqsInternalsProblems,
  installedFauxqsVersion,
} from "../../src/local/fauxqs.js";
import { createSqsClient } from "../../src/sqs/client.js";

describe("fauxqs adapter: the internals it relies on", () => {
  it("finds every internal file, class and method in the installed fauxqs", async () => {
    // If this fails after an upgrade, each line says which file, class or method moved.
    expect(await fauxqsInternalsProblems()).toEqual([]);
    expect(installedFauxqsVersion(), "package.json pins the version the adapter was read from").toBe(
      FAUXQS_VERSION,
    );
  });

  it("names the file, class or method an upgrade moved, and the module to change", async () => {
    const problems = await fauxqsInternalsProblems({
      ...FAUXQS_INTERNALS,
      persistence: {
        file: "./persistence.js",
        classes: { PersistenceManager: ["updateMessageReady", "gone"] },
      },
      moved: { file: "./sqs/moved.js", classes: { SqsStore: [] } },
    });
    expect(problems).toEqual([
      expect.stringMatching(/PersistenceManager has no method gone .*src\/local\/fauxqs\.ts/),
      expect.stringMatching(
        /no class SqsStore in dist\/sqs\/moved\.js .*update FAUXQS_INTERNALS in src\/local\/fauxqs\.ts/,
      ),
    ]);
  });
});

describe("fauxqs adapter: its fixes", () => {
  let emulator: Emulator | undefined;
  const dirs: string[] = [];
  afterEach(async () => {
    await emulator?.stop();
    emulator = undefined;
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('removes an attribute set to "", as SQS does, without patching fauxqs for the process', async () => {
    emulator = await startEmulator();
    const client = createSqsClient({ endpoint: emulator.endpoint });
    try {
      const { QueueUrl } = await client.send(
        new CreateQueueCommand({
          QueueName: "cleared",
          Attributes: { RedriveAllowPolicy: '{"redrivePermission":"allowAll"}' },
        }),
      );
      await client.send(new SetQueueAttributesCommand({ QueueUrl, Attributes: { RedriveAllowPolicy: "" } }));
      const { Attributes } = await client.send(
        new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["All"] }),
      );
      expect(Attributes).not.toHaveProperty("RedriveAllowPolicy");
    } finally {
      client.destroy();
    }
    const internals = await import(new URL("./sqs/sqsStore.js", import.meta.resolve("fauxqs")).href);
    expect(Object.hasOwn(internals.SqsQueue.prototype, "setAttributes")).toBe(true);
    expect(internals.SqsQueue.prototype.setAttributes.toString()).not.toContain("kept");
  });

  it("with a data folder, hands a message back with visibility 0 and keeps its receive count", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "fauxqs-adapter-"));
    dirs.push(dataDir);
    emulator = await startEmulator({ dataDir });
    let client = createSqsClient({ endpoint: emulator.endpoint }, { maxAttempts: 1 });
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: "handed-back" }));
    await client.send(new SendMessageCommand({ QueueUrl, MessageBody: "once" }));
    const receive = () =>
      client.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 1,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
      );
    const first = (await receive()).Messages?.[0];
    // fauxqs 2.4.1 answered this with HTTP 500 "NOT NULL constraint failed" and stranded the message.
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: first?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    const second = (await receive()).Messages?.[0];
    expect(second?.Body).toBe("once");
    expect(second?.Attributes?.ApproximateReceiveCount).toBe("2");
    await client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl,
        ReceiptHandle: second?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );

    // The row on disk is ready, with its count: a restart from the same folder finds it.
    client.destroy();
    await emulator.stop();
    emulator = await startEmulator({ dataDir, port: 0 });
    client = createSqsClient({ endpoint: emulator.endpoint }, { maxAttempts: 1 });
    try {
      const { QueueUrl: again } = await client.send(new CreateQueueCommand({ QueueName: "handed-back" }));
      const third = (
        await client.send(
          new ReceiveMessageCommand({
            QueueUrl: again,
            MaxNumberOfMessages: 1,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["ApproximateReceiveCount"],
          }),
        )
      ).Messages?.[0];
      expect(third?.Body).toBe("once");
      expect(third?.Attributes?.ApproximateReceiveCount).toBe("3");
    } finally {
      client.destroy();
    }
  });
});
