import { memoryBackend } from "../support/memory-store.js";
import { describeStoreContract } from "../support/store-contract.js";

// The reference implementation: keeps the suite honest about what the contract says, with
// millisecond expiry where DynamoDB keeps seconds.
const backend = memoryBackend();
describeStoreContract("in-memory reference", async (timing) => backend.makeStore(timing));
