/**
 * The replace check: reads a plan as its tool prints it (`terraform show -json <planfile>`, or
 * `pulumi preview --json`) and names every stateful resource the plan would replace or delete.
 * A queue replaced loses its messages (a new queue with the new name starts empty, and the old
 * one is deleted with whatever it held); the sent-email table replaced forgets which welcome
 * emails were sent, so every registration still queued would get a second one. Neither is an
 * in-place change a reviewer would notice in a long plan: the pipeline stops on it instead.
 *
 * Terraform's own `prevent_destroy` already refuses such a plan for the table; the queues cannot
 * carry it (the local emulator path and `terraform test` apply and destroy them), so this check
 * is their guard in CI (docs/pipeline.md).
 */
import { ExitCode } from "../errors.js";

/** The resource types that hold state nobody can rebuild from code. */
export const STATEFUL_TYPES = {
  terraform: { aws_sqs_queue: "a queue", aws_dynamodb_table: "the sent-email table" },
  pulumi: { "aws:sqs/queue:Queue": "a queue", "aws:dynamodb/table:Table": "the sent-email table" },
} as const;

export type PlanFormat = keyof typeof STATEFUL_TYPES;

export interface DestructiveChange {
  /** Terraform address (`module.x.aws_sqs_queue.main`) or Pulumi URN. */
  readonly address: string;
  readonly type: string;
  readonly change: "replace" | "delete";
  /** What the resource is, in words ("a queue"). */
  readonly what: string;
}

export class PlanFormatError extends Error {
  override readonly name = "PlanFormatError";
}

// biome-ignore lint/suspicious/noExplicitAny: both tools' plan documents are large and untyped.
type Json = any;

/** Which tool printed this document. */
export function planFormat(plan: Json): PlanFormat {
  if (plan && typeof plan === "object") {
    if (Array.isArray(plan.resource_changes) || typeof plan.format_version === "string") return "terraform";
    if (Array.isArray(plan.steps)) return "pulumi";
  }
  throw new PlanFormatError(
    "not a plan: expected `terraform show -json <planfile>` (resource_changes) or `pulumi preview --json` (steps)",
  );
}

/** Terraform: a change whose actions include "delete" is a delete, or a replace next to "create". */
function terraformChanges(plan: Json): DestructiveChange[] {
  const types: Record<string, string> = STATEFUL_TYPES.terraform;
  return ((plan.resource_changes ?? []) as Json[]).flatMap((change) => {
    const what = types[change.type];
    const actions: string[] = change.change?.actions ?? [];
    if (!what || change.mode !== "managed" || !actions.includes("delete")) return [];
    return [
      {
        address: change.address,
        type: change.type,
        change: actions.includes("create") ? ("replace" as const) : ("delete" as const),
        what,
      },
    ];
  });
}

/** Pulumi: a step's op; a replacement shows as "replace" (plus create-/delete-replaced steps). */
const PULUMI_OPS: Record<string, DestructiveChange["change"]> = {
  replace: "replace",
  "create-replacement": "replace",
  "delete-replaced": "replace",
  delete: "delete",
};

function pulumiChanges(preview: Json): DestructiveChange[] {
  const types: Record<string, string> = STATEFUL_TYPES.pulumi;
  const found = new Map<string, DestructiveChange>();
  for (const step of (preview.steps ?? []) as Json[]) {
    const change = PULUMI_OPS[step.op];
    const type: string = step.newState?.type ?? step.oldState?.type ?? String(step.urn).split("::")[2] ?? "";
    // A URN's type part is the parent chain, `parent$child`: the resource's own type is last.
    const own = type.split("$").pop() ?? type;
    const what = types[own];
    if (change && what && !found.has(step.urn))
      found.set(step.urn, { address: step.urn, type: own, change, what });
  }
  return [...found.values()];
}

/** Every queue or table the plan would replace or delete; empty when it keeps them all. */
export function destructiveChanges(plan: Json): DestructiveChange[] {
  return planFormat(plan) === "terraform" ? terraformChanges(plan) : pulumiChanges(plan);
}

/** One line for one change: the resource, what it is, what would happen, what to do. */
export function describeChange(change: DestructiveChange): string {
  const verb = change.change === "replace" ? "replace" : "delete";
  return `replace-check: the plan would ${verb} ${change.address} (${change.what}: its data would be lost); keep its name and immutable settings, or drain and retire it on purpose (docs/pipeline.md).`;
}

/** Exit codes of `npm run infra:replace-check` (src/cli/replace-check.ts). */
export const REPLACE_CHECK_EXIT = {
  ok: ExitCode.ok,
  destructive: ExitCode.notDone,
  usage: ExitCode.usage,
} as const;

/** Runs the check on a plan's text; returns the exit code and the lines to print. */
export function checkPlanText(text: string): { code: number; lines: string[] } {
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch (error) {
    return {
      code: REPLACE_CHECK_EXIT.usage,
      lines: [
        `replace-check: the plan is not JSON (${(error as Error).message}): pass \`terraform show -json\` output.`,
      ],
    };
  }
  try {
    const changes = destructiveChanges(plan);
    return changes.length === 0
      ? { code: REPLACE_CHECK_EXIT.ok, lines: [] }
      : { code: REPLACE_CHECK_EXIT.destructive, lines: changes.map(describeChange) };
  } catch (error) {
    if (error instanceof PlanFormatError) {
      return { code: REPLACE_CHECK_EXIT.usage, lines: [`replace-check: ${error.message}.`] };
    }
    throw error;
  }
}
