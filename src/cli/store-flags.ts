/**
 * The sent-email store's flags, shared by consume and forget only (kept out of ./shared.ts, which
 * the producer loads too: choosing a store loads the store modules).
 */
import { chooseStore, type StoreChoice, type StoreKind } from "../consumer/registrations.js";
import type { QueueLocation } from "../stack/resolve.js";

/** `--store` and `--sent-store`, as consume and forget take them. */
export interface StoreFlags {
  store?: StoreKind;
  sentStore?: string;
  stateDir: string;
}

/** The sent-email store the flags and the stack's outputs choose (the same for consume and forget). */
export function storeChoiceFor(flags: StoreFlags, location: QueueLocation): StoreChoice {
  return chooseStore({
    kind: flags.store,
    sqlitePath: flags.sentStore,
    stateDir: flags.stateDir,
    sentEmailsTableName: location.sentEmailsTableName,
    dynamoDbEndpoint: location.dynamoDbEndpoint,
    region: location.region,
  });
}
