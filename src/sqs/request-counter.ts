/**
 * Counts the SQS requests a client makes, by operation. SQS bills per request, so the summaries
 * and the benchmark report requests per message from these counts.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";

export type RequestCounts = Record<string, number>;

/** Installs a counter on `client` and returns the live counts (one per attempt made). */
export function countRequests(client: SQSClient): RequestCounts {
  const counts: RequestCounts = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? "Unknown").replace(/Command$/, "");
      counts[name] = (counts[name] ?? 0) + 1;
      return next(args);
    },
    // The finalize step runs once per attempt, so retries count as the requests they are.
    { step: "finalizeRequest", name: "countSqsRequests", override: true },
  );
  return counts;
}

export function totalRequests(counts: RequestCounts): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}
