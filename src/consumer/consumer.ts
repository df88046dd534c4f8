/**
 * The consumer runtime's public surface. The runtime itself lives in ./runtime/: the state
 * machine (consumer.ts), its types, option checks, queue description, dead-letter forwarding,
 * heartbeat, adaptive pollers, batched requests and clock, one concern a file.
 */
export { Consumer } from "./runtime/consumer.js";
export { ConsumerOptionsError, consumerSocketPool, maxPollersFor } from "./runtime/options.js";
export type {
  ConsumerEvents,
  ConsumerOptions,
  ConsumerStats,
  HandlerContext,
  MessageHandler,
} from "./runtime/types.js";
