/** The runtime's clock (backoff, heartbeat, shutdown deadline, delete windows, batching window). */
export { type Clock, systemClock, type Timer } from "../../sqs/clock.js";
