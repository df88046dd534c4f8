/**
 * Tracing with OpenTelemetry's messaging semantic conventions. The runtime code depends on
 * `@opentelemetry/api` only: with no SDK registered every tracer is a no-op and the default
 * propagator injects nothing, so a message carries no extra attribute. The consumer asks once
 * (`tracerProviderRegistered`, when it is built) and then skips span, context and attribute work
 * entirely: a no-op span still costs objects and a context switch per message.
 * The SDK and the OTLP exporter are loaded (dynamic import) only when the standard OTEL_*
 * variables ask for them (`startTracing`, called by the CLIs).
 *
 * - The producer: one `send <queue>` span (CLIENT) per batch request, and per message a `create
 *   <queue>` span (PRODUCER) whose context travels in the message's attributes (W3C
 *   `traceparent`/`tracestate`), linked from the send span.
 * - The consumer: `receive`, `delete`, `change_visibility` batches as CLIENT spans, and one
 *   `process <queue>` span (CONSUMER) per message, linked to the producer's create context.
 *
 * Attributes are ids, counts and queue names: never a body, a name or an address.
 */

import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import {
  type Attributes,
  type Context,
  context,
  type Link,
  ProxyTracerProvider,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type TextMapSetter,
  trace,
} from "@opentelemetry/api";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { readEnvironment, type TracingSettings, tracingSettings } from "../config/env.js";
import { createLogger, type Logger, silentLogger } from "../log/logger.js";

/**
 * Semantic-convention names (incubating in @opentelemetry/semantic-conventions 1.45, copied as its
 * README advises for incubating names; test/integration/tracing.test.ts compares them with the
 * package).
 */
export const SEMCONV = {
  system: "messaging.system",
  systemAwsSqs: "aws_sqs",
  operationName: "messaging.operation.name",
  operationType: "messaging.operation.type",
  destinationName: "messaging.destination.name",
  messageId: "messaging.message.id",
  batchMessageCount: "messaging.batch.message_count",
} as const;

/** SQS accepts at most 10 message attributes (SendMessage, "Message attributes"). */
export const MAX_MESSAGE_ATTRIBUTES = 10;

const tracer = trace.getTracer("sqs-messaging");

/** What an unset global tracer provider delegates to (the API's shared no-op provider). */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * Whether an SDK has registered a tracer provider: without one every span is a no-op, and code on
 * a per-message path can skip the span, its context and its attributes. A provider from another
 * copy of the API is taken as registered (tracing on is the safe guess).
 */
export function tracerProviderRegistered(): boolean {
  const provider = trace.getTracerProvider();
  return !(provider instanceof ProxyTracerProvider) || provider.getDelegate() !== NOOP_TRACER_PROVIDER;
}

/** The queue's name: the last segment of its URL (what semconv calls the destination). */
function destinationOf(queueUrl: string): string {
  return queueUrl.slice(queueUrl.lastIndexOf("/") + 1);
}

function messagingAttributes(
  queueUrl: string,
  operationName: string,
  operationType: string,
  extra: Attributes = {},
): Attributes {
  return {
    [SEMCONV.system]: SEMCONV.systemAwsSqs,
    [SEMCONV.operationName]: operationName,
    [SEMCONV.operationType]: operationType,
    [SEMCONV.destinationName]: destinationOf(queueUrl),
    ...extra,
  };
}

/** Runs `work` in `span`, records a thrown error's class (not its text: it may quote a body). */
async function inSpan<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(context.active(), span), work);
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error)?.name ?? "Error" });
    throw error;
  } finally {
    span.end();
  }
}

/** A batch request as a CLIENT span: receive, delete, change_visibility. */
export function clientSpan<T>(
  queueUrl: string,
  operationName: "receive" | "delete" | "change_visibility",
  batchSize: number,
  work: () => Promise<T>,
): Promise<T> {
  const type = operationName === "receive" ? "receive" : "settle";
  const span = tracer.startSpan(`${operationName} ${destinationOf(queueUrl)}`, {
    kind: SpanKind.CLIENT,
    attributes: messagingAttributes(queueUrl, operationName, type, {
      [SEMCONV.batchMessageCount]: batchSize,
    }),
  });
  return inSpan(span, work);
}

const setter: TextMapSetter<Record<string, MessageAttributeValue>> = {
  set: (carrier, key, value) => {
    carrier[key] = { DataType: "String", StringValue: value };
  },
};

const getter: TextMapGetter<Record<string, MessageAttributeValue> | undefined> = {
  keys: (carrier) => Object.keys(carrier ?? {}),
  get: (carrier, key) => carrier?.[key]?.StringValue,
};

/**
 * The trace attributes to add to a message that has `existing` attributes already: the context of
 * a new `create` span (ended at once: creating is instant). None when no propagator is
 * registered; none, with a debug line, when they would take the message past SQS's 10.
 */
export function createContextAttributes(
  queueUrl: string,
  existing: number,
  logger: Logger = silentLogger,
): { attributes: Record<string, MessageAttributeValue>; link?: Link } {
  const span = tracer.startSpan(`create ${destinationOf(queueUrl)}`, {
    kind: SpanKind.PRODUCER,
    attributes: messagingAttributes(queueUrl, "create", "create"),
  });
  span.end();
  const carrier: Record<string, MessageAttributeValue> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier, setter);
  const keys = Object.keys(carrier);
  if (keys.length === 0) return { attributes: {} };
  if (existing + keys.length > MAX_MESSAGE_ATTRIBUTES) {
    // tracestate is optional: keep traceparent alone if that fits.
    if (carrier.tracestate && existing + keys.length - 1 <= MAX_MESSAGE_ATTRIBUTES) {
      delete carrier.tracestate;
    } else {
      logger.debug(
        { attributes: existing },
        "message has no room for the trace context (SQS allows 10 attributes); not injected",
      );
      return { attributes: {}, link: { context: span.spanContext() } };
    }
  }
  return { attributes: carrier, link: { context: span.spanContext() } };
}

/** What SQS counts of message attributes in a message's size: name, type and value, in bytes. */
export function attributeBytes(attributes: Record<string, MessageAttributeValue>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value.DataType ?? "");
    bytes += Buffer.byteLength(value.StringValue ?? "");
  }
  return bytes;
}

/** The producer's `send` span over one batch request, linked to each message's create context. */
export function sendSpan<T>(
  queueUrl: string,
  links: readonly Link[],
  batchSize: number,
  work: () => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(`send ${destinationOf(queueUrl)}`, {
    kind: SpanKind.CLIENT,
    links: [...links],
    attributes: messagingAttributes(queueUrl, "send", "send", { [SEMCONV.batchMessageCount]: batchSize }),
  });
  return inSpan(span, work);
}

/** The context a producer injected into `message`, or the root context when there is none. */
export function extractCreateContext(message: Message): Context {
  return propagation.extract(ROOT_CONTEXT, message.MessageAttributes, getter);
}

/** A link to the create context a producer injected into `message`; none when it has none. */
export function createLink(message: Message): Link | undefined {
  const created = trace.getSpanContext(extractCreateContext(message));
  return created ? { context: created } : undefined;
}

/**
 * An operator command over a queue (a redrive) as one INTERNAL span around its batch spans;
 * `work` may record its outcome (counts only) on the span.
 */
export function commandSpan<T>(
  name: string,
  queueUrl: string,
  work: (record: (attributes: Attributes) => void) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(`${name} ${destinationOf(queueUrl)}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      [SEMCONV.system]: SEMCONV.systemAwsSqs,
      [SEMCONV.destinationName]: destinationOf(queueUrl),
    },
  });
  return inSpan(span, () => work((attributes) => span.setAttributes(attributes)));
}

/** One message's `process` span (CONSUMER), linked to the producer's create context. */
export function processSpan<T>(queueUrl: string, message: Message, work: () => Promise<T>): Promise<T> {
  const created = trace.getSpanContext(extractCreateContext(message));
  const span = tracer.startSpan(
    `process ${destinationOf(queueUrl)}`,
    {
      kind: SpanKind.CONSUMER,
      ...(created ? { links: [{ context: created }] } : {}),
      attributes: messagingAttributes(queueUrl, "process", "process", {
        ...(message.MessageId ? { [SEMCONV.messageId]: message.MessageId } : {}),
      }),
    },
    ROOT_CONTEXT,
  );
  return inSpan(span, work);
}

/** A started SDK: flush and stop it before the process exits. */
export interface Tracing {
  /** Flushes and stops; never rejects (a failure is the one warning), and ends in bounded time. */
  shutdown(): Promise<void>;
}

const noTracing: Tracing = { shutdown: async () => {} };

/**
 * Longest the final flush may hold the process after the run: a collector that accepts and never
 * answers must not turn a stopped consumer into a hung one (the exporter's own timeout,
 * OTEL_EXPORTER_OTLP_TIMEOUT, defaults to 10 s; a stop deadline is 25 s).
 */
export const TRACING_SHUTDOWN_TIMEOUT_MS = 5_000;

/**
 * Tracing is observability: it never changes a run's outcome. The first failed export (or flush)
 * is one warning line, with the error's class and text but no stack; the rest are dropped
 * silently, spans included. Never a reason to fail or to print a stack trace.
 */
function oneWarning(logger: Logger): (error: unknown) => void {
  let warned = false;
  return (error) => {
    if (warned) return;
    warned = true;
    const { name = "Error", message = String(error) } = (error ?? {}) as { name?: string; message?: string };
    logger.warn(
      { error: `${name}: ${message}` },
      "traces could not be exported to the OTLP collector; spans are dropped, the run is unaffected",
    );
  };
}

/**
 * Starts the OpenTelemetry SDK with an OTLP/HTTP exporter when the environment asks for it
 * (`OTEL_TRACES_EXPORTER=otlp`, or an OTLP endpoint with no exporter named), else nothing is
 * loaded. The exporter reads the rest of OTEL_EXPORTER_OTLP_* itself.
 */
export async function startTracing(
  settings: TracingSettings,
  logger: Logger = silentLogger,
): Promise<Tracing> {
  if (!settings.enabled) return noTracing;
  const [
    { NodeTracerProvider, BatchSpanProcessor },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    { ExportResultCode, setGlobalErrorHandler },
  ] = await Promise.all([
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
    import("@opentelemetry/core"),
  ]);
  const warn = oneWarning(logger);
  // The SDK reports its own failures (a timed-out flush, a processor's error) here.
  setGlobalErrorHandler(warn);
  const otlp = new OTLPTraceExporter();
  // The exporter, seen from the processor: each failed batch reaches the one warning.
  const exporter: SpanExporter = {
    export: (spans, done) =>
      otlp.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS) warn(result.error ?? new Error("export failed"));
        done(result);
      }),
    shutdown: () => otlp.shutdown(),
    forceFlush: () => otlp.forceFlush(),
  };
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": settings.serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  provider.register();
  return {
    shutdown: async () => {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          warn(new Error(`the final flush took longer than ${TRACING_SHUTDOWN_TIMEOUT_MS} ms`));
          resolve();
        }, TRACING_SHUTDOWN_TIMEOUT_MS);
        timer.unref();
      });
      try {
        await Promise.race([provider.shutdown().catch(warn), deadline]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/**
 * Runs a CLI's main function with the SDK started (when the environment asks), then flushes it.
 * The result (or the error) is the run's: the flush, in `finally`, cannot replace it.
 */
export async function withTracing<T>(serviceName: string, work: () => Promise<T>): Promise<T> {
  const env = readEnvironment();
  const logger = createLogger({ level: env.LOG_LEVEL ?? "info", name: "tracing" });
  const tracing = await startTracing(tracingSettings(env, serviceName), logger);
  try {
    return await work();
  } finally {
    await tracing.shutdown();
  }
}
