/**
 * The one factory of the registration consumer: the consume
 * CLI, the demo and the tests build it here, so the policy decisions live here and not in CLIs:
 *
 * - the queue is described once, and its attributes are handed to the runtime;
 * - the store is chosen here (chooseStore), and a DynamoDB table is checked before the first
 *   receive, so a missing table or a refused role is one line, not a queue of failed messages;
 * - the claim lease and the record retention come from store/timing.ts (settings data + the
 *   mail send timeout), and the handler aborts a send at that timeout.
 */

import { dirname, join } from "node:path";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { loadDigestKey } from "../config/digest-key.js";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../config/limits.js";
import { suppressionListPath } from "../config/paths.js";
import { DigestKey } from "../contract/digest.js";
import { ConfigurationError } from "../errors.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { describeQueueAttributes } from "../sqs/queue-pair.js";
import { AcceptedSends } from "./accepted-sends.js";
import type { WelcomeSender } from "./mail/mailer.js";
import { OutboxMailer } from "./mail/outbox.js";
import { SqliteSuppressionList, type SuppressionList } from "./mail/suppression.js";
import { DynamoDbSuppressionList } from "./mail/suppression-dynamodb.js";
import { type RegistrationCounts, registrationHandler } from "./registration-handler.js";
import { Consumer } from "./runtime/state-machine.js";
import type { ConsumerOptions } from "./runtime/types.js";
import type { SentEmailStore } from "./store/contract.js";
import { DynamoDbSentEmailStore } from "./store/dynamodb.js";
import { createDynamoDbClient } from "./store/dynamodb-client.js";
import { SqliteSentEmailStore } from "./store/sqlite.js";
import { storeTiming } from "./store/timing.js";

export const storeKinds = ["sqlite", "dynamodb"] as const;
export type StoreKind = (typeof storeKinds)[number];

export type StoreChoice =
  | { readonly kind: "sqlite"; readonly path: string }
  | {
      readonly kind: "dynamodb";
      readonly tableName: string;
      readonly region?: string | undefined;
      readonly endpoint?: string | undefined;
    };

export interface StoreChoiceInput {
  /** `--store` / `SENT_EMAIL_STORE`; absent: DynamoDB when the outputs name a table, else SQLite. */
  readonly kind?: StoreKind | undefined;
  /** `--sent-store`: the SQLite file. */
  readonly sqlitePath?: string | undefined;
  readonly stateDir: string;
  /** From the stack outputs. */
  readonly sentEmailsTableName?: string | undefined;
  readonly dynamoDbEndpoint?: string | undefined;
  readonly region?: string | undefined;
}

/** Where `npm run consume` keeps the SQLite store when no path is given. */
export function defaultSqlitePath(stateDir: string): string {
  return join(stateDir, "sent-emails.sqlite");
}

/**
 * The store for this consumer. When the stack outputs name a table, every consumer of the queue
 * must share it: the table is the default, and SQLite needs an explicit `--sent-store` path (the
 * default file lives in the state folder, under /tmp in the container: one store per replica and
 * per restart, which is how 2,730 of 5,000 registrations got two emails in an earlier load test).
 */
export function chooseStore(input: StoreChoiceInput): StoreChoice {
  const table = input.sentEmailsTableName;
  const kind = input.kind ?? (table ? "dynamodb" : "sqlite");
  if (kind === "dynamodb") {
    if (!table) {
      throw new ConfigurationError(
        "--store dynamodb needs a sent-email table, and the stack outputs name none (sentEmailsTableName): deploy the stack's table (`npm run infra:up`, or `npm run local` for the local one), or use --store sqlite.",
      );
    }
    return { kind, tableName: table, region: input.region, endpoint: input.dynamoDbEndpoint };
  }
  if (table && input.sqlitePath === undefined) {
    throw new ConfigurationError(
      `The stack has a shared sent-email table ("${table}"), but --store sqlite was asked without --sent-store: a file in the state folder is one store per machine, and replicas would send duplicate emails. Drop --store sqlite to use the table, or give --sent-store a durable path.`,
    );
  }
  return { kind: "sqlite", path: input.sqlitePath ?? defaultSqlitePath(input.stateDir) };
}

/**
 * The suppression list beside the chosen store: in the DynamoDB table every consumer
 * shares (under `suppress#<digest>` keys), or, with SQLite, a file beside the store's (the state
 * folder by default) that the bounce handler of the same machine writes and `npm run forget` erases.
 */
export function openSuppressionList(choice: StoreChoice): SuppressionList {
  if (choice.kind === "sqlite") return new SqliteSuppressionList(suppressionListPath(dirname(choice.path)));
  return new DynamoDbSuppressionList({
    client: createDynamoDbClient({ region: choice.region, endpoint: choice.endpoint }),
    tableName: choice.tableName,
    ownsClient: true,
  });
}

export interface RegistrationConsumerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl?: string | undefined;
  /** Where the sent-email records live: a choice (opened and checked here) or a store. */
  readonly store: StoreChoice | SentEmailStore;
  /** Addresses never to mail (hard bounces, complaints): see openSuppressionList. None by default. */
  readonly suppression?: SuppressionList | undefined;
  /** How the emails leave (src/consumer/mail/); default: the outbox in `outboxDir`. */
  readonly mailer?: WelcomeSender;
  /** The outbox folder, when no mailer is given. */
  readonly outboxDir?: string;
  /** A key, or where to load it from (`REGISTRATION_DIGEST_KEY`, else `<state-dir>/digest.key`). */
  readonly digestKey: DigestKey | { readonly secret?: string | undefined; readonly stateDir: string };
  /** Simulated mail latency per email (demos, fault tests). */
  readonly sendLatencyMs?: number;
  /** A send is aborted after this long; the claim lease is this plus a margin. Default 30 s. */
  readonly sendTimeoutMs?: number;
  /**
   * Where sends the mail server accepted wait for their record (`<state-dir>/accepted`), so that a
   * restart on the same folder records them instead of sending again. Default: memory only.
   */
  readonly acceptedDir?: string | undefined;
  readonly logger?: Logger;
  /** Runtime options (concurrency, polls, deadline…); the queue's own settings are filled in here. */
  readonly consumer?: Omit<ConsumerOptions, "client" | "queueUrl" | "handler" | "logger">;
}

export interface RegistrationConsumer {
  readonly consumer: Consumer;
  readonly store: SentEmailStore;
  readonly storeKind: StoreKind | "given";
  readonly emails: RegistrationCounts;
  readonly leaseMs: number;
  readonly visibilityTimeoutSeconds: number;
  /** Closes the store when it was opened here, and the accepted sends' file. */
  close(): Promise<void>;
}

function isStore(store: RegistrationConsumerOptions["store"]): store is SentEmailStore {
  return typeof (store as SentEmailStore).claim === "function";
}

/** Opens the chosen store; a DynamoDB table is checked first (one line naming it if it is missing). */
export async function openSentEmailStore(
  choice: StoreChoice,
  sendTimeoutMs: number,
): Promise<SentEmailStore> {
  const timing = storeTiming(sendTimeoutMs);
  if (choice.kind === "sqlite") return new SqliteSentEmailStore(choice.path, timing);
  const store = new DynamoDbSentEmailStore({
    client: createDynamoDbClient({ region: choice.region, endpoint: choice.endpoint }),
    table: { tableName: choice.tableName },
    timing,
    ownsClient: true,
  });
  try {
    await store.check();
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export async function buildRegistrationConsumer(
  options: RegistrationConsumerOptions,
): Promise<RegistrationConsumer> {
  const logger = options.logger ?? silentLogger;
  const sendTimeoutMs = options.sendTimeoutMs ?? MAIL_SEND_TIMEOUT_DEFAULT_MS;
  const queueAttributes = await describeQueueAttributes(options.client, options.queueUrl);
  const visibilityTimeoutSeconds =
    options.consumer?.visibilityTimeoutSeconds ?? Number(queueAttributes.VisibilityTimeout ?? 30);
  const digestKey =
    options.digestKey instanceof DigestKey ? options.digestKey : await loadDigestKey(options.digestKey);
  const mailer =
    options.mailer ??
    new OutboxMailer({
      outboxDir: options.outboxDir ?? "outbox",
      logger,
      latencyMs: options.sendLatencyMs ?? 0,
    });
  // No send of this consumer's (or a live one's) is older than the send timeout.
  await mailer.prepare?.({ staleAfterMs: sendTimeoutMs });
  const given = isStore(options.store);
  const store = isStore(options.store)
    ? options.store
    : await openSentEmailStore(options.store, sendTimeoutMs);
  const emails: RegistrationCounts = {
    sent: 0,
    duplicates: 0,
    conflicts: 0,
    staleClaims: 0,
    secondSends: 0,
    recordedLate: 0,
    leaseLapses: 0,
  };
  const accepted = new AcceptedSends(options.acceptedDir, logger);
  const close = async () => {
    accepted.close();
    if (!given) await store.close();
  };
  let consumer: Consumer;
  try {
    consumer = new Consumer({
      ...options.consumer,
      client: options.client,
      queueUrl: options.queueUrl,
      deadLetterQueueUrl: options.deadLetterQueueUrl ?? options.consumer?.deadLetterQueueUrl,
      queueAttributes,
      visibilityTimeoutSeconds,
      handler: registrationHandler(mailer, {
        digestKey,
        store,
        counts: emails,
        logger,
        sendTimeoutMs,
        suppression: options.suppression,
        accepted,
      }),
      logger,
    });
  } catch (error) {
    // Options the runtime refuses: what was opened here is closed, not left open.
    await close();
    throw error;
  }
  return {
    consumer,
    store,
    storeKind: given ? "given" : (options.store as StoreChoice).kind,
    emails,
    leaseMs: storeTiming(sendTimeoutMs).leaseMs,
    visibilityTimeoutSeconds,
    close,
  };
}
