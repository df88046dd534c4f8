/**
 * One driver per runtime: how the conformance suite starts it on a queue pair, stops it, kills it,
 * and what its model promises about the receives an environment fault spends. Adding a runtime is
 * adding a driver here; the cases in runtimes.test.ts stay as they are.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Mailer } from "../../src/consumer/mail/mailer.js";
import { buildRegistrationConsumer } from "../../src/consumer/registrations.js";
import type { SentEmailStore } from "../../src/consumer/store/contract.js";
import type { DigestKey } from "../../src/contract/digest.js";
import { environmentFaultDelaySeconds, type FaultBackoff } from "../../src/lambda/batch.js";
import { startLambdaRuntime } from "../../src/lambda/runtime.js";
import { EventSourceMapping } from "../../src/local/event-source-mapping.js";

/** What a case hands a runtime: the queue, the shared store, the mail transport, the key. */
export interface RuntimeSetup {
  readonly queueUrl: string;
  /** A new SQS client for this instance (the case can cut it off: a kill). */
  readonly newClient: () => SQSClient;
  readonly store: SentEmailStore;
  readonly mailer: Mailer;
  readonly digestKey: DigestKey;
  readonly sendTimeoutMs: number;
}

export interface RunningRuntime {
  /** Stops taking messages; what is under way settles. */
  stop(): Promise<void>;
  /**
   * Everything it owns dies at once: its SQS, store and mail calls fail (one under way loses its
   * answer), and its work is abandoned (no delete, no visibility change, no record written).
   */
  kill(): Promise<void>;
}

export interface RuntimeDriver {
  readonly name: string;
  start(setup: RuntimeSetup): Promise<RunningRuntime>;
  /**
   * The most receives a message may show once an environment fault of `outageMs` is over and the
   * message is done: the receive that met it, those its model spends during the outage, the one
   * that succeeds.
   */
  maxReceivesAfterOutage(outageMs: number): number;
}

/** The suite's backoff: seconds, not the production minutes, so each case ends in seconds. */
export const RETRY = { retryBaseDelaySeconds: 1, maxRetryDelaySeconds: 4 };
const FAULT_BACKOFF: FaultBackoff = { firstSeconds: 1, growth: 2, maxSeconds: 4 };

/** The function's timeout in the suite; the queue's visibility timeout must not be shorter. */
export const FUNCTION_TIMEOUT_MS = 7_000;

/** What a killed instance's calls meet: it is gone, so none of them is answered. */
function killedError(): Error {
  return Object.assign(new Error("killed: this process is gone"), { name: "Killed" });
}

/**
 * The instance's view of a shared object (the store, the mailer): once `kill` is set, a call fails
 * before it starts, and one under way loses its answer (its effect may have landed, as a dead
 * process's last request may have). The object itself stays usable by the next instance.
 */
export function killableCalls<T extends object>(target: T, killed: { readonly value: boolean }): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object) as unknown;
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (killed.value) throw killedError();
        const result = (value as (...a: unknown[]) => unknown).apply(object, args);
        if (!(result instanceof Promise)) return result;
        return result.then((answer) => {
          if (killed.value) throw killedError();
          return answer;
        });
      };
    },
  });
}

/** A client whose requests fail once `kill()` is called, as a dead process's would never arrive. */
export function killable(client: SQSClient): SQSClient & { kill(): void } {
  let killed = false;
  client.middlewareStack.add(
    (next) => async (args) => {
      if (killed) throw killedError();
      return next(args);
    },
    { step: "initialize", name: "conformanceKill" },
  );
  return Object.assign(client, {
    kill() {
      killed = true;
    },
  });
}

export const longRunningConsumer: RuntimeDriver = {
  name: "long-running consumer",
  async start(setup) {
    const client = killable(setup.newClient());
    // The process's own mail connection and store calls die with it, not only its SQS client.
    const killed = { value: false };
    const built = await buildRegistrationConsumer({
      client,
      queueUrl: setup.queueUrl,
      store: killableCalls(setup.store, killed),
      mailer: killableCalls(setup.mailer, killed),
      digestKey: setup.digestKey,
      sendTimeoutMs: setup.sendTimeoutMs,
      consumer: {
        concurrency: 10,
        waitTimeSeconds: 1,
        shutdownTimeoutMs: 500,
        breaker: { firstProbeMs: 100, maxProbeMs: 400 },
        ...RETRY,
      },
    });
    await built.consumer.start();
    return {
      async stop() {
        await built.consumer.stop();
        client.destroy();
      },
      async kill() {
        killed.value = true;
        client.kill();
        await built.consumer.stop();
        client.destroy();
      },
    };
  },
  // Paused, it holds the message that met the fault (no receive) and hands back the others once.
  maxReceivesAfterOutage: () => 2,
};

export const lambdaFunction: RuntimeDriver = {
  name: "Lambda handler",
  async start(setup) {
    const mappingClient = killable(setup.newClient());
    const functionClients: ReturnType<typeof killable>[] = [];
    // The function's containers die with the mapping: their mail and store calls as well.
    const killed = { value: false };
    const mapping = new EventSourceMapping({
      client: mappingClient,
      queueUrl: setup.queueUrl,
      batchSize: 10,
      // AWS refuses a batching window on a FIFO event source; the same driver serves both kinds.
      batchingWindowMs: 0,
      maximumConcurrency: 2,
      functionTimeoutMs: FUNCTION_TIMEOUT_MS,
      waitTimeSeconds: 1,
      openContainer: async () => {
        const client = killable(setup.newClient());
        functionClients.push(client);
        return startLambdaRuntime({
          client,
          queueUrl: setup.queueUrl,
          store: killableCalls(setup.store, killed),
          mailer: killableCalls(setup.mailer, killed),
          digestKey: setup.digestKey,
          sendTimeoutMs: setup.sendTimeoutMs,
          retry: RETRY,
          faultBackoff: FAULT_BACKOFF,
        });
      },
    });
    await mapping.start();
    const close = () => {
      mappingClient.destroy();
      for (const client of functionClients) client.destroy();
    };
    return {
      async stop() {
        await mapping.stop();
        close();
      },
      async kill() {
        killed.value = true;
        mappingClient.kill();
        for (const client of functionClients) client.kill();
        mapping.kill();
        close();
      },
    };
  },
  maxReceivesAfterOutage(outageMs) {
    // Each receive during the outage keeps the message away for the next delay: count the receives
    // whose start falls inside it, then the one that succeeds, and one for timers' jitter.
    let receives = 1;
    let elapsedMs = environmentFaultDelaySeconds(1, FAULT_BACKOFF) * 1000;
    while (elapsedMs < outageMs) {
      receives += 1;
      elapsedMs += environmentFaultDelaySeconds(receives, FAULT_BACKOFF) * 1000;
    }
    return receives + 2;
  },
};

export const drivers: readonly RuntimeDriver[] = [longRunningConsumer, lambdaFunction];
