/**
 * Creates the queue pair from the settings module, idempotently: a queue that exists is compared
 * attribute by attribute and only what differs is set. Used by the local stack and the demo; on
 * AWS the Pulumi program (or Terraform) does this job.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  deadLetterQueueAttributes,
  mainQueueAttributes,
  type QueueSettings,
  validateQueueSettings,
} from "../config/queue-settings.js";
import type { StackOutputs } from "../stack/outputs.js";

export type QueueChange = "created" | "updated" | "unchanged";

export interface ProvisionedQueue {
  readonly name: string;
  readonly url: string;
  readonly arn: string;
  readonly change: QueueChange;
  /** Attributes that were set on an existing queue. */
  readonly updatedAttributes: readonly string[];
}

export interface ProvisionResult {
  readonly queue: ProvisionedQueue;
  readonly deadLetterQueue: ProvisionedQueue;
}

async function findQueueUrl(client: SQSClient, name: string): Promise<string | undefined> {
  try {
    const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
    return QueueUrl;
  } catch (error) {
    if (/NonExistentQueue|QueueDoesNotExist/.test((error as Error).name)) return undefined;
    throw error;
  }
}

async function queueArn(client: SQSClient, url: string): Promise<string> {
  const { Attributes } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`SQS returned no QueueArn for ${url}`);
  return arn;
}

/** JSON attributes compare by value: SQS may reorder keys or change number formatting. */
function sameValue(actual: string | undefined, wanted: string): boolean {
  if (actual === wanted) return true;
  if (actual === undefined || !wanted.startsWith("{")) return false;
  try {
    return canonicalJson(JSON.parse(actual)) === canonicalJson(JSON.parse(wanted));
  } catch {
    return false;
  }
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(String(item))}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Queue type can only be chosen at creation; SetQueueAttributes rejects it. */
const CREATE_ONLY = new Set(["FifoQueue"]);

async function ensureQueue(
  client: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<ProvisionedQueue> {
  const existing = await findQueueUrl(client, name);
  if (!existing) {
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    if (!QueueUrl) throw new Error(`SQS returned no QueueUrl for ${name}`);
    return {
      name,
      url: QueueUrl,
      arn: await queueArn(client, QueueUrl),
      change: "created",
      updatedAttributes: [],
    };
  }
  const { Attributes: current = {} } = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: existing, AttributeNames: ["All"] }),
  );
  const differing = Object.fromEntries(
    Object.entries(attributes).filter(
      ([key, value]) => !CREATE_ONLY.has(key) && !sameValue((current as Record<string, string>)[key], value),
    ),
  );
  const updatedAttributes = Object.keys(differing);
  if (updatedAttributes.length > 0) {
    await client.send(new SetQueueAttributesCommand({ QueueUrl: existing, Attributes: differing }));
  }
  const arn = current.QueueArn ?? (await queueArn(client, existing));
  return {
    name,
    url: existing,
    arn,
    change: updatedAttributes.length > 0 ? "updated" : "unchanged",
    updatedAttributes,
  };
}

/**
 * Dead-letter queue first (the main queue's RedrivePolicy names it), then the main queue, then
 * the dead-letter queue's RedriveAllowPolicy, which names the main queue.
 */
export async function provisionQueues(client: SQSClient, settings: QueueSettings): Promise<ProvisionResult> {
  validateQueueSettings(settings);
  const initialDlq = await ensureQueue(
    client,
    settings.deadLetterQueueName,
    deadLetterQueueAttributes(settings),
  );
  const queue = await ensureQueue(client, settings.queueName, mainQueueAttributes(settings, initialDlq.arn));
  const withAllow = await ensureQueue(
    client,
    settings.deadLetterQueueName,
    deadLetterQueueAttributes(settings, queue.arn),
  );
  // Report the dead-letter queue's change as one step: "created" wins over the allow policy.
  const deadLetterQueue: ProvisionedQueue =
    initialDlq.change === "created"
      ? initialDlq
      : {
          ...withAllow,
          updatedAttributes: [...initialDlq.updatedAttributes, ...withAllow.updatedAttributes],
          change: initialDlq.change === "updated" || withAllow.change === "updated" ? "updated" : "unchanged",
        };
  return { queue, deadLetterQueue };
}

export function toStackOutputs(result: ProvisionResult, region: string, endpoint?: string): StackOutputs {
  return {
    queueUrl: result.queue.url,
    queueArn: result.queue.arn,
    deadLetterQueueUrl: result.deadLetterQueue.url,
    deadLetterQueueArn: result.deadLetterQueue.arn,
    region,
    ...(endpoint ? { endpoint } : {}),
  };
}
