/**
 * `dlq redrive`: moves dead-lettered messages back to the main queue.
 *
 * Two paths:
 * - move task: with no --reason, --dry-run or --max, SQS's own StartMessageMoveTask (from the
 *   dead-letter queue's ARN to the main queue's, at --rate messages a second), polled until it
 *   ends. It moves messages as they are, dead-letter attributes included; the consumer ignores
 *   them.
 * - client-side: receive from the dead-letter queue, SendMessageBatch to the main queue with the
 *   dead-letter attributes stripped, then DeleteMessageBatch of exactly the entries SQS confirmed
 *   as sent. Used when a filter, a dry run or a maximum is asked for, and when the move task is
 *   not supported (the local emulator answers InvalidAction).
 *
 * At least once: a message is deleted from the dead-letter queue only after the main queue
 * confirmed it, so a crash (or a failed delete) between the two leaves it in both; re-running
 * sends it again. The consumer's idempotency store (the sent-email store, keyed by registration
 * id) makes that second copy harmless: it finds the email sent and deletes the message.
 */
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { DEAD_LETTER_ATTRIBUTE_NAMES, readDeadLetterAttributes, sendable } from "../contract/dead-letter.js";
import { clientSpan, commandSpan, createLink, sendSpan } from "../observability/tracing.js";
import { isUnsupportedOperation } from "../sqs/errors.js";
import { BATCH_MAX_ENTRIES, MESSAGE_ATTRIBUTES_MAX } from "../sqs/limits.js";
import type { QueuePairUrls } from "../sqs/queue-pair.js";
import { type Clock, systemClock } from "../time/clock.js";
import { TokenBucket } from "../time/token-bucket.js";
import { TooManyAttributesError } from "./errors.js";
import { changeVisibility } from "./queues.js";

/** StartMessageMoveTask's MaxNumberOfMessagesPerSecond range; the client-side path uses it too. */
export const MAX_RATE = 500;

/** Seconds a received message stays hidden while it is being moved (one batch takes ms). */
export const MOVE_VISIBILITY_SECONDS = 30;

/** How often a running move task is polled. */
export const MOVE_TASK_POLL_MS = 5_000;

export type RedrivePath = "move-task" | "client-side";

export interface RedriveFailure {
  /** The message's id in the dead-letter queue. */
  readonly id: string;
  /**
   * attributes: not sent (too many attributes); send: not sent, still in the dead-letter queue;
   * delete: sent to the main queue but still in the dead-letter queue (a re-run sends it again).
   */
  readonly stage: "attributes" | "send" | "delete" | "move-task";
  readonly code: string;
  readonly message: string;
}

export interface RedriveReport {
  readonly path: RedrivePath;
  /** Why that path: "--reason given", "StartMessageMoveTask unsupported here (InvalidAction)", … */
  readonly pathReason: string;
  readonly dryRun: boolean;
  /** In the main queue and deleted from the dead-letter queue. */
  moved: number;
  /** Not moved, or moved but not deleted; see `failures`. */
  failed: number;
  /** Not matching --reason: handed back untouched. */
  skipped: number;
  /** --dry-run: would have been moved. */
  wouldMove: number;
  readonly failures: RedriveFailure[];
  /** Messages that could not be handed back: they reappear after MOVE_VISIBILITY_SECONDS. */
  notRestored: number;
  taskHandle?: string;
  taskStatus?: string;
}

export interface RedriveOptions {
  readonly client: SQSClient;
  readonly queues: QueuePairUrls;
  /** Messages a second, 1–500. */
  readonly ratePerSecond: number;
  /** Move at most this many (client-side path). */
  readonly max?: number | undefined;
  /** Only messages with this dead-letter reason (client-side path). */
  readonly reason?: string | undefined;
  readonly dryRun?: boolean;
  readonly clock?: Clock;
  /** Long-poll wait of each receive: 1 s reaches all of SQS's servers; 0 is enough locally. */
  readonly waitTimeSeconds?: number;
}

/** The message's attributes without the dead-letter ones, as SendMessage accepts them. */
export function redriveAttributes(
  attributes: Record<string, MessageAttributeValue> = {},
): Record<string, MessageAttributeValue> {
  // The names the dead-lettering wrote (the list of dropped names among them: what it lists is
  // gone already, and `dlq show` is where an operator reads it).
  const kept = Object.entries(attributes).filter(([name]) => !DEAD_LETTER_ATTRIBUTE_NAMES.has(name));
  // Never drop an attribute silently (it may be a trace context): such a message fails instead.
  if (kept.length > MESSAGE_ATTRIBUTES_MAX) throw new TooManyAttributesError(kept.length);
  return Object.fromEntries(kept.map(([name, value]) => [name, sendable(value)]));
}

function failure(id: string, stage: RedriveFailure["stage"], error: unknown): RedriveFailure {
  const { name = "Error", message = String(error) } = (error ?? {}) as { name?: string; message?: string };
  return { id, stage, code: name, message };
}

/**
 * One `redrive <dead-letter queue>` span (its path and counts as attributes) around the batch
 * spans: receive and delete on the dead-letter queue, send on the main queue linked to each
 * message's original create context, so a redriven registration's trace leads back to its producer.
 */
export function redrive(options: RedriveOptions): Promise<RedriveReport> {
  return commandSpan("redrive", options.queues.deadLetterQueueUrl, async (record) => {
    const report = await redriveUntraced(options);
    record({
      "sqs_messaging.redrive.path": report.path,
      "sqs_messaging.redrive.moved": report.moved,
      "sqs_messaging.redrive.failed": report.failed,
    });
    return report;
  });
}

async function redriveUntraced(options: RedriveOptions): Promise<RedriveReport> {
  const { client, queues } = options;
  if (!(options.ratePerSecond >= 1 && options.ratePerSecond <= MAX_RATE)) {
    throw new RangeError(`ratePerSecond must be 1–${MAX_RATE}, got ${options.ratePerSecond}`);
  }
  const [main, dead] = await Promise.all([
    client.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ["QueueArn", "FifoQueue"] }),
    ),
    client.send(
      new GetQueueAttributesCommand({ QueueUrl: queues.deadLetterQueueUrl, AttributeNames: ["QueueArn"] }),
    ),
  ]);
  const clientSideBecause = options.reason
    ? "--reason given"
    : options.dryRun
      ? "--dry-run given"
      : options.max !== undefined
        ? "--max given"
        : undefined;
  if (clientSideBecause)
    return moveClientSide(options, main.Attributes?.FifoQueue === "true", clientSideBecause);
  const sourceArn = dead.Attributes?.QueueArn ?? "";
  let taskHandle: string | undefined;
  try {
    ({ TaskHandle: taskHandle } = await client.send(
      new StartMessageMoveTaskCommand({
        SourceArn: sourceArn,
        DestinationArn: main.Attributes?.QueueArn ?? "",
        MaxNumberOfMessagesPerSecond: options.ratePerSecond,
      }),
    ));
  } catch (error) {
    // Only a refused start falls back: once a task runs, a second mover would race it.
    if (!isUnsupportedOperation(error)) throw error;
    const code = (error as Error).name || "error";
    return moveClientSide(
      options,
      main.Attributes?.FifoQueue === "true",
      `StartMessageMoveTask unsupported here (${code})`,
    );
  }
  return followMoveTask(client, sourceArn, taskHandle, options.clock ?? systemClock);
}

function emptyReport(path: RedrivePath, pathReason: string, dryRun: boolean): RedriveReport {
  return {
    path,
    pathReason,
    dryRun,
    moved: 0,
    failed: 0,
    skipped: 0,
    wouldMove: 0,
    failures: [],
    notRestored: 0,
  };
}

/** Polls SQS's move task until it is no longer running. */
async function followMoveTask(
  client: SQSClient,
  sourceArn: string,
  TaskHandle: string | undefined,
  clock: Clock,
): Promise<RedriveReport> {
  const report = emptyReport("move-task", "no --reason, --dry-run or --max", false);
  if (TaskHandle) report.taskHandle = TaskHandle;
  for (;;) {
    // The most recent task on this source comes first.
    const { Results = [] } = await client.send(
      new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }),
    );
    const task = Results[0];
    const status = task?.Status ?? "UNKNOWN";
    if (status === "RUNNING" || status === "CANCELLING") {
      await clock.sleep(MOVE_TASK_POLL_MS);
      continue;
    }
    report.taskStatus = status;
    report.moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    if (status !== "COMPLETED") {
      report.failed = Math.max(0, (task?.ApproximateNumberOfMessagesToMove ?? 0) - report.moved);
      report.failures.push({
        id: TaskHandle ?? "?",
        stage: "move-task",
        code: status,
        message: task?.FailureReason ?? `the move task ended ${status}`,
      });
    }
    return report;
  }
}

interface Received {
  readonly message: Message;
  readonly receiptHandle: string;
}

/** Receive, send to the main queue, delete what was sent; hand back everything else at the end. */
async function moveClientSide(
  options: RedriveOptions,
  fifo: boolean,
  pathReason: string,
): Promise<RedriveReport> {
  const { client, queues } = options;
  const clock = options.clock ?? systemClock;
  const dryRun = options.dryRun ?? false;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const batchSize = Math.max(1, Math.min(BATCH_MAX_ENTRIES, Math.floor(options.ratePerSecond)));
  const bucket = new TokenBucket(options.ratePerSecond, batchSize, clock);
  const report = emptyReport("client-side", pathReason, dryRun);
  const seen = new Set<string>();
  /** Receipt handles to hand back (visibility 0) when the run ends. */
  const handBack: string[] = [];
  const done = () => report.moved + report.failed + report.wouldMove;
  let error: unknown;
  try {
    while (done() < max) {
      const wanted = Math.min(batchSize, max - done());
      const { Messages = [] } = await clientSpan(queues.deadLetterQueueUrl, "receive", wanted, () =>
        client.send(
          new ReceiveMessageCommand({
            QueueUrl: queues.deadLetterQueueUrl,
            // Never more than the bucket holds: a batch is sent as one request.
            MaxNumberOfMessages: wanted,
            WaitTimeSeconds: options.waitTimeSeconds ?? 1,
            VisibilityTimeout: MOVE_VISIBILITY_SECONDS,
            MessageAttributeNames: ["All"],
            MessageSystemAttributeNames: ["All"],
          }),
        ),
      );
      const toMove: Received[] = [];
      let fresh = 0;
      for (const message of Messages) {
        const receiptHandle = message.ReceiptHandle ?? "";
        const id = message.MessageId ?? receiptHandle;
        if (seen.has(id)) {
          // Seen in this run already (its hidden time ran out): never twice in one run.
          handBack.push(receiptHandle);
          continue;
        }
        seen.add(id);
        fresh += 1;
        if (options.reason !== undefined && readDeadLetterAttributes(message).reason !== options.reason) {
          report.skipped += 1;
          handBack.push(receiptHandle);
        } else if (dryRun) {
          report.wouldMove += 1;
          handBack.push(receiptHandle);
        } else {
          toMove.push({ message, receiptHandle });
        }
      }
      if (toMove.length > 0) await moveBatch(client, queues, fifo, toMove, bucket, report, handBack);
      // A receive that brings nothing new ends the run (on real SQS: a sample, see docs).
      if (fresh === 0) break;
    }
  } catch (caught) {
    error = caught;
  }
  report.notRestored = await changeVisibility(client, queues.deadLetterQueueUrl, handBack, 0);
  if (error !== undefined) throw error;
  return report;
}

async function moveBatch(
  client: SQSClient,
  queues: QueuePairUrls,
  fifo: boolean,
  batch: readonly Received[],
  bucket: TokenBucket,
  report: RedriveReport,
  handBack: string[],
): Promise<void> {
  const entries = new Map<string, { received: Received; entry: SendMessageBatchRequestEntry }>();
  batch.forEach((received, i) => {
    const { message } = received;
    const id = message.MessageId ?? "?";
    let attributes: Record<string, MessageAttributeValue>;
    try {
      attributes = redriveAttributes(message.MessageAttributes);
    } catch (error) {
      report.failed += 1;
      report.failures.push(failure(id, "attributes", error));
      handBack.push(received.receiptHandle);
      return;
    }
    entries.set(String(i), {
      received,
      entry: {
        Id: String(i),
        MessageBody: message.Body ?? "",
        ...(Object.keys(attributes).length > 0 ? { MessageAttributes: attributes } : {}),
        ...(fifo
          ? {
              MessageGroupId: message.Attributes?.MessageGroupId ?? "redrive",
              // The dead-letter message's id: a re-run within SQS's 5-minute window is deduplicated.
              MessageDeduplicationId: id,
            }
          : {}),
      },
    });
  });
  if (entries.size === 0) return;
  await bucket.take(entries.size);

  const sent: string[] = [];
  try {
    const links = [...entries.values()].flatMap(({ received }) => createLink(received.message) ?? []);
    const { Successful = [], Failed = [] } = await sendSpan(queues.queueUrl, links, entries.size, () =>
      client.send(
        new SendMessageBatchCommand({
          QueueUrl: queues.queueUrl,
          Entries: [...entries.values()].map(({ entry }) => entry),
        }),
      ),
    );
    for (const ok of Successful) if (ok.Id && entries.has(ok.Id)) sent.push(ok.Id);
    for (const bad of Failed) {
      const item = entries.get(bad.Id ?? "");
      if (!item) continue;
      report.failed += 1;
      report.failures.push({
        id: item.received.message.MessageId ?? "?",
        stage: "send",
        code: bad.Code ?? "Unknown",
        message: bad.Message ?? "",
      });
      handBack.push(item.received.receiptHandle);
    }
  } catch (error) {
    // Unknown whether SQS took them: they stay in the dead-letter queue (a re-run may duplicate).
    for (const { received } of entries.values()) {
      report.failed += 1;
      report.failures.push(failure(received.message.MessageId ?? "?", "send", error));
      handBack.push(received.receiptHandle);
    }
    return;
  }
  if (sent.length === 0) return;

  // Only what the main queue confirmed is deleted from the dead-letter queue.
  const notDeleted = new Map<string, { code: string; message: string }>();
  try {
    const { Failed = [] } = await clientSpan(queues.deadLetterQueueUrl, "delete", sent.length, () =>
      client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queues.deadLetterQueueUrl,
          Entries: sent.map((id) => ({
            Id: id,
            ReceiptHandle: entries.get(id)?.received.receiptHandle ?? "",
          })),
        }),
      ),
    );
    for (const bad of Failed) {
      notDeleted.set(bad.Id ?? "", { code: bad.Code ?? "Unknown", message: bad.Message ?? "" });
    }
  } catch (error) {
    const { code, message } = failure("", "delete", error);
    for (const id of sent) notDeleted.set(id, { code, message });
  }
  for (const id of sent) {
    const item = entries.get(id);
    if (!item) continue;
    const problem = notDeleted.get(id);
    if (!problem) {
      report.moved += 1;
      continue;
    }
    report.failed += 1;
    report.failures.push({ id: item.received.message.MessageId ?? "?", stage: "delete", ...problem });
    // Visible again at the end of the run, so that a re-run sends it again at once.
    handBack.push(item.received.receiptHandle);
  }
}
