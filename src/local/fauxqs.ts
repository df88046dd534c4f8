/**
 * The adapter to fauxqs's internals: the only module that reaches past its exports map. Each
 * reach has a reason fauxqs 2.4.1 gives us:
 *
 * 1. `startFauxqs()` always listens on 0.0.0.0, which would publish an unauthenticated queue to
 *    every network the laptop joins. We listen on loopback ourselves through the exported
 *    `buildApp()`, so we build its stores and persistence manager, which are not exported: they
 *    are loaded by file from the same installed copy.
 * 2. SetQueueAttributes with "" keeps and returns "" (real SQS removes the attribute; fauxqs does
 *    so only for RedrivePolicy). Terraform deletes aws_sqs_queue_policy and
 *    aws_sqs_queue_redrive_allow_policy that way and waits for the attribute to go, so
 *    `terraform destroy` hung. Our store gives each queue it creates a setAttributes that drops "".
 * 3. With a data folder, a visibility change to 0 calls `updateMessageReady`, which writes NULL into
 *    `approximate_receive_count` (NOT NULL): HTTP 500 after the message has left the in-flight
 *    set and before it is back in the ready list, so it is stranded until a restart. Our
 *    persistence manager marks the row ready and keeps its receive count, as SQS does.
 *
 * Subclasses and per-queue methods, not prototypes patched for the whole process: another fauxqs
 * in the same process (a test's) stays as shipped.
 *
 * Why not a visible patch (patch-package)? It applies in `postinstall`, and CI and the workflows
 * install with `npm ci --ignore-scripts` (.ci/run's README command aside): the patch would be
 * silently missing exactly where the tests run, and the emulator would behave differently there.
 * A diff against dist/ files is as tied to fauxqs's internals as this module, so it gains no
 * safety, and it adds a dependency. Here the fixes apply however the package was installed, and
 * `fauxqsInternalsProblems()` (run by test/unit/fauxqs.test.ts) names what an upgrade
 * moved. fauxqs is pinned to an exact version in package.json for this reason.
 */
import { readFileSync } from "node:fs";
import { buildApp } from "fauxqs";

/** The internal files we load, relative to fauxqs's entry (dist/app.js). */
export const FAUXQS_INTERNALS = {
  sqsStore: {
    file: "./sqs/sqsStore.js",
    classes: { SqsStore: ["createQueue", "allQueues"], SqsQueue: ["setAttributes"] },
  },
  snsStore: { file: "./sns/snsStore.js", classes: { SnsStore: [] } },
  s3Store: { file: "./s3/s3Store.js", classes: { S3Store: [] } },
  persistence: {
    file: "./persistence.js",
    classes: { PersistenceManager: ["load", "close", "updateMessageReady", "updateMessageInflight"] },
  },
} as const;

/** The fauxqs version these internals were read from. */
export const FAUXQS_VERSION = "2.4.1";

/** The installed fauxqs's version (its package.json, beside dist/, outside the exports map). */
export function installedFauxqsVersion(): string {
  const url = new URL("../package.json", import.meta.resolve("fauxqs"));
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}

interface Queue {
  attributes: Record<string, string>;
  setAttributes(attributes: Record<string, string>): void;
  persistence?: unknown;
}
interface SqsStore {
  host: string;
  persistence?: unknown;
  createQueue(...args: unknown[]): Queue;
  allQueues(): Iterable<Queue>;
}
interface Store {
  persistence?: unknown;
}
interface Persistence {
  load(sqs: unknown, sns: unknown, s3: unknown): void;
  close(): void;
  updateMessageReady(messageId: string): void;
}
interface PersistenceInternals extends Persistence {
  db: { prepare(sql: string): { run(...values: unknown[]): unknown } };
}
type Class<T> = new (...args: never[]) => T;

type Modules = Record<string, Record<string, unknown>>;

async function loadModules(internals: Readonly<Record<string, { file: string }>>): Promise<Modules> {
  const entry = import.meta.resolve("fauxqs");
  const loaded = await Promise.all(
    Object.entries(internals).map(async ([key, { file }]) => {
      const module = await import(new URL(file, entry).href).catch(() => ({}));
      return [key, module as Record<string, unknown>] as const;
    }),
  );
  return Object.fromEntries(loaded) as Modules;
}

/**
 * Everything this adapter expects of fauxqs and does not find, each as a sentence naming the
 * file, class or method and where to change it. Empty when the installed fauxqs fits.
 */
export async function fauxqsInternalsProblems(
  expected: Readonly<
    Record<string, { file: string; classes: Readonly<Record<string, readonly string[]>> }>
  > = FAUXQS_INTERNALS,
): Promise<string[]> {
  const modules = await loadModules(expected);
  const problems: string[] = [];
  for (const [key, { file, classes }] of Object.entries(expected)) {
    const module = modules[key] ?? {};
    for (const [name, methods] of Object.entries(classes)) {
      const prototype = (module[name] as { prototype?: Record<string, unknown> } | undefined)?.prototype;
      if (typeof module[name] !== "function" || !prototype) {
        problems.push(
          `fauxqs ${installedFauxqsVersion()} has no class ${name} in dist/${file.slice(2)} (adapter written for ${FAUXQS_VERSION}): find where it moved and update FAUXQS_INTERNALS in src/local/fauxqs.ts.`,
        );
        continue;
      }
      for (const method of methods) {
        if (typeof prototype[method] !== "function") {
          problems.push(
            `fauxqs ${installedFauxqsVersion()}'s ${name} has no method ${method} (adapter written for ${FAUXQS_VERSION}): review the fix that uses it in src/local/fauxqs.ts.`,
          );
        }
      }
    }
  }
  return problems;
}

/** Drops attributes set to "" (reason 2 above), on one queue. */
function clearEmptyAttributes(queue: Queue): Queue {
  const setAttributes = queue.setAttributes.bind(queue);
  queue.setAttributes = (attributes) => {
    const kept: Record<string, string> = {};
    for (const [name, value] of Object.entries(attributes)) {
      if (value === "") delete queue.attributes[name];
      else kept[name] = value;
    }
    setAttributes(kept);
  };
  return queue;
}

export interface FauxqsStores {
  readonly sqsStore: SqsStore;
  readonly snsStore: Store;
  readonly s3Store: Store;
}

export interface FauxqsParts {
  /**
   * The stores, loaded from and written through to `dataDir` (SQLite) when given; `close`
   * closes the database. Queue URLs take their host from each request's Host header.
   */
  openStores(dataDir?: string): { stores: FauxqsStores; close(): void };
  /** fauxqs's exported buildApp, with our stores. */
  buildApp(options: { defaultRegion: string; stores: FauxqsStores }): ReturnType<typeof buildApp>;
}

/** Loads fauxqs's internals, with the fixes above; throws naming what moved if they do not fit. */
export async function loadFauxqs(): Promise<FauxqsParts> {
  const problems = await fauxqsInternalsProblems();
  if (problems.length > 0) throw new Error(`fauxqs does not fit the adapter:\n- ${problems.join("\n- ")}`);
  const modules = await loadModules(FAUXQS_INTERNALS);
  const SqsStore = modules.sqsStore?.SqsStore as Class<SqsStore>;
  const SnsStore = modules.snsStore?.SnsStore as Class<Store>;
  const S3Store = modules.s3Store?.S3Store as Class<Store>;
  const PersistenceManager = modules.persistence?.PersistenceManager as new (
    dir: string,
  ) => PersistenceInternals;

  class LoopbackSqsStore extends SqsStore {
    override createQueue(...args: unknown[]): Queue {
      return clearEmptyAttributes(super.createQueue(...args));
    }
  }

  class ReceiveCountKeepingPersistence extends PersistenceManager {
    private ready?: { run(...values: unknown[]): unknown };
    override updateMessageReady(messageId: string): void {
      // Reason 3 above: the row leaves flight; its receive count stays what it was.
      this.ready ??= this.db.prepare(
        "UPDATE sqs_messages SET receipt_handle = NULL, visibility_deadline = NULL WHERE message_id = ?",
      );
      this.ready.run(messageId);
    }
  }

  return {
    openStores(dataDir) {
      const stores = { sqsStore: new LoopbackSqsStore(), snsStore: new SnsStore(), s3Store: new S3Store() };
      const { sqsStore, snsStore, s3Store } = stores;
      // An empty host makes fauxqs build queue URLs from the request's Host header
      // (http://127.0.0.1:<port>/000000000000/<name>): they work with the SDK as they are, where
      // its default `sqs.<region>.localhost` does not resolve on every machine.
      sqsStore.host = "";
      if (!dataDir) return { stores, close: () => {} };
      const persistence = new ReceiveCountKeepingPersistence(dataDir);
      // Load before wiring persistence in, as startFauxqs does: loading must not write back.
      persistence.load(sqsStore, snsStore, s3Store);
      for (const store of [sqsStore, snsStore, s3Store]) store.persistence = persistence;
      for (const queue of sqsStore.allQueues()) queue.persistence = persistence;
      return { stores, close: () => persistence.close() };
    },
    buildApp: ({ defaultRegion, stores }) =>
      // The stores' types are internal to fauxqs; buildApp accepts the classes we built them from.
      buildApp({ logger: false, defaultRegion, stores: stores as never }),
  };
}
