/**
 * What can be checked of the consumer image without a Docker engine: the Dockerfile's COPY
 * sources exist and survive .dockerignore, and the production build — compiled JavaScript with
 * production dependencies only, laid out as the image lays it out — runs the consumer against a
 * real fauxqs, serves /healthz and /metrics, and exits 0 on SIGTERM.
 */
import { execFile, spawn } from "node:child_process";
import { cpSync, existsSync, readFileSync } from "node:fs";
import { mkdtemp, readdir, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import dockerignore from "@balena/dockerignore";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { toOutgoing } from "../../src/contract/registration.js";
import { generateRegistrations } from "../../src/producer/input.js";
import { Producer } from "../../src/producer/producer.js";
import { queueName } from "../../src/sqs/queue-pair.js";
import { testDigestKey } from "../support/digest-key.js";
import { queueDepth, startTestSqs, type TestSqs, waitFor } from "../support/local-sqs.js";

const run = promisify(execFile);
const dockerfile = readFileSync(join(projectRoot, "Dockerfile.consumer"), "utf8");

/** Sources of every COPY that reads the build context (not --from another stage). */
function contextCopies(): string[] {
  return dockerfile
    .split("\n")
    .filter((line) => /^COPY\s/.test(line) && !line.includes("--from="))
    .flatMap((line) =>
      line
        .replace(/^COPY\s+(--\S+\s+)*/, "")
        .trim()
        .split(/\s+/)
        .slice(0, -1),
    );
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

describe("Dockerfile.consumer and .dockerignore", () => {
  it("copies only paths that exist and that .dockerignore lets through", () => {
    const sources = contextCopies();
    expect(sources).toEqual([
      "package.json",
      "package-lock.json",
      "tsconfig.json",
      "tsconfig.build.json",
      "src",
      "infra-terraform/settings.json",
      "package.json",
      "package-lock.json",
      "package.json",
    ]);
    const filter = dockerignore.default().add(readFileSync(join(projectRoot, ".dockerignore"), "utf8"));
    for (const source of new Set(sources)) {
      expect(existsSync(join(projectRoot, source)), source).toBe(true);
      expect(filter.ignores(source), `${source} is excluded by .dockerignore`).toBe(false);
    }
    expect(filter.ignores("src/cli/consume.ts")).toBe(false);
    expect(filter.ignores("infra-terraform/main.tf"), "only the data file of infra-terraform/").toBe(true);
    for (const secret of [
      ".env",
      "node_modules/x",
      ".local-stack/outputs.json",
      "infra-terraform/terraform.tfstate",
      ".aws/credentials",
    ]) {
      expect(filter.ignores(secret), secret).toBe(true);
    }
  });

  it("runs as a non-root user behind an init, with a health check on the health port", () => {
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["\/usr\/bin\/tini", "--"\]$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n.*127\.0\.0\.1:9090\/healthz/m);
    expect(dockerfile).toMatch(/HEALTH_HOST=0\.0\.0\.0/);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24\.\d+\.\d+-slim$/m);
  });
});

describe("the production build, laid out as in the image", () => {
  let app: string;
  let sqs: TestSqs;

  beforeAll(async () => {
    app = join(await mkdtemp(join(tmpdir(), "image-")), "app");
    const tsc = join(projectRoot, "node_modules", "typescript", "bin", "tsc");
    await run(process.execPath, [
      tsc,
      "-p",
      join(projectRoot, "tsconfig.build.json"),
      "--outDir",
      join(app, "dist"),
    ]);
    for (const file of ["package.json", "package-lock.json"])
      cpSync(join(projectRoot, file), join(app, file));
    await run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], { cwd: app });
    sqs = await startTestSqs();
  }, 180_000);
  afterAll(() => sqs?.close());

  // 40 MB before tracing: the OpenTelemetry SDK and OTLP/HTTP exporter (loaded only when
  // OTEL_* ask) add ~16 MB, much of it sdk-logs/sdk-metrics that otlp-transformer depends on.
  it("holds production dependencies only, under 48 MB", async () => {
    const modules = join(app, "node_modules");
    for (const devOnly of ["tsx", "typescript", "vitest", "@pulumi", "fauxqs", "@faker-js", "@biomejs"]) {
      expect(existsSync(join(modules, devOnly)), devOnly).toBe(false);
    }
    const megabytes = (await sizeOf(modules)) / 1024 / 1024;
    console.info(`runtime node_modules: ${megabytes.toFixed(1)} MB`);
    expect(megabytes).toBeLessThan(48);
  });

  it("prints its help; package.json's bin is that file, runnable by itself (#!/usr/bin/env node)", async () => {
    const { bin } = JSON.parse(readFileSync(join(app, "package.json"), "utf8"));
    expect(bin["sqs-consume"]).toBe("dist/src/cli/consume.js");
    expect(readFileSync(join(app, bin["sqs-consume"]), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/);
    const { stdout } = await run(process.execPath, ["dist/src/cli/consume.js", "--help"], { cwd: app });
    expect(stdout).toContain("Usage: consume");
    expect(stdout).toContain("--health-port");
  });

  it("consumes from fauxqs, serves /healthz and /metrics, and exits 0 on SIGTERM", async () => {
    const registrations = (await generateRegistrations(30, 21)).map((r) =>
      toOutgoing(r, () => new Date(), testDigestKey),
    );
    await new Producer({ client: sqs.client, queueUrl: sqs.queueUrl }).send(registrations);
    const state = await mkdtemp(join(tmpdir(), "image-state-"));
    const child = spawn(process.execPath, ["dist/src/cli/consume.js"], {
      cwd: app,
      env: {
        PATH: process.env.PATH,
        SQS_QUEUE_URL: sqs.queueUrl,
        SQS_STATE_DIR: state,
        HEALTH_PORT: "0",
        LOG_LEVEL: "info",
        NODE_ENV: "production",
        METRICS_EMF: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    onTestFinished(() => {
      if (child.exitCode === null) child.kill("SIGKILL");
    });
    let logs = "";
    child.stderr.on("data", (chunk) => {
      logs += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await waitFor(() => /"url":"http:\/\/127\.0\.0\.1:\d+"/.test(logs), "the health server to start");
    const url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(logs)?.[1];
    await waitFor(async () => (await queueDepth(sqs.client, sqs.queueUrl)) === 0, "the queue drained");
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok", running: true });
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await waitFor(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return text.includes('consumer_messages_total{event="processed"} 30');
    }, "30 processed in /metrics");
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/sqs_requests_total\{operation="ReceiveMessage",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/sqs_requests_total\{operation="DeleteMessageBatch",outcome="ok"\} \d+/);
    expect(metrics).toContain("consumer_handler_duration_seconds_bucket");
    expect(metrics).toContain("consumer_message_age_seconds_count 30");
    expect(metrics).toContain("consumer_messages_in_flight 0");
    // Addresses are masked in logs: m***@example.com, never the whole address.
    expect(logs).toMatch(/"to":"[^"*]\*\*\*@example\.(com|org|net)"/);
    for (const r of registrations) expect(logs).not.toContain(r.email);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    // The EMF lines (the fleet's alarms read them): at least the final one at stop, the 30
    // processed counted once across them, the queue's name as the dimension.
    const emf = logs
      .split("\n")
      .filter((line) => line.startsWith('{"_aws":'))
      .map((line) => JSON.parse(line));
    expect(emf.length).toBeGreaterThanOrEqual(1);
    expect(emf.reduce((sum, line) => sum + line.MessagesProcessed, 0)).toBe(30);
    for (const line of emf) {
      expect(line).toMatchObject({
        QueueName: queueName(sqs.queueUrl),
        ConsumerPaused: 0,
        MessagesFailed: 0,
        MessagesDeadLettered: 0,
      });
      expect(line._aws.CloudWatchMetrics[0].Namespace).toBe("SqsMessaging/Consumer");
    }
  });
});
