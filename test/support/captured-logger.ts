/** A pino logger whose JSON lines a test can read back (what would have reached stdout). */
import { Writable } from "node:stream";
import { type LevelWithSilent, type Logger, pino } from "pino";

export function capturedLogger(level: LevelWithSilent = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  );
  return { logger, lines };
}
