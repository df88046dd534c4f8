/** When the CLIs start the tracing SDK: only when OpenTelemetry's standard variables ask. */
import { TraceFlags, trace } from "@opentelemetry/api";
import { BasicTracerProvider } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { readEnvironment, tracingSettings } from "../../src/config/env.js";
import { startTracing, tracerProviderRegistered } from "../../src/observability/tracing.js";

const settingsOf = (env: NodeJS.ProcessEnv) => tracingSettings(readEnvironment(env), "svc");

describe("tracing settings", () => {
  it.each([
    [{}, false],
    [{ OTEL_TRACES_EXPORTER: "otlp" }, true],
    [{ OTEL_TRACES_EXPORTER: "console,otlp" }, true],
    [{ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" }, true],
    [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_SDK_DISABLED: "true" }, false],
  ])("%j → enabled %s", (env, enabled) => {
    expect(settingsOf(env).enabled).toBe(enabled);
  });

  it("names the service from OTEL_SERVICE_NAME, else the command's default", () => {
    expect(settingsOf({}).serviceName).toBe("svc");
    expect(settingsOf({ OTEL_SERVICE_NAME: "signup-worker" }).serviceName).toBe("signup-worker");
  });

  it("rejects a malformed endpoint, naming the variable", () => {
    expect(() => readEnvironment({ OTEL_EXPORTER_OTLP_ENDPOINT: "not a url" })).toThrow(
      /OTEL_EXPORTER_OTLP_ENDPOINT/,
    );
  });

  it("loads no SDK when not asked: no tracer provider is registered, spans record nothing", async () => {
    const tracing = await startTracing({ enabled: false, serviceName: "svc" });
    const span = trace.getTracer("svc").startSpan("probe");
    expect(span.isRecording()).toBe(false);
    expect(span.spanContext().traceFlags & TraceFlags.SAMPLED).toBe(0);
    span.end();
    await expect(tracing.shutdown()).resolves.toBeUndefined();
    expect(tracerProviderRegistered()).toBe(false);
  });

  it("tells the consumer whether a tracer provider is registered (it skips span work when none is)", () => {
    expect(tracerProviderRegistered()).toBe(false);
    try {
      expect(trace.setGlobalTracerProvider(new BasicTracerProvider())).toBe(true);
      expect(tracerProviderRegistered()).toBe(true);
    } finally {
      trace.disable();
    }
    expect(tracerProviderRegistered()).toBe(false);
  });
});
