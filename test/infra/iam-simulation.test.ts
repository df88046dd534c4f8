/**
 * Every role's policy evaluated offline by an IAM policy simulator (@cloud-copilot/iam-simulate):
 * each call the component makes (the lists in infra-pulumi/policies.ts, cross-checked against
 * the SDK command classes its source imports) is allowed; the neighbour calls are denied; and the
 * TLS-only queue policy denies any of them made without TLS. The documents are the ones
 * policies.ts builds; the parity test shows Terraform's plan holds the same documents.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import {
  type CallTarget,
  CONSUMER_CALLS,
  type ComponentCall,
  consumerPolicy,
  KMS_ACTIONS,
  OPERATOR_CALLS,
  OPERATOR_MANUAL_ACTIONS,
  operatorPolicy,
  type PolicyDocument,
  PRODUCER_CALLS,
  producerPolicy,
  tlsOnlyQueuePolicy,
} from "../../infra-pulumi/policies.js";
import { projectRoot } from "../../src/config/paths.js";
import { settings } from "../../src/config/settings.js";

const ACCOUNT = "123456789012";
const REGION = "eu-west-1";
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:role/under-test`;
const ARNS: Record<CallTarget, string> = {
  queue: `arn:aws:sqs:${REGION}:${ACCOUNT}:${settings.queues.queueName}`,
  deadLetterQueue: `arn:aws:sqs:${REGION}:${ACCOUNT}:${settings.queues.deadLetterQueueName}`,
  table: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${settings.table.sentEmailsTableName}`,
  metrics: "*",
};
const KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/99999999-12ab-34cd-56ef-1234567890ab`;

type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

interface Request {
  readonly action: string;
  readonly resource: string;
  readonly secureTransport?: boolean;
  readonly region?: string;
}

/**
 * A KMS key's policy decides first: IAM policies count only when it delegates to the account.
 * This is AWS's default key policy, which does; a key whose policy does not must grant the roles
 * itself (docs/infrastructure.md, kmsKeyArn).
 */
const defaultKeyPolicy = (): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "EnableIamPolicies",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: "kms:*",
      Resource: "*",
    },
  ],
});

/**
 * One request through the simulator: the identity policy, and the resource's own policy (a
 * queue's TLS-only policy, a key's default key policy), as AWS evaluates them together. A request
 * the simulator rejects as malformed (unknown action, wrong resource type) fails the test.
 */
async function decide(policy: PolicyDocument, request: Request): Promise<Decision> {
  const resourcePolicy = request.resource.startsWith("arn:aws:sqs:")
    ? tlsOnlyQueuePolicy(request.resource)
    : request.resource.startsWith("arn:aws:kms:")
      ? defaultKeyPolicy()
      : undefined;
  const result = await runSimulation(
    {
      identityPolicies: [{ name: "under-test", policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      request: {
        action: request.action,
        principal: PRINCIPAL,
        resource: { accountId: ACCOUNT, resource: request.resource },
        contextVariables: {
          "aws:SecureTransport": String(request.secureTransport ?? true),
          "aws:RequestedRegion": request.region ?? REGION,
        },
      },
    },
    {},
  );
  if (result.resultType === "error") {
    throw new Error(
      `the simulator rejected ${request.action} on ${request.resource}: ${JSON.stringify(result.errors)}`,
    );
  }
  return result.overallResult as Decision;
}

/** SDK command classes a set of source files import from @aws-sdk/* (type imports aside). */
function importedCommands(paths: readonly string[], skip: readonly string[] = []): Map<string, string[]> {
  const walk = (path: string): string[] => {
    const full = join(projectRoot, path);
    if (statSync(full).isDirectory()) return readdirSync(full).flatMap((entry) => walk(join(path, entry)));
    return path.endsWith(".ts") && !skip.includes(path) ? [path] : [];
  };
  const files = paths.flatMap(walk);
  const found = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(projectRoot, file), "utf8");
    for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*"@aws-sdk\/[\w-]+"/g)) {
      for (const raw of (match[1] ?? "").split(",")) {
        const name = raw.trim();
        if (name.startsWith("type ") || !/^\w+Command$/.test(name)) continue;
        found.set(name, [...(found.get(name) ?? []), file]);
      }
    }
  }
  return found;
}

interface Component {
  readonly policy: (kmsKeyArn?: string) => PolicyDocument;
  readonly calls: readonly ComponentCall[];
  /** Folders and files whose SDK imports are this component's calls. */
  readonly sources: readonly string[];
  readonly skipFiles?: readonly string[];
  /** Commands imported there that this policy deliberately does not grant, and why. */
  readonly notGranted?: Record<string, string>;
  readonly manualActions?: readonly string[];
  /** Calls of a neighbour it must not be able to make. */
  readonly denied: readonly { action: string; on: CallTarget | "otherRegionMetrics" }[];
}

const components: Record<string, Component> = {
  producer: {
    policy: (key) => producerPolicy(ARNS.queue, key),
    calls: PRODUCER_CALLS,
    sources: ["src/producer", "src/cli/produce.ts"],
    denied: [
      { action: "sqs:ReceiveMessage", on: "queue" },
      { action: "sqs:DeleteMessage", on: "queue" },
      { action: "sqs:PurgeQueue", on: "queue" },
      { action: "sqs:SetQueueAttributes", on: "queue" },
      { action: "sqs:SendMessage", on: "deadLetterQueue" },
      { action: "dynamodb:PutItem", on: "table" },
    ],
  },
  consumer: {
    policy: (key) => consumerPolicy(ARNS.queue, ARNS.deadLetterQueue, key, ARNS.table),
    calls: CONSUMER_CALLS,
    sources: ["src/consumer", "src/cli/consume.ts"],
    notGranted: {
      ScanCommand:
        "only the store's forget() scans, for `npm run forget`: an administrator's command (docs/operations.md)",
      SendEmailCommand: "the SES mailer: ses:SendEmail is granted with the SES identity (the email part)",
    },
    denied: [
      { action: "sqs:PurgeQueue", on: "queue" },
      { action: "sqs:SendMessage", on: "queue" },
      { action: "sqs:DeleteQueue", on: "queue" },
      { action: "sqs:ReceiveMessage", on: "deadLetterQueue" },
      { action: "sqs:PurgeQueue", on: "deadLetterQueue" },
      { action: "dynamodb:Scan", on: "table" },
      { action: "dynamodb:DeleteTable", on: "table" },
      { action: "cloudwatch:GetMetricData", on: "metrics" },
    ],
  },
  operator: {
    policy: (key) => operatorPolicy(ARNS.queue, ARNS.deadLetterQueue, REGION, key),
    calls: OPERATOR_CALLS,
    sources: ["src/ops", "src/sqs/queue-counts.ts", "src/cli/status.ts", "src/cli/dlq.ts"],
    // forget is personal-data erasure, run with an administrator's credentials (docs/operations.md).
    skipFiles: ["src/ops/forget.ts"],
    manualActions: OPERATOR_MANUAL_ACTIONS,
    denied: [
      { action: "dynamodb:PutItem", on: "table" },
      { action: "dynamodb:Scan", on: "table" },
      { action: "sqs:ReceiveMessage", on: "queue" },
      { action: "sqs:DeleteMessage", on: "queue" },
      { action: "sqs:PurgeQueue", on: "queue" },
      { action: "sqs:DeleteQueue", on: "deadLetterQueue" },
      { action: "sqs:SetQueueAttributes", on: "deadLetterQueue" },
      { action: "cloudwatch:GetMetricData", on: "otherRegionMetrics" },
    ],
  },
};

const allowedActions = (policy: PolicyDocument) =>
  policy.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => [s.Action].flat());

describe.each(Object.entries(components))("the %s policy, simulated", (_name, component) => {
  it("allows every call the component makes, over TLS", async () => {
    for (const call of component.calls) {
      expect(
        await decide(component.policy(), { action: call.action, resource: ARNS[call.on] }),
        call.command,
      ).toBe("Allowed");
    }
  });

  it("denies each of those calls without TLS (the queue policy)", async () => {
    for (const call of component.calls.filter((c) => c.on === "queue" || c.on === "deadLetterQueue")) {
      const request = { action: call.action, resource: ARNS[call.on], secureTransport: false };
      expect(await decide(component.policy(), request), call.command).toBe("ExplicitlyDenied");
    }
  });

  it("denies the neighbours' calls", async () => {
    for (const { action, on } of component.denied) {
      const request =
        on === "otherRegionMetrics"
          ? { action, resource: "*", region: "us-west-2" }
          : { action, resource: ARNS[on] };
      expect(await decide(component.policy(), request), `${action} on ${on}`).toBe("ImplicitlyDenied");
    }
  });

  it("uses the customer-managed key when there is one, and no other key", async () => {
    for (const action of KMS_ACTIONS) {
      expect(await decide(component.policy(KEY), { action, resource: KEY }), action).toBe("Allowed");
      expect(await decide(component.policy(KEY), { action, resource: OTHER_KEY }), action).toBe(
        "ImplicitlyDenied",
      );
      expect(await decide(component.policy(), { action, resource: KEY }), action).toBe("ImplicitlyDenied");
    }
  });

  it("lists exactly the SDK commands its source imports", () => {
    const imported = importedCommands(component.sources, component.skipFiles);
    const listed = new Set(component.calls.map((c) => c.command));
    const notGranted = Object.keys(component.notGranted ?? {});
    const unlisted = [...imported.keys()].filter((c) => !listed.has(c) && !notGranted.includes(c));
    expect(unlisted, "imported but neither in the call list nor explained").toEqual([]);
    const stale = [...listed, ...notGranted].filter((c) => !imported.has(c));
    expect(stale, "listed but no longer imported").toEqual([]);
  });

  it("grants no action that no call (or documented manual step) needs", () => {
    const needed = new Set([
      ...component.calls.map((c) => c.action),
      ...(component.manualActions ?? []),
      ...KMS_ACTIONS,
    ]);
    expect(allowedActions(component.policy(KEY)).filter((a) => !needed.has(a))).toEqual([]);
  });
});

describe("the TLS-only queue policy, simulated", () => {
  it("denies every SQS action without TLS, to any principal, and grants nothing", async () => {
    const allowAll: PolicyDocument = {
      Version: "2012-10-17",
      Statement: [{ Sid: "Admin", Effect: "Allow", Action: "sqs:*", Resource: ARNS.queue }],
    };
    for (const action of ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:PurgeQueue", "sqs:DeleteQueue"]) {
      expect(await decide(allowAll, { action, resource: ARNS.queue, secureTransport: false }), action).toBe(
        "ExplicitlyDenied",
      );
      expect(await decide(allowAll, { action, resource: ARNS.queue }), action).toBe("Allowed");
    }
    const nothing: PolicyDocument = { Version: "2012-10-17", Statement: [] };
    expect(await decide(nothing, { action: "sqs:SendMessage", resource: ARNS.queue })).toBe(
      "ImplicitlyDenied",
    );
  });
});
