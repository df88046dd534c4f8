/**
 * A queue in memory behind a stub SQS client, for the runtime's unit tests under fake timers:
 * long polls wait (on the faked setTimeout) until a message arrives or their wait ends, receives
 * are aborted by their signal, and every request is recorded with the (fake) time it was made.
 * Visibility is not modelled: what is received stays out until a test puts it back.
 */
import type { Message, SQSClient } from "@aws-sdk/client-sqs";

export interface FakeQueueOptions {
  readonly fifo?: boolean;
  readonly visibilityTimeoutSeconds?: number;
  /** Makes ReceiveMessage throw this while it returns an error. */
  readonly receiveError?: () => Error | undefined;
}

export interface Call {
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly at: number;
}

export function fakeQueue(options: FakeQueueOptions = {}) {
  const visible: Message[] = [];
  const calls: Call[] = [];
  const deleted: string[] = [];
  const waiters = new Set<() => void>();
  let next = 0;

  const attributes = {
    VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:dlq",
      maxReceiveCount: 3,
    }),
    FifoQueue: options.fifo ? "true" : "false",
  };

  function push(
    count = 1,
    body: (i: number) => string = (i) => JSON.stringify({ i, sentAt: Date.now() }),
  ): void {
    for (let k = 0; k < count; k++) {
      const i = next++;
      visible.push({
        MessageId: `m${i}`,
        ReceiptHandle: `rh${i}`,
        Body: body(i),
        Attributes: { ApproximateReceiveCount: "1", ...(options.fifo ? { MessageGroupId: `g${i}` } : {}) },
      });
    }
    for (const wake of [...waiters]) wake();
  }

  async function receive(input: Record<string, unknown>, signal: AbortSignal | undefined) {
    const error = options.receiveError?.();
    if (error) throw error;
    const waitMs = Number(input.WaitTimeSeconds ?? 0) * 1000;
    if (visible.length === 0 && waitMs > 0) {
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          signal?.removeEventListener("abort", onAbort);
        };
        const onAbort = () => {
          done();
          reject(Object.assign(new Error("aborted"), { name: "AbortError" }));
        };
        const timer = setTimeout(() => {
          done();
          resolve();
        }, waitMs);
        waiters.add(() => {
          done();
          resolve();
        });
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    return { Messages: visible.splice(0, Number(input.MaxNumberOfMessages ?? 1)) };
  }

  const client = {
    async send(
      command: { constructor: { name: string }; input: Record<string, unknown> },
      sendOptions?: { abortSignal?: AbortSignal },
    ) {
      const name = command.constructor.name.replace(/Command$/, "");
      const { input } = command;
      calls.push({ name, input, at: Date.now() });
      switch (name) {
        case "GetQueueAttributes":
          return { Attributes: attributes };
        case "GetQueueUrl":
          return { QueueUrl: "https://sqs.test/000000000000/dlq" };
        case "ReceiveMessage":
          return receive(input, sendOptions?.abortSignal);
        case "DeleteMessageBatch": {
          const entries = input.Entries as { Id: string; ReceiptHandle: string }[];
          deleted.push(...entries.map((e) => e.ReceiptHandle));
          return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
        }
        case "ChangeMessageVisibilityBatch": {
          const entries = input.Entries as { Id: string }[];
          return { Successful: entries.map((e) => ({ Id: e.Id })), Failed: [] };
        }
        case "SendMessage":
          return { MessageId: "dead-lettered" };
        default:
          throw new Error(`fake queue: no ${name}`);
      }
    },
    destroy() {},
  } as unknown as SQSClient;

  return {
    client,
    queueUrl: "https://sqs.test/000000000000/queue",
    attributes,
    calls,
    deleted,
    push,
    /** Requests of one operation. */
    named: (name: string) => calls.filter((c) => c.name === name),
  };
}
