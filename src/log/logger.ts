/**
 * The one logger: pino, JSON lines for machines, readable lines on a terminal. Library code
 * logs through an injected `Logger`; addresses are logged only through `maskEmail`.
 */
import { pino } from "pino";
import pretty from "pino-pretty";

export type Logger = pino.Logger;

export const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof logLevels)[number];

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Readable output; defaults to whether stderr is a terminal. */
  readonly pretty?: boolean;
  readonly name?: string;
  /** Where JSON lines go instead of stderr (an application run in process, a test). */
  readonly destination?: pino.DestinationStream;
}

/** Logs go to stderr so that stdout stays free for `--json` summaries. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const base = { level: options.level ?? "info", ...(options.name ? { name: options.name } : {}) };
  if (options.destination) return pino(base, options.destination);
  const readable = options.pretty ?? process.stderr.isTTY === true;
  if (readable) {
    return pino(base, pretty({ destination: 2, sync: true, ignore: "pid,hostname" }));
  }
  return pino(base, pino.destination({ dest: 2, sync: true }));
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: "silent" });
