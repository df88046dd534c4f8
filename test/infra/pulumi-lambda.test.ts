/**
 * The consumer on Lambda under Pulumi's mocks: the function (arm64, nodejs22.x, index.handler,
 * the bundle's hash), its environment (the names src/config/env.ts reads), the event source
 * mapping (batch, window, partial batch responses, the concurrency the mail quota allows), its log
 * group and alarms; and every configuration the stack refuses, each in one sentence that names
 * the fix. The timing relations (function timeout, claim lease, visibility) are tied to
 * src/config/derived.ts here; Terraform's plan of the same stack: test/infra/parity.test.ts.
 */
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { bundleHash } from "../../infra-pulumi/lambda/consumer-function.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import {
  FUNCTION_VISIBILITY_FACTOR,
  functionConcurrency,
  functionSendRate,
  functionTimingProblems,
  leaseForSendTimeoutMs,
  minimumFunctionTimeoutSeconds,
  minimumFunctionVisibilitySeconds,
  recommendedFunctionVisibilitySeconds,
} from "../../src/config/derived.js";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../../src/config/limits.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";
import type { ConsumerEvents } from "../../src/consumer/runtime/types.js";
import { startEmfWriter } from "../../src/observability/emf.js";
import { writePlaceholderBundle } from "../support/lambda-bundle.js";
import { installMocks, registered, setStackConfig } from "../support/pulumi-mocks.js";
import { lambdaConfig, prodLikeConfig, smtpSecretArn } from "../support/service-config.js";

const resources = installMocks({});
const bundle = await writePlaceholderBundle();
const config = lambdaConfig(bundle);
const find = (name: string) => resources.find((r) => r.name === name);

describe("the consumer function's numbers (src/config/derived.ts)", () => {
  it("keeps concurrency × each invocation's rate within the account's quota, at Lambda's floor of 2 too", () => {
    for (const [quota, senders] of [
      [14, 4],
      [50, 10],
      [1, 1],
      [200, 5000],
    ] as const) {
      const concurrency = functionConcurrency(senders);
      expect(concurrency).toBeGreaterThanOrEqual(2);
      expect(concurrency).toBeLessThanOrEqual(1000);
      const rate = functionSendRate({ accountSendRatePerSecond: quota, maxConsumerTasks: senders });
      expect(concurrency * rate).toBeLessThanOrEqual(quota + 1e-9);
    }
  });

  it("the data file's function timeout outlasts the slowest batch and fits the queue's visibility", () => {
    const rate = functionSendRate(settings.email);
    const timing = {
      functionTimeoutSeconds: settings.lambda.functionTimeoutSeconds,
      visibilityTimeoutSeconds: settings.queues.visibilityTimeoutSeconds,
      batchingWindowSeconds: settings.lambda.functionBatchingWindowSeconds,
      batchSize: settings.lambda.functionBatchSize,
      sendRatePerSecond: rate,
    };
    expect(functionTimingProblems(timing)).toEqual([]);
    // Terraform's side of the same bound: infra-terraform/tests/lambda.tftest.hcl plans these
    // defaults at 40 s and refuses 39 s.
    expect(
      minimumFunctionTimeoutSeconds({
        batchSize: settings.lambda.functionBatchSize,
        sendRatePerSecond: rate,
      }),
    ).toBe(40);
    // The lease (the handler's claim) ends before the function's timeout: strictly shorter.
    expect(leaseForSendTimeoutMs(MAIL_SEND_TIMEOUT_DEFAULT_MS)).toBeLessThan(
      settings.lambda.functionTimeoutSeconds * 1000,
    );
  });

  it("counts the batching window in the visibility: a message waits the window, then its invocation", () => {
    const timing = {
      batchSize: 10,
      sendRatePerSecond: 3.5,
      functionTimeoutSeconds: 60,
      batchingWindowSeconds: 20,
    };
    expect(minimumFunctionVisibilitySeconds(timing)).toBe(80);
    expect(recommendedFunctionVisibilitySeconds(timing)).toBe(FUNCTION_VISIBILITY_FACTOR * 60 + 20);
    expect(functionTimingProblems({ ...timing, visibilityTimeoutSeconds: 80 })).toEqual([]);
    // At least the timeout (what AWS checks), yet inside the window + timeout: refused.
    expect(functionTimingProblems({ ...timing, visibilityTimeoutSeconds: 79 }).join()).toContain(
      `visibilityTimeoutSeconds 79 is shorter than functionBatchingWindowSeconds 20 + functionTimeoutSeconds 60`,
    );
    expect(functionTimingProblems({ ...timing, visibilityTimeoutSeconds: 79 }).join()).toContain(
      `raise it to ${FUNCTION_VISIBILITY_FACTOR * 60 + 20}`,
    );
  });

  it("fails when the timeout drifts below the slowest batch or above the visibility timeout", () => {
    const base = {
      visibilityTimeoutSeconds: 300,
      batchingWindowSeconds: 0,
      batchSize: 10,
      sendRatePerSecond: 3.5,
    };
    const minimum = minimumFunctionTimeoutSeconds(base);
    // 9 sends at 3.5/s (2.6 s), then 35 s of lease (30 s send timeout + 5 s) and 2 s to settle.
    expect(minimum).toBe(40);
    expect(functionTimingProblems({ ...base, functionTimeoutSeconds: minimum })).toEqual([]);
    expect(functionTimingProblems({ ...base, functionTimeoutSeconds: minimum - 1 }).join()).toContain(
      "shorter than the slowest batch",
    );
    expect(
      functionTimingProblems({ ...base, functionTimeoutSeconds: 301, visibilityTimeoutSeconds: 300 }).join(),
    ).toContain(`raise it to ${FUNCTION_VISIBILITY_FACTOR * 301}`);
    // The lease itself is inside every accepted timeout.
    expect(leaseForSendTimeoutMs(MAIL_SEND_TIMEOUT_DEFAULT_MS)).toBeLessThan(minimum * 1000);
  });
});

describe("a Lambda stack under the mocks", () => {
  beforeAll(async () => {
    setStackConfig(config);
    const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), "fn");
    expect(infra.fleet).toBeUndefined();
    await registered(
      infra.consumerFunction?.consumer.function,
      infra.consumerFunction?.consumer.eventSource,
      infra.consumerFunction?.consumer.rolePolicy,
      infra.consumerFunction?.alarms?.errors,
      infra.consumerFunction?.alarms?.throttles,
      infra.consumerFunction?.alarms?.deadLetters,
    );
  });

  it("declares the function the bundle is built for: arm64, nodejs22.x, index.handler, the zip's hash", () => {
    const fn = find("fn-function")?.inputs;
    expect(fn).toMatchObject({
      name: settings.lambda.functionName,
      runtime: "nodejs22.x",
      handler: "index.handler",
      architectures: ["arm64"],
      memorySize: settings.lambda.functionMemoryMib,
      timeout: settings.lambda.functionTimeoutSeconds,
      sourceCodeHash: bundleHash(bundle),
      loggingConfig: { logFormat: "Text", logGroup: `/aws/lambda/${settings.lambda.functionName}` },
    });
    expect(find("fn-function-logs")?.inputs.retentionInDays).toBe(settings.service.logRetentionDays);
  });

  it("gives it the environment src/config/env.ts reads, with the per-invocation rate", () => {
    const variables = find("fn-function")?.inputs.environment.variables;
    expect(variables).toEqual({
      LOG_LEVEL: "info",
      MAILER: "ses",
      MAIL_FROM: config.serviceMailFrom,
      MAIL_RATE_PER_SECOND: String(functionSendRate(settings.email)),
      METRICS_EMF: "1",
      REGISTRATION_DIGEST_KEY_SECRET_ARN: config.serviceDigestKeySecretArn,
      SENT_EMAILS_TABLE_NAME: settings.table.sentEmailsTableName,
      SENT_EMAIL_STORE: "dynamodb",
      SQS_QUEUE_URL: expect.stringContaining(`/${settings.queues.queueName}`),
    });
  });

  it("feeds it from the queue in the settings' batches, with partial batch responses, within the quota", () => {
    const mapping = find("fn-event-source")?.inputs;
    expect(mapping).toMatchObject({
      eventSourceArn: expect.stringContaining(`:${settings.queues.queueName}`),
      functionName: expect.stringContaining(`:function:${settings.lambda.functionName}`),
      batchSize: settings.lambda.functionBatchSize,
      maximumBatchingWindowInSeconds: settings.lambda.functionBatchingWindowSeconds,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: functionConcurrency(settings.email.maxConsumerTasks) },
    });
    const rate = Number(find("fn-function")?.inputs.environment.variables.MAIL_RATE_PER_SECOND);
    expect(mapping.scalingConfig.maximumConcurrency * rate).toBeLessThanOrEqual(
      settings.email.accountSendRatePerSecond,
    );
  });

  it("alarms on errors, throttles and dead letters, on one topic mailed to on-call", () => {
    const topic = find("fn-alarm-topic");
    expect(topic?.inputs.name).toBe(`${settings.lambda.functionName}-alarms`);
    expect(find("fn-alarm-email")?.inputs).toMatchObject({ endpoint: config.alarmEmail });
    const errors = find("fn-errors-alarm")?.inputs;
    expect(errors).toMatchObject({
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: settings.lambda.functionName },
    });
    expect(find("fn-throttles-alarm")?.inputs.metricName).toBe("Throttles");
    expect(find("fn-dlq-alarm")?.inputs).toMatchObject({
      name: `${settings.lambda.functionName}-dead-letters`,
      dimensions: { QueueName: settings.queues.deadLetterQueueName },
    });
    expect(errors.alarmActions).toEqual([topic?.outputs.arn]);
    // Each description links a section of the runbooks (a heading of that name).
    const headings = [
      ...readFileSync(join(projectRoot, "docs", "runbooks.md"), "utf8").matchAll(/^## ([a-z-]+)$/gm),
    ].map((m) => m[1]);
    for (const alarm of [
      "fn-errors-alarm",
      "fn-throttles-alarm",
      "fn-function-paused-alarm",
      "fn-dlq-alarm",
    ]) {
      const anchor = /Runbook: docs\/runbooks\.md#([a-z-]+)$/.exec(find(alarm)?.inputs.alarmDescription)?.[1];
      expect(headings, alarm).toContain(anchor);
    }
  });

  it("alarms when invocations meet an environment fault, on the gauge the handler's EMF line carries", () => {
    const paused = find("fn-function-paused-alarm")?.inputs;
    expect(paused).toMatchObject({
      name: `${settings.lambda.functionName}-paused`,
      metricName: "ConsumerPaused",
      namespace: "SqsMessaging/Consumer",
      dimensions: { QueueName: settings.queues.queueName },
      evaluationPeriods: 15,
      datapointsToAlarm: 3,
      threshold: 1,
    });
    // What the handler writes per invocation (src/lambda/runtime.ts through the EMF writer).
    const lines: string[] = [];
    const writer = startEmfWriter({
      source: Object.assign(new EventEmitter<ConsumerEvents>(), { paused: true }),
      queueName: settings.queues.queueName,
      stream: { write: (line: string) => lines.push(line) > 0 },
    });
    writer.stop();
    const line = JSON.parse(lines[0] ?? "{}");
    const [directive] = line._aws.CloudWatchMetrics;
    expect(directive.Namespace).toBe(paused.namespace);
    expect(directive.Dimensions).toEqual([Object.keys(paused.dimensions)]);
    expect(line[paused.metricName]).toBeGreaterThanOrEqual(paused.threshold);
    expect(line[Object.keys(paused.dimensions)[0] ?? ""]).toBe(paused.dimensions.QueueName);
  });

  it("declares nothing of the Fargate service", () => {
    expect(
      resources.filter((r) => r.name.startsWith("fn-") && /aws:(ecs|ecr|appautoscaling)/.test(r.type)),
    ).toEqual([]);
  });
});

describe("the function's configuration checks", () => {
  it.each([
    [{ createService: true }, "createService and sqs-messaging:createFunction are both true"],
    [{ endpoint: "http://127.0.0.1:4566" }, "the emulator has no Lambda"],
    [{ createSentEmailsTable: false }, "createFunction needs the shared sent-email table"],
    [{ serviceImage: prodLikeConfig.serviceImage }, "is for the Fargate service, not the function"],
    [{ serviceDigestKeySecretArn: undefined }, "every invocation must key digests"],
    [
      { serviceMailer: "smtp", serviceSesIdentityArn: undefined, serviceMailSecretArn: smtpSecretArn },
      "is an SSM parameter: the function reads its secrets from Secrets Manager",
    ],
    [{ functionBundlePath: "/nowhere/function.zip" }, "run `npm run build:lambda` first"],
    [{ functionTimeoutSeconds: 20 }, "functionTimeoutSeconds 20 is shorter than the slowest batch"],
    [
      { functionTimeoutSeconds: 120 },
      "visibilityTimeoutSeconds 60 is shorter than functionBatchingWindowSeconds 0 + functionTimeoutSeconds 120",
    ],
    [
      { functionTimeoutSeconds: 60, functionBatchingWindowSeconds: 1 },
      "visibilityTimeoutSeconds 60 is shorter than functionBatchingWindowSeconds 1 + functionTimeoutSeconds 60",
    ],
    [
      {
        fifo: true,
        queueName: "signups.fifo",
        deadLetterQueueName: "signups-dlq.fifo",
        visibilityTimeoutSeconds: 360,
        functionBatchingWindowSeconds: 1,
      },
      "sqs-messaging:functionBatchingWindowSeconds 1 is set on a FIFO queue (sqs-messaging:fifo true), and AWS refuses a batching window for FIFO queues: set it to 0.",
    ],
    [{ functionBatchSize: 100 }, "functionBatchSize 100 needs a batching window"],
    [
      {
        fifo: true,
        queueName: "signups.fifo",
        deadLetterQueueName: "signups-dlq.fifo",
        functionBatchSize: 20,
        functionBatchingWindowSeconds: 5,
      },
      "the most AWS hands a function from a FIFO queue",
    ],
  ])("rejects %j", (change, message) => {
    const stack: Record<string, unknown> = { ...config, ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete stack[key];
    setStackConfig(stack);
    expect(() => readInfraConfig(new pulumi.Config("sqs-messaging"))).toThrow(message);
  });

  it("accepts a FIFO queue when the window is 0", () => {
    setStackConfig({
      ...config,
      fifo: true,
      queueName: "signups.fifo",
      deadLetterQueueName: "signups-dlq.fifo",
      functionBatchingWindowSeconds: 0,
    });
    expect(
      readInfraConfig(new pulumi.Config("sqs-messaging")).consumerFunction?.functionBatchingWindowSeconds,
    ).toBe(0);
  });

  it("accepts the consumer's keys with the function and no service", () => {
    setStackConfig(config);
    const read = readInfraConfig(new pulumi.Config("sqs-messaging"));
    expect(read.service).toBeUndefined();
    expect(read.consumerFunction?.maximumConcurrency).toBe(
      functionConcurrency(settings.email.maxConsumerTasks),
    );
  });
});
