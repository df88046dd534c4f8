/**
 * The sent-email store's flags, shared by consume and forget only (kept out of ./shared.ts, which
 * the producer loads too: choosing a store loads the store modules).
 */
import { chooseStore, type StoreChoice, type StoreKind } from "../consumer/registrations.js";

/** `--store` and `--sent-store`, as consume and forget take them. */
export interface StoreFlags {
  store?: StoreKind;
  sentStore?: string;
  stateDir: string;
}

/** Where the stack keeps the table (consumer-config.ts `stackParts`), and its region. */
export interface StackTable {
  readonly tableName?: string | undefined;
  readonly dynamoDbEndpoint?: string | undefined;
  readonly region?: string | undefined;
}

/** The sent-email store the flags and the stack choose (the same for consume and forget). */
export function storeChoiceFor(flags: StoreFlags, table: StackTable): StoreChoice {
  return chooseStore({
    kind: flags.store,
    sqlitePath: flags.sentStore,
    stateDir: flags.stateDir,
    sentEmailsTableName: table.tableName,
    dynamoDbEndpoint: table.dynamoDbEndpoint,
    region: table.region,
  });
}
