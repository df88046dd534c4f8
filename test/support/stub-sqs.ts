/**
 * A stub SQS client for unit tests: answers each command by its name from a table of handlers
 * and records every command's input, so a test can check the exact requests made.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";

export type StubHandler = (input: Record<string, unknown>) => unknown;

export interface StubSqs {
  readonly client: SQSClient;
  readonly calls: { name: string; input: Record<string, unknown> }[];
  named(name: string): Record<string, unknown>[];
}

export function stubSqs(handlers: Record<string, StubHandler>): StubSqs {
  const calls: StubSqs["calls"] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      const name = command.constructor.name.replace(/Command$/, "");
      calls.push({ name, input: command.input });
      const handler = handlers[name];
      if (!handler) throw new Error(`stub SQS: no handler for ${name}`);
      return handler(command.input);
    },
    destroy() {},
  } as unknown as SQSClient;
  return { client, calls, named: (name) => calls.filter((c) => c.name === name).map((c) => c.input) };
}

/** A clock whose sleep advances time at once and records each wait; its timers never fire. */
export function fakeClock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    setTimeout: () => ({ cancel() {} }),
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}
