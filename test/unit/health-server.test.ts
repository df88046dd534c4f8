import { EventEmitter } from "node:events";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { Consumer } from "../../src/consumer/runtime/state-machine.js";
import {
  type HealthServer,
  livenessOf,
  OUTBOX_FAULT_LIVENESS_MS,
  readinessOf,
  startHealthServer,
} from "../../src/observability/health-server.js";

/** The three things liveness reads from a consumer: its events, whether it runs, its poll. */
function fakeConsumer(running = true) {
  return Object.assign(new EventEmitter(), { running, pollSeconds: 20 }) as unknown as Consumer;
}

describe("liveness", () => {
  it("is healthy while receives or handlers keep happening, unhealthy when both stop", () => {
    let now = 0;
    const consumer = fakeConsumer();
    const alive = livenessOf(consumer, () => now);
    expect(alive().ok).toBe(true);
    now = 49_000;
    expect(alive().ok).toBe(true); // within one long poll (20 s) + 30 s
    now = 51_000;
    expect(alive()).toMatchObject({ ok: false, quietMs: 51_000, limitMs: 50_000 });
    consumer.emit("received", []); // an empty receive counts: SQS answered
    expect(alive().ok).toBe(true);
    now = 120_000;
    consumer.emit("handled", {}, 1, true); // busy, not receiving, but working
    expect(alive().ok).toBe(true);
  });

  it("is unhealthy when the consumer has stopped", () => {
    expect(livenessOf(fakeConsumer(false))().ok).toBe(false);
  });

  it("a pause for a shared dependency never fails liveness; one for the task's own disk does after its bound", () => {
    let now = 0;
    const pause = { paused: true, pauseReason: "store" as string, pausedForMs: () => now };
    const consumer = Object.assign(fakeConsumer(), pause) as unknown as Consumer;
    const alive = livenessOf(consumer, () => now, 300_000);
    now = 3_600_000; // an hour without a receive or a finished handler
    expect(alive()).toMatchObject({ ok: true, paused: "store" });
    pause.pauseReason = "outbox";
    Object.assign(consumer, pause);
    now = 300_000;
    expect(alive().ok).toBe(true);
    now = 300_001;
    expect(alive()).toMatchObject({ ok: false, paused: "outbox", pausedMs: 300_001 });
    expect(OUTBOX_FAULT_LIVENESS_MS).toBe(300_000);
  });
});

describe("readiness", () => {
  it("ready while running and not paused; says why not otherwise", () => {
    expect(readinessOf(fakeConsumer())()).toEqual({ ready: true });
    expect(readinessOf(fakeConsumer(false))()).toEqual({ ready: false, reason: "not-running" });
    const paused = Object.assign(fakeConsumer(), {
      paused: true,
      pauseReason: "mailer",
      pausedForMs: () => 1_234,
    }) as unknown as Consumer;
    expect(readinessOf(paused)()).toEqual({ ready: false, reason: "paused:mailer", pausedMs: 1_234 });
  });
});

describe("health server", () => {
  let server: HealthServer | undefined;
  afterEach(() => server?.close());

  it("answers 503 on /healthz when unhealthy, 404 elsewhere, 405 for other methods; listens on 127.0.0.1", async () => {
    server = await startHealthServer(fakeConsumer(false), { port: 0, registry: new Registry() });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: "unhealthy", running: false });
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/healthz`, { method: "POST" })).status).toBe(405);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: "not-ready", reason: "not-running" });
  });

  it("with a second consumer (the bounce queue's): live and ready only while both are", async () => {
    const bounces = fakeConsumer(true);
    server = await startHealthServer(fakeConsumer(), {
      port: 0,
      registry: new Registry(),
      others: [bounces],
    });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    Object.assign(bounces, { running: false });
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({
      status: "unhealthy",
      running: true,
      others: [{ ok: false }],
    });
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ others: [{ ready: false, reason: "not-running" }] });
  });

  it("serves the registry's metrics in Prometheus text format", async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ app: "test" });
    server = await startHealthServer(fakeConsumer(), { port: 0, registry });
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get("content-type")).toContain("text/plain");
  });
});
