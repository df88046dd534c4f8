/**
 * The embedded SQS: fauxqs, in this process, on 127.0.0.1 only.
 *
 * fauxqs 2.4.1's `startFauxqs()` always listens on 0.0.0.0, which would publish an
 * unauthenticated queue to every network the laptop joins. So this module does what
 * `startFauxqs()` does (stores, optional SQLite persistence) but listens on loopback itself,
 * through fauxqs's exported `buildApp()`. The stores and the persistence manager are not in the
 * package's export map, so they are loaded by file from the same installed copy; fauxqs is pinned
 * to an exact version in package.json for that reason, and a test starts it to prove it works.
 */
import { mkdirSync } from "node:fs";
import { buildApp } from "fauxqs";
import { LOOPBACK_ADDRESS } from "../config/endpoint.js";

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. */
  readonly port?: number;
  /** Folder for durable state (SQLite). In memory when absent. */
  readonly dataDir?: string;
  readonly region?: string;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`: the SQS endpoint, and the host of every queue URL it hands out. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  stop(): Promise<void>;
}

interface Persistence {
  load(sqs: unknown, sns: unknown, s3: unknown): void;
  close(): void;
}
interface Store {
  host: string;
  persistence?: unknown;
  allQueues?(): Iterable<{ persistence?: unknown }>;
}
type StoreClass = new () => Store;
interface QueuePrototype {
  attributes: Record<string, string>;
  setAttributes(attributes: Record<string, string>): void;
}

async function loadInternals() {
  const entry = import.meta.resolve("fauxqs");
  const load = (path: string) => import(new URL(path, entry).href);
  const [sqs, sns, s3, persistence] = await Promise.all([
    load("./sqs/sqsStore.js"),
    load("./sns/snsStore.js"),
    load("./s3/s3Store.js"),
    load("./persistence.js"),
  ]);
  clearEmptyAttributes(sqs.SqsQueue.prototype as QueuePrototype);
  return {
    SqsStore: sqs.SqsStore as StoreClass,
    SnsStore: sns.SnsStore as StoreClass,
    S3Store: s3.S3Store as StoreClass,
    PersistenceManager: persistence.PersistenceManager as new (dir: string) => Persistence,
  };
}

const PATCHED = Symbol.for("sqs-messaging.clearEmptyAttributes");

/**
 * Real SQS removes an attribute that SetQueueAttributes sets to "" (that is how Policy,
 * RedriveAllowPolicy or KmsMasterKeyId are cleared); fauxqs 2.4.1 does so only for
 * RedrivePolicy and otherwise keeps and returns "". Terraform's AWS provider deletes
 * aws_sqs_queue_policy and aws_sqs_queue_redrive_allow_policy that way and then waits for the
 * attribute to disappear, so `terraform destroy` hung on the emulator until it timed out.
 */
function clearEmptyAttributes(prototype: QueuePrototype & { [PATCHED]?: true }): void {
  if (prototype[PATCHED]) return;
  const setAttributes = prototype.setAttributes;
  prototype.setAttributes = function (this: QueuePrototype, attributes: Record<string, string>) {
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(attributes)) {
      if (value === "") delete this.attributes[name];
      else kept[name] = value;
    }
    setAttributes.call(this, kept);
  };
  prototype[PATCHED] = true;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? "us-east-1";
  const internals = await loadInternals();
  const sqsStore = new internals.SqsStore();
  const snsStore = new internals.SnsStore();
  const s3Store = new internals.S3Store();
  // An empty host makes fauxqs build queue URLs from the request's Host header
  // (http://127.0.0.1:<port>/000000000000/<name>): they work with the SDK as they are, where
  // its default `sqs.<region>.localhost` does not resolve on every machine.
  sqsStore.host = "";

  let persistence: Persistence | undefined;
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    persistence = new internals.PersistenceManager(options.dataDir);
    // Load before wiring persistence in, as startFauxqs does: loading must not write back.
    persistence.load(sqsStore, snsStore, s3Store);
    for (const store of [sqsStore, snsStore, s3Store]) store.persistence = persistence;
    for (const queue of sqsStore.allQueues?.() ?? []) queue.persistence = persistence;
  }

  const app = buildApp({
    logger: false,
    defaultRegion: region,
    stores: { sqsStore, snsStore, s3Store } as never,
  });
  if (persistence) {
    const manager = persistence;
    app.addHook("preClose", () => manager.close());
  }
  const address = await app.listen({ port: options.port ?? 0, host: LOOPBACK_ADDRESS });
  const port = Number(new URL(address).port);
  return {
    endpoint: `http://${LOOPBACK_ADDRESS}:${port}`,
    port,
    region,
    stop: () => app.close(),
  };
}
