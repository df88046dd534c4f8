/**
 * `/healthz` (liveness), `/readyz` (readiness) and `/metrics` for the consumer, off unless a port is configured, and on
 * 127.0.0.1 unless told otherwise (a container sets 0.0.0.0 explicitly).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { Consumer } from "../consumer/runtime/state-machine.js";

export interface HealthServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly now?: () => number;
  /** How long a pause for the task's own disk may last before liveness fails. Default 5 min. */
  readonly outboxFaultLivenessMs?: number;
  /**
   * Consumers of the same process beside the main one (the bounce queue's): the process
   * is live and ready only while each of them is. Their state is reported under `others`.
   */
  readonly others?: readonly Consumer[];
}

/**
 * A pause for the task's own disk (component "outbox") fails liveness after this long: a restart
 * gets a fresh task and disk, so after 5 minutes it is worth one. A pause for a shared dependency
 * (store, mailer) never does: every task would restart in a loop and none would be cured.
 */
export const OUTBOX_FAULT_LIVENESS_MS = 5 * 60_000;

export interface HealthServer {
  /** `http://host:port` actually bound (port 0 picks one). */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Healthy while the consumer runs and shows signs of life: a receive (empty or not) succeeded, or
 * a handler finished, within one long poll plus 30 s. A busy consumer whose slots are all taken
 * does not receive, but its handlers finish; a wedged one does neither.
 */
export function livenessOf(
  consumer: Consumer,
  now: () => number = Date.now,
  outboxFaultLivenessMs = OUTBOX_FAULT_LIVENESS_MS,
) {
  let lastSign = now();
  consumer.on("received", () => {
    lastSign = now();
  });
  consumer.on("handled", () => {
    lastSign = now();
  });
  // A paused consumer neither receives nor finishes handlers; its probes are its sign of life.
  consumer.on("paused", () => {
    lastSign = now();
  });
  return () => {
    const quietMs = now() - lastSign;
    const limitMs = consumer.pollSeconds * 1000 + 30_000;
    if (consumer.running && consumer.paused) {
      const pausedMs = consumer.pausedForMs();
      const ok = consumer.pauseReason !== "outbox" || pausedMs <= outboxFaultLivenessMs;
      return { ok, running: true, paused: consumer.pauseReason, pausedMs, quietMs, limitMs };
    }
    return { ok: consumer.running && quietMs <= limitMs, running: consumer.running, quietMs, limitMs };
  };
}

/** Ready: taking work. Not ready while starting, stopping or paused by an environment fault. */
export function readinessOf(consumer: Consumer) {
  return () => {
    if (!consumer.running) return { ready: false, reason: "not-running" };
    if (consumer.paused) {
      return { ready: false, reason: `paused:${consumer.pauseReason}`, pausedMs: consumer.pausedForMs() };
    }
    return { ready: true };
  };
}

export async function startHealthServer(
  consumer: Consumer,
  options: HealthServerOptions,
): Promise<HealthServer> {
  const own = livenessOf(consumer, options.now, options.outboxFaultLivenessMs);
  const ownReadiness = readinessOf(consumer);
  const others = (options.others ?? []).map((other) => ({
    live: livenessOf(other, options.now, options.outboxFaultLivenessMs),
    ready: readinessOf(other),
  }));
  const liveness = () => {
    const state = own();
    if (others.length === 0) return state;
    const rest = others.map((other) => other.live());
    return { ...state, ok: state.ok && rest.every((r) => r.ok), others: rest };
  };
  const readiness = () => {
    const state = ownReadiness();
    if (others.length === 0) return state;
    const rest = others.map((other) => other.ready());
    return { ...state, ready: state.ready && rest.every((r) => r.ready), others: rest };
  };
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? "/").split("?")[0];
    if (request.method !== "GET") {
      response.writeHead(405, { allow: "GET" }).end();
    } else if (path === "/healthz") {
      const state = liveness();
      response
        .writeHead(state.ok ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: state.ok ? "ok" : "unhealthy", ...state }));
    } else if (path === "/readyz") {
      const state = readiness();
      response
        .writeHead(state.ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: state.ready ? "ready" : "not-ready", ...state }));
    } else if (path === "/metrics") {
      options.registry.metrics().then(
        (text) => response.writeHead(200, { "content-type": options.registry.contentType }).end(text),
        (error: Error) => response.writeHead(500).end(error.message),
      );
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "127.0.0.1", resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(":") ? `[${address}]` : address}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection would hold close() open past the shutdown deadline.
        server.closeAllConnections();
      }),
  };
}
