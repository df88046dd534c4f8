/**
 * The consumer's Prometheus metrics (prom-client): SQS requests by operation and outcome,
 * messages by fate, work in flight, handler duration and end-to-end age.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RegistrationCounts } from "../consumer/registration-handler.js";
import type { Consumer } from "../consumer/runtime/state-machine.js";
import { PROMETHEUS_METRICS } from "../contract/metrics.js";
import { onRequest } from "../sqs/request-counter.js";

export interface ConsumerMetrics {
  readonly registry: Registry;
}

export function consumerMetrics(
  consumer: Consumer,
  client: SQSClient,
  emails?: RegistrationCounts,
): ConsumerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: PROMETHEUS_METRICS.sqsRequests,
    help: "SQS requests (attempts) by operation and outcome.",
    labelNames: ["operation", "outcome"] as const,
    registers: [registry],
  });
  // Every SQS request attempt by operation and outcome (ok / the error's name).
  onRequest(client, (operation, outcome) => requests.inc({ operation, outcome }));
  const messages = new Counter({
    name: PROMETHEUS_METRICS.messages,
    help: "Messages by what happened to them: received, processed (deleted), failed (back to the queue), dead_lettered.",
    labelNames: ["event"] as const,
    registers: [registry],
  });
  new Gauge({
    name: PROMETHEUS_METRICS.messagesInFlight,
    help: "Messages received and not yet settled (running or buffered).",
    registers: [registry],
    collect() {
      this.set(consumer.inFlight);
    },
  });
  const duration = new Histogram({
    name: PROMETHEUS_METRICS.handlerDuration,
    help: "Time the handler took per message.",
    labelNames: ["outcome"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const age = new Histogram({
    name: PROMETHEUS_METRICS.messageAge,
    help: "From the message's arrival in SQS (SentTimestamp) to its processing.",
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600],
    registers: [registry],
  });
  const reasons = ["outbox", "store", "mailer"] as const;
  new Gauge({
    name: PROMETHEUS_METRICS.paused,
    help: "1 while an environment fault of this component (outbox, store, mailer) pauses the consumer.",
    labelNames: ["reason"] as const,
    registers: [registry],
    collect() {
      for (const reason of reasons)
        this.set({ reason }, consumer.paused && consumer.pauseReason === reason ? 1 : 0);
    },
  });
  new Gauge({
    name: PROMETHEUS_METRICS.ready,
    help: "1 while the consumer takes work (running and not paused), as /readyz says.",
    registers: [registry],
    collect() {
      this.set(consumer.running && !consumer.paused ? 1 : 0);
    },
  });
  const pauses = new Counter({
    name: PROMETHEUS_METRICS.pauses,
    help: "Pauses caused by environment faults, by component.",
    labelNames: ["reason"] as const,
    registers: [registry],
  });
  consumer.on("paused", (reason) => pauses.inc({ reason }));
  if (emails) {
    new Counter({
      name: PROMETHEUS_METRICS.secondSends,
      help: "Second copies of a welcome email: sends of a registration whose earlier send ended without an answer (timeout, connection lost after DATA), made once the mail server was seen healthy.",
      registers: [registry],
      collect() {
        // The handler's count is the one source; the counter shows it as it is at each scrape.
        this.reset();
        this.inc(emails.secondSends ?? 0);
      },
    });
    new Counter({
      name: PROMETHEUS_METRICS.leaseLapses,
      help: "Claims that ran out before their send (a slow store answer or event-loop stall) and were claimed again; nothing was sent on them.",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(emails.leaseLapses ?? 0);
      },
    });
  }
  consumer.on("received", (received) => messages.inc({ event: "received" }, received.length));
  consumer.on("handled", (_, seconds, ok) => duration.observe({ outcome: ok ? "ok" : "error" }, seconds));
  consumer.on("processed", (message) => {
    messages.inc({ event: "processed" });
    const sent = Number(message.Attributes?.SentTimestamp);
    if (Number.isFinite(sent)) age.observe(Math.max(0, (Date.now() - sent) / 1000));
  });
  consumer.on("failed", () => messages.inc({ event: "failed" }));
  consumer.on("dead-lettered", () => messages.inc({ event: "dead_lettered" }));
  return { registry };
}
