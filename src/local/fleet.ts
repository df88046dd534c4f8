/**
 * `npm run demo -- --consumers N`: a fleet on one machine. N consumer processes
 * (the real consume CLI) share the DynamoDB store on a local dynalite; every registration is sent
 * twice, as a producer retrying after a lost answer would; consumers are killed (SIGKILL) mid-drain
 * and restarted. The result is counted from the outbox and the queues, never from the consumers'
 * own statistics: an email is its `.eml` file; the journal has a line per write, so a second write
 * for one id shows as a duplicate.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { childEnvironment } from "../config/env.js";
import { localOutputsPath } from "../config/paths.js";
import { defaultQueueSettings } from "../config/queue-settings.js";
import { ALREADY_IN_OUTBOX, JOURNAL } from "../consumer/mail/outbox.js";
import { DigestKey } from "../contract/digest.js";
import { toOutgoing } from "../contract/registration.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { generateRegistrations } from "../producer/input.js";
import { Producer } from "../producer/producer.js";
import { createSqsClient } from "../sqs/client.js";
import { queueCounts, total } from "../sqs/queue-counts.js";
import { startLocalStack } from "./stack.js";

export interface FleetOptions {
  readonly count: number;
  readonly consumers: number;
  /** The fleet's state folder (outputs, outbox); emptied first. */
  readonly stateDir: string;
  /** Consumers killed with SIGKILL mid-drain and restarted. Default: all but one, at least one. */
  readonly kills?: number;
  /** Simulated mail latency per email, ms: keeps sends in flight when the kills land. Default 5. */
  readonly sendLatencyMs?: number;
  /** Gives up after this long. Default 120 s. */
  readonly timeoutMs?: number;
  readonly logger?: Logger;
}

export interface FleetSummary {
  registrations: number;
  /** Messages sent to the queue: every registration twice. */
  messagesSent: number;
  consumers: number;
  kills: number;
  /** Emails in the outbox (`.eml` files). */
  emailsSent: number;
  /** Writes beyond the first for a registration (journal lines). */
  duplicateEmails: number;
  /**
   * Deliveries that found their email written already: a consumer killed between writing it and
   * recording it in the store. An SMTP transport would have sent these twice (docs/pipeline.md).
   */
  alreadyInOutbox: number;
  /** Registrations with no email. */
  lost: number;
  leftInQueue: number;
  leftInDeadLetterQueue: number;
  seconds: number;
  outbox: string;
}

/** The consume CLI next to this module: the .ts source under tsx, the .js build otherwise. */
function consumeCommand(): { file: string; args: string[] } {
  const extension = extname(import.meta.filename);
  const cli = fileURLToPath(new URL(`../cli/consume${extension}`, import.meta.url));
  return { file: process.execPath, args: extension === ".ts" ? ["--import", "tsx", cli] : [cli] };
}

/** The registration ids with an email in the outbox. */
async function emails(outbox: string): Promise<Set<string>> {
  const names = await readdir(outbox).catch(() => [] as string[]);
  return new Set(names.filter((n) => n.endsWith(".eml")).map((n) => n.slice(0, -".eml".length)));
}

/** The journal's lines: the ids written, and the ids found written already. */
async function journal(outbox: string): Promise<{ written: string[]; already: string[] }> {
  const text = await readFile(join(outbox, JOURNAL), "utf8").catch(() => "");
  const lines = text
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split("\t"));
  return {
    written: lines.filter((l) => l[2] !== ALREADY_IN_OUTBOX).map((l) => l[0] ?? ""),
    already: lines.filter((l) => l[2] === ALREADY_IN_OUTBOX).map((l) => l[0] ?? ""),
  };
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Polls a condition every 50 ms (the journal and the queues have no change events). */
async function until(condition: () => Promise<boolean>, deadline: number): Promise<boolean> {
  while (!(await condition())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

export async function runFleet(options: FleetOptions): Promise<FleetSummary> {
  const logger = options.logger ?? silentLogger;
  const started = performance.now();
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  const kills = options.kills ?? Math.max(1, options.consumers - 1);
  await rm(options.stateDir, { recursive: true, force: true });
  await mkdir(options.stateDir, { recursive: true });
  const outbox = join(options.stateDir, "outbox");
  // Short visibility: a killed consumer's messages come back within seconds.
  const stack = await startLocalStack({
    port: 0,
    settings: { ...defaultQueueSettings, visibilityTimeoutSeconds: 5 },
    dynamoDb: true,
    outputsPath: localOutputsPath(options.stateDir),
  });
  const client = createSqsClient(stack.outputs);
  const children = new Set<ChildProcess>();
  // One key for the whole fleet, as REGISTRATION_DIGEST_KEY would be in production.
  const secret = randomBytes(32).toString("hex");
  const { file, args } = consumeCommand();
  const startConsumer = (): ChildProcess => {
    const child = spawn(
      file,
      [
        ...args,
        ...["--state-dir", options.stateDir, "--wait-time", "1", "--concurrency", "10"],
        ...["--send-latency", String(options.sendLatencyMs ?? 5), "--send-timeout", "2000", "--json"],
      ],
      {
        env: childEnvironment({ REGISTRATION_DIGEST_KEY: secret, LOG_LEVEL: "error" }),
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    child.stderr?.on("data", (chunk: Buffer) => logger.debug({ pid: child.pid }, chunk.toString().trim()));
    children.add(child);
    child.once("exit", () => children.delete(child));
    return child;
  };
  try {
    const key = new DigestKey(secret);
    const registrations = (await generateRegistrations(options.count)).map((r) =>
      toOutgoing(r, () => new Date(), key),
    );
    const producer = new Producer({ client, queueUrl: stack.outputs.queueUrl, logger });
    // Every registration twice: the second copy is a producer's retry after a lost answer.
    const first = await producer.send(registrations);
    const second = await producer.send(registrations);
    const fleet = Array.from({ length: options.consumers }, startConsumer);
    // Kill mid-drain: one consumer each time another tenth of the emails is out.
    for (let k = 0; k < kills; k += 1) {
      const target = Math.ceil((options.count * (k + 1)) / (kills + 2));
      await until(async () => (await emails(outbox)).size >= target, deadline);
      const victim = fleet[k % fleet.length];
      if (victim && victim.exitCode === null) {
        victim.kill("SIGKILL");
        await exited(victim);
        logger.info({ pid: victim.pid }, "consumer killed (SIGKILL); restarting it");
        fleet[k % fleet.length] = startConsumer();
      }
    }
    await until(
      async () =>
        (await emails(outbox)).size >= options.count &&
        total(await queueCounts(client, stack.outputs.queueUrl)) === 0,
      deadline,
    );
    for (const child of children) child.kill("SIGTERM");
    await Promise.all([...children].map(exited));
    const { written, already } = await journal(outbox);
    const delivered = await emails(outbox);
    return {
      registrations: options.count,
      messagesSent: first.sent + second.sent,
      consumers: options.consumers,
      kills,
      emailsSent: delivered.size,
      duplicateEmails: written.length - new Set(written).size,
      alreadyInOutbox: already.length,
      lost: registrations.filter((r) => !delivered.has(r.id)).length,
      leftInQueue: total(await queueCounts(client, stack.outputs.queueUrl)),
      leftInDeadLetterQueue: total(await queueCounts(client, stack.outputs.deadLetterQueueUrl)),
      seconds: Number(((performance.now() - started) / 1000).toFixed(3)),
      outbox,
    };
  } finally {
    for (const child of children) child.kill("SIGKILL");
    client.destroy();
    await stack.stop();
  }
}
