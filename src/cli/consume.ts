#!/usr/bin/env node
/**
 * `npm run consume -- …` (or, under a supervisor, `node dist/src/cli/consume.js`): long-polls the queue and sends a welcome email for each registration.
 * SIGINT/SIGTERM: stop receiving, finish what is in flight, flush deletes, exit 0, all within the
 * shutdown deadline (`--shutdown-timeout`) plus about a second, whatever the handlers do.
 * The application is src/consumer/app.ts; this file parses flags, wires signals and prints.
 */
import { readEnvironment } from "../config/env.js";
import { projectRoot } from "../config/paths.js";
import { startConsumerApp, summaryLine } from "../consumer/app.js";
import { createLogger } from "../log/logger.js";
import { withTracing } from "../observability/tracing.js";
import { loadConsumerConfig } from "../stack/consumer-config.js";
import { CONSUMER_SETTINGS, parseConsumeFlags } from "./consume-flags.js";
import { printSummary, runCli, warn } from "./shared.js";

async function main(argv: readonly string[]): Promise<number> {
  const env = readEnvironment();
  const { flags, json } = parseConsumeFlags(argv, env);
  const config = await loadConsumerConfig(flags, env, CONSUMER_SETTINGS, projectRoot);
  const logger = createLogger({ level: config.observability.logLevel, name: "consumer" });
  // `on`, not `once`: Ctrl-C under `npm run` delivers SIGINT twice (the terminal signals the
  // group, and npm 11 forwards its own copy to the child); a second signal must not kill the
  // graceful stop, which is bounded by the shutdown deadline anyway.
  const onStoppable = (stop: () => void) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, "stopping: finishing messages in flight");
      stop();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  };
  const app = await startConsumerApp(config, { logger, warn, onStoppable });
  printSummary({ json }, await app.finished, summaryLine);
  return 0;
}

await runCli(() => withTracing("sqs-messaging-consumer", () => main(process.argv.slice(2))));
// Handlers abandoned at the shutdown deadline may still hold timers or sockets; the consumer has
// settled everything it will settle, so exit now rather than when they finish (
// the deadline is an exit, not a log line). stdout and the logger write synchronously.
process.exit();
