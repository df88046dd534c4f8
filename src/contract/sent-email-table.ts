/**
 * The sent-email table's key names: written by the store (src/consumer/store/dynamodb.ts) and
 * declared by both infrastructure programs (the table's hash key and its TTL attribute). One
 * definition, so a renamed attribute cannot leave the table's TTL on a field nobody writes.
 */

/** The partition key; a string. */
export const KEY_ATTRIBUTE = "id";
/** The attribute the table's TTL is enabled on: epoch seconds. */
export const TTL_ATTRIBUTE = "expiresAt";
