/**
 * Counts the SQS requests a client makes, by operation and outcome. SQS bills per request, so
 * the summaries and the benchmark report requests per message from these counts, and the
 * consumer's Prometheus metrics count the same attempts by outcome. One middleware per client
 * feeds every listener.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";

export type RequestCounts = Record<string, number>;

/** `outcome` is "ok" or the error's name. */
export type RequestListener = (operation: string, outcome: string) => void;

const listeners = new WeakMap<SQSClient, Set<RequestListener>>();

/** Calls `listener` once per request attempt `client` makes, when the attempt settles. */
export function onRequest(client: SQSClient, listener: RequestListener): void {
  let set = listeners.get(client);
  if (!set) {
    const installed = new Set<RequestListener>();
    set = installed;
    listeners.set(client, installed);
    const notify = (operation: string, outcome: string) => {
      for (const each of installed) each(operation, outcome);
    };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? "Unknown").replace(/Command$/, "");
        try {
          const result = await next(args);
          notify(operation, "ok");
          return result;
        } catch (error) {
          notify(operation, (error as Error).name || "error");
          throw error;
        }
      },
      // The finalize step runs once per attempt, so retries count as the requests they are.
      { step: "finalizeRequest", name: "countSqsRequests" },
    );
  }
  set.add(listener);
}

/** Installs a counter on `client` and returns the live counts (one per attempt made). */
export function countRequests(client: SQSClient): RequestCounts {
  const counts: RequestCounts = {};
  onRequest(client, (operation) => {
    counts[operation] = (counts[operation] ?? 0) + 1;
  });
  return counts;
}

export function totalRequests(counts: RequestCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
