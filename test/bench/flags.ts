/**
 * `npm run bench`'s flags, checked before anything starts (one line and exit 2 on a bad one, as
 * for every command). Pure, so a unit test can check them (test/unit/bench-flags.test.ts).
 */
import { join } from "node:path";
import { InvalidArgumentError } from "commander";
import { newCommand, parseFlags, wholeNumber } from "../../src/cli/shared.js";
import { TIMER_MAX_SECONDS } from "../../src/config/limits.js";
import { defaultStateDir } from "../../src/config/paths.js";

/** Messages per run: each run preloads them from an array held in memory. */
const COUNT_MAX = 1_000_000;

/** Groups that run when `--groups` is not given. */
export const DEFAULT_GROUPS = [
  "producer",
  "drain",
  "20ms",
  "mixed",
  "c1000",
  "trickle-20",
  "trickle-200",
  "idle",
];

/** Runs only when named in `--groups`: it takes `--soak-minutes` (30 by default) on its own. */
export const SOAK = "soak";

export const GROUPS = [...DEFAULT_GROUPS, SOAK];

/**
 * The soak's verdict reads the samples after minute 2 (start-up and the first full GC behind it);
 * three minutes give it three samples (every 30 s). A day at most.
 */
export const SOAK_MINUTES_MIN = 3;
export const SOAK_MINUTES_MAX = 24 * 60;

function groupList(value: string): string[] {
  const groups = value.split(",");
  const unknown = groups.filter((group) => !GROUPS.includes(group));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`--groups takes ${GROUPS.join(", ")}; not ${unknown.join(", ")}.`);
  }
  return groups;
}

export interface BenchFlags {
  readonly count: number;
  readonly runs: number;
  readonly idleSeconds: number;
  readonly trickleSeconds: number;
  readonly soakMinutes: number;
  readonly groups?: readonly string[];
  readonly out: string;
}

export function benchProgram() {
  return newCommand("bench")
    .option("--count <n>", "messages per run", wholeNumber("--count", 1, COUNT_MAX), 5000)
    .option("--runs <n>", "runs per variant (medians)", wholeNumber("--runs"), 3)
    .option(
      "--idle-seconds <n>",
      "how long to watch an idle consumer",
      wholeNumber("--idle-seconds", 1, TIMER_MAX_SECONDS),
      60,
    )
    .option(
      "--trickle-seconds <n>",
      "how long each trickle row produces",
      wholeNumber("--trickle-seconds", 1, TIMER_MAX_SECONDS),
      30,
    )
    .option(
      "--soak-minutes <n>",
      `how long the soak group runs the compiled consumer (${SOAK_MINUTES_MIN}–${SOAK_MINUTES_MAX})`,
      wholeNumber("--soak-minutes", SOAK_MINUTES_MIN, SOAK_MINUTES_MAX),
      30,
    )
    .option(
      "--groups <list>",
      `only these groups (comma-separated: ${GROUPS.join(",")}; ${SOAK} only when named)`,
      groupList,
    )
    .option(
      "--out <file>",
      "where to write the JSON results",
      join(defaultStateDir, "bench", "results.json"),
    );
}

export function parseBenchFlags(argv: readonly string[]): BenchFlags {
  const program = benchProgram();
  const flags = parseFlags<BenchFlags>(program, argv);
  // A soak length for a run without the soak would be ignored without a word.
  if (program.getOptionValueSource("soakMinutes") === "cli" && !flags.groups?.includes(SOAK)) {
    program.error(`error: --soak-minutes is for the ${SOAK} group: add --groups ${SOAK}.`, {
      code: "commander.invalidArgument",
      exitCode: 2,
    });
  }
  return flags;
}

/** Whether a group runs with these flags: the default set without `--groups`, else those named. */
export function groupWanted(flags: Pick<BenchFlags, "groups">, group: string): boolean {
  return flags.groups === undefined ? DEFAULT_GROUPS.includes(group) : flags.groups.includes(group);
}
