/**
 * Every role's policy evaluated offline by an IAM policy simulator (@cloud-copilot/iam-simulate):
 * each call the component makes (the lists in infra-pulumi/policies.ts, cross-checked against
 * the SDK command classes its source imports) is allowed; the neighbour calls are denied; and the
 * TLS-only queue policy denies any of them made without TLS. The documents are the ones
 * policies.ts builds; the parity test shows Terraform's plan holds the same documents.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { runSimulation, runUnsafeSimulation } from "@cloud-copilot/iam-simulate";
import { describe, expect, it } from "vitest";
import {
  FUNCTION_CALLS,
  FUNCTION_SERVICE_CALLS,
  functionPolicy,
} from "../../infra-pulumi/lambda/policies.js";
import {
  deployPolicy,
  ECR_PUSH_ACTIONS,
  ecrPushPolicy,
  githubTrustPolicy,
  pipelineSubjects,
  planPolicy,
} from "../../infra-pulumi/pipeline-policies.js";
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
import { CONTAINER_NAME, executionPolicy, LOG_STREAM_PREFIX } from "../../infra-pulumi/service/policies.js";
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
  secret: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:registrations/digest-key-AbCdEf`,
  sesIdentity: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.com`,
  logGroup: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${settings.lambda.functionName}`,
  logStream: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/${settings.lambda.functionName}:log-stream:2026/12/05/[$LATEST]0123456789abcdef0123456789abcdef`,
};
/** The function's other secret (SMTP_URL), and one it must not read. */
const MAIL_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:registrations/smtp-url-AbCdEf`;
const OTHER_SECRET = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:payments/api-key-AbCdEf`;
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

/**
 * The source files a folder's modules run: the folder, and every file of src/ its relative
 * imports reach (the function runs the consumer's handler, store and mailers from src/consumer).
 */
function importClosure(folder: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file) || !existsSync(join(projectRoot, file))) return;
    seen.add(file);
    const text = readFileSync(join(projectRoot, file), "utf8");
    for (const match of text.matchAll(/(?:import|export)\s[^;]*?from\s*"(\.[^"]+)\.js"/g)) {
      const target = join(file, "..", `${match[1]}.ts`);
      if (target.startsWith("src/")) visit(target);
    }
  };
  const walk = (path: string): string[] =>
    statSync(join(projectRoot, path)).isDirectory()
      ? readdirSync(join(projectRoot, path)).flatMap((entry) => walk(join(path, entry)))
      : path.endsWith(".ts")
        ? [path]
        : [];
  for (const file of walk(folder)) visit(file);
  return [...seen];
}

interface Component {
  readonly policy: (kmsKeyArn?: string) => PolicyDocument;
  readonly calls: readonly ComponentCall[];
  /** Calls AWS makes with the component's role on its behalf (no SDK class in src/). */
  readonly serviceCalls?: readonly { action: string; on: CallTarget }[];
  /** The component's sources exist only once its runtime is in the tree (skipped before). */
  readonly sourcesPresent?: boolean;
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
    sources: ["src/consumer", "src/sqs/queue-pair.ts", "src/cli/consume.ts"],
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
  function: {
    policy: (key) =>
      functionPolicy({
        queueArn: ARNS.queue,
        deadLetterQueueArn: ARNS.deadLetterQueue,
        tableArn: ARNS.table,
        logGroupArn: ARNS.logGroup,
        secretArns: [ARNS.secret, MAIL_SECRET],
        kmsKeyArn: key,
        ses: { identityArn: ARNS.sesIdentity },
      }),
    calls: FUNCTION_CALLS,
    serviceCalls: FUNCTION_SERVICE_CALLS,
    // The handler (src/lambda) and every consumer module it runs.
    sources: existsSync(join(projectRoot, "src/lambda")) ? importClosure("src/lambda") : [],
    sourcesPresent: existsSync(join(projectRoot, "src/lambda")),
    notGranted: {
      ScanCommand:
        "only the store's forget() scans, for `npm run forget`: an administrator's command (docs/operations.md)",
      GetQueueUrlCommand:
        "the long-running consumer's dead-letter lookup (findDeadLetterQueue); the handler reads the URL from the RedrivePolicy",
    },
    denied: [
      { action: "sqs:PurgeQueue", on: "queue" },
      { action: "sqs:SetQueueAttributes", on: "queue" },
      { action: "sqs:GetQueueUrl", on: "deadLetterQueue" },
      { action: "sqs:ReceiveMessage", on: "deadLetterQueue" },
      { action: "sqs:PurgeQueue", on: "deadLetterQueue" },
      { action: "dynamodb:Scan", on: "table" },
      { action: "cloudwatch:GetMetricData", on: "metrics" },
      { action: "secretsmanager:PutSecretValue", on: "secret" },
      { action: "ses:SendRawEmail", on: "sesIdentity" },
      { action: "logs:DeleteLogGroup", on: "logGroup" },
    ],
  },
  operator: {
    policy: (key) => operatorPolicy(ARNS.queue, ARNS.deadLetterQueue, REGION, key),
    calls: OPERATOR_CALLS,
    sources: [
      "src/ops",
      "src/sqs/queue-counts.ts",
      "src/sqs/queue-pair.ts",
      "src/cli/status.ts",
      "src/cli/dlq.ts",
    ],
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
    for (const call of [...component.calls, ...(component.serviceCalls ?? [])]) {
      expect(
        await decide(component.policy(), { action: call.action, resource: ARNS[call.on] }),
        "command" in call ? call.command : call.action,
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

  it.skipIf(component.sourcesPresent === false)("lists exactly the SDK commands its source imports", () => {
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
      ...(component.serviceCalls ?? []).map((c) => c.action),
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

describe("the pipeline roles, simulated", () => {
  const repository = "octo-org/sqs-messaging";
  const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
  const subjects = pipelineSubjects(repository, "production");
  const repo = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${settings.service.repositoryName}`;
  const state = { bucket: "octo-org-pulumi-state", secretsKeyArn: KEY };
  const deployer = `arn:aws:iam::${ACCOUNT}:role/sqs-messaging-deployer`;

  /**
   * AssumeRoleWithWebIdentity against a trust policy. The simulator's action data does not list
   * the provider's own `aud`/`sub` keys for this action (AWS adds them per provider), so its
   * validating entry point drops them; its unvalidated one evaluates them as given.
   */
  const assume = (trust: PolicyDocument, claims: { sub: string; aud?: string }, principal = provider) =>
    runUnsafeSimulation(
      {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        // A pre-validated policy carries the metadata the unvalidated path needs.
        resourcePolicy: {
          __validated: true,
          policyDocument: trust,
          metadata: { name: "trust" },
          errors: [],
        } as never,
        request: {
          action: "sts:AssumeRoleWithWebIdentity",
          principal,
          resource: { accountId: ACCOUNT, resource: `arn:aws:iam::${ACCOUNT}:role/pipeline` },
          contextVariables: {
            "token.actions.githubusercontent.com:aud": claims.aud ?? "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": claims.sub,
          },
        },
      },
      {},
    );

  it("trusts only this repository's main branch to push, its environment to deploy, any of its refs to plan", () => {
    const cases: [keyof typeof subjects, string, string][] = [
      ["ecrPush", `repo:${repository}:ref:refs/heads/main`, "Allowed"],
      ["ecrPush", `repo:${repository}:ref:refs/heads/feature`, "ImplicitlyDenied"],
      ["ecrPush", `repo:${repository}:pull_request`, "ImplicitlyDenied"],
      ["ecrPush", "repo:octo-org/fork:ref:refs/heads/main", "ImplicitlyDenied"],
      ["deploy", `repo:${repository}:environment:production`, "Allowed"],
      ["deploy", `repo:${repository}:ref:refs/heads/main`, "ImplicitlyDenied"],
      ["deploy", `repo:${repository}:environment:staging`, "ImplicitlyDenied"],
      ["plan", `repo:${repository}:pull_request`, "Allowed"],
      ["plan", `repo:${repository}:ref:refs/heads/any-branch`, "Allowed"],
      ["plan", `repo:${repository}:ref:refs/tags/v1`, "Allowed"],
      ["plan", "repo:octo-org/sqs-messaging-evil:pull_request", "ImplicitlyDenied"],
      ["plan", `repo:${repository}:environment:production`, "ImplicitlyDenied"],
    ];
    for (const [role, sub, expected] of cases) {
      expect(assume(githubTrustPolicy(provider, subjects[role]), { sub }), `${role} ← ${sub}`).toBe(expected);
    }
    const push = githubTrustPolicy(provider, subjects.ecrPush);
    const main = `repo:${repository}:ref:refs/heads/main`;
    expect(assume(push, { sub: main, aud: "https://github.com/octo-org" }), "another audience").toBe(
      "ImplicitlyDenied",
    );
    const otherProvider = `arn:aws:iam::${ACCOUNT}:oidc-provider/gitlab.com`;
    expect(assume(push, { sub: main }, otherProvider), "another provider").toBe("ImplicitlyDenied");
  });

  it("lets the push role log in to ECR and push to the one repository only", async () => {
    const policy = ecrPushPolicy(REGION, ACCOUNT, settings.service.repositoryName);
    expect(await decide(policy, { action: "ecr:GetAuthorizationToken", resource: "*" })).toBe("Allowed");
    for (const action of ECR_PUSH_ACTIONS) {
      expect(await decide(policy, { action, resource: repo }), action).toBe("Allowed");
      const elsewhere = repo.replace(ACCOUNT, "210987654321");
      expect(await decide(policy, { action, resource: elsewhere }), `${action} in another account`).toBe(
        "ImplicitlyDenied",
      );
      const other = `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/another`;
      expect(await decide(policy, { action, resource: other }), `${action} elsewhere`).toBe(
        "ImplicitlyDenied",
      );
    }
    expect(await decide(policy, { action: "ecr:DeleteRepository", resource: repo })).toBe("ImplicitlyDenied");
    expect(await decide(policy, { action: "ecr:BatchDeleteImage", resource: repo })).toBe("ImplicitlyDenied");
  });

  it("keeps the plan role read-only: the state is read, only its locks written, nothing changed", async () => {
    const policy = planPolicy(state, { queueArns: [ARNS.queue, ARNS.deadLetterQueue], tableArn: ARNS.table });
    const bucket = `arn:aws:s3:::${state.bucket}`;
    const allowed: Request[] = [
      { action: "s3:ListBucket", resource: bucket },
      { action: "s3:GetObject", resource: `${bucket}/.pulumi/stacks/sqs-messaging/dev.json` },
      { action: "s3:PutObject", resource: `${bucket}/.pulumi/locks/organization/sqs-messaging/dev/1.json` },
      { action: "kms:Decrypt", resource: KEY },
      { action: "sqs:GetQueueAttributes", resource: ARNS.queue },
      { action: "dynamodb:DescribeTable", resource: ARNS.table },
    ];
    for (const request of allowed) expect(await decide(policy, request), request.action).toBe("Allowed");
    const denied: Request[] = [
      { action: "s3:PutObject", resource: `${bucket}/.pulumi/stacks/sqs-messaging/dev.json` },
      { action: "s3:DeleteObject", resource: `${bucket}/.pulumi/history/x` },
      { action: "kms:Encrypt", resource: KEY },
      { action: "sqs:SetQueueAttributes", resource: ARNS.queue },
      { action: "sqs:ReceiveMessage", resource: ARNS.queue },
      { action: "dynamodb:Scan", resource: ARNS.table },
      { action: "sts:AssumeRole", resource: deployer },
    ];
    for (const request of denied)
      expect(await decide(policy, request), request.action).toBe("ImplicitlyDenied");
  });

  it("lets the deploy role write the state and assume the deployer role, and nothing else", async () => {
    const policy = deployPolicy(state, deployer);
    const bucket = `arn:aws:s3:::${state.bucket}`;
    for (const request of [
      { action: "s3:PutObject", resource: `${bucket}/.pulumi/stacks/sqs-messaging/dev.json` },
      { action: "kms:Encrypt", resource: KEY },
      { action: "sts:AssumeRole", resource: deployer },
    ]) {
      expect(await decide(policy, request), request.action).toBe("Allowed");
    }
    for (const request of [
      { action: "s3:PutObject", resource: "arn:aws:s3:::another-bucket/.pulumi/x" },
      { action: "s3:DeleteBucket", resource: bucket },
      { action: "sts:AssumeRole", resource: `arn:aws:iam::${ACCOUNT}:role/admin` },
      { action: "sqs:DeleteQueue", resource: ARNS.queue },
    ]) {
      expect(await decide(policy, request), request.action).toBe("ImplicitlyDenied");
    }
  });

  it("has no wildcard in any Allow but ECR's login and object keys under the state prefix", () => {
    const documents = [
      ecrPushPolicy(REGION, ACCOUNT, settings.service.repositoryName),
      planPolicy(state, { queueArns: [ARNS.queue], tableArn: ARNS.table }),
      deployPolicy(state, deployer),
    ];
    const wildcards = documents.flatMap((document) =>
      document.Statement.filter((s) => s.Effect === "Allow").flatMap((s) => [
        ...[s.Action].flat().filter((a) => a.includes("*")),
        ...[s.Resource ?? []].flat().filter((r) => r.includes("*")),
      ]),
    );
    expect(wildcards.sort()).toEqual(
      [
        "*",
        `arn:aws:s3:::${state.bucket}/.pulumi/*`,
        `arn:aws:s3:::${state.bucket}/.pulumi/*`,
        `arn:aws:s3:::${state.bucket}/.pulumi/*`,
        `arn:aws:s3:::${state.bucket}/.pulumi/locks/*`,
      ].sort(),
    );
  });
});

describe("the function's role, simulated beyond its calls", () => {
  const policy = (ses?: { identityArn: string; configurationSetArn?: string }) =>
    functionPolicy({
      queueArn: ARNS.queue,
      deadLetterQueueArn: ARNS.deadLetterQueue,
      tableArn: ARNS.table,
      logGroupArn: ARNS.logGroup,
      secretArns: [ARNS.secret],
      ...(ses ? { ses } : {}),
    });

  it("reads its own secrets and no other, and writes to its own log group only", async () => {
    expect(await decide(policy(), { action: "secretsmanager:GetSecretValue", resource: ARNS.secret })).toBe(
      "Allowed",
    );
    expect(await decide(policy(), { action: "secretsmanager:GetSecretValue", resource: OTHER_SECRET })).toBe(
      "ImplicitlyDenied",
    );
    const otherStream = ARNS.logStream.replace(settings.lambda.functionName, "another-function");
    expect(await decide(policy(), { action: "logs:PutLogEvents", resource: otherStream })).toBe(
      "ImplicitlyDenied",
    );
  });

  it("sends to its own queue (the hand-over of an unrecorded accepted send) and to no other queue", async () => {
    expect(await decide(policy(), { action: "sqs:SendMessage", resource: ARNS.queue })).toBe("Allowed");
    const otherQueue = `arn:aws:sqs:${REGION}:${ACCOUNT}:payments`;
    expect(await decide(policy(), { action: "sqs:SendMessage", resource: otherQueue })).toBe(
      "ImplicitlyDenied",
    );
  });

  it("sends as the identity through the mail part's configuration set, with no SES statement without mail", async () => {
    const configurationSet = `arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/welcome`;
    const withMail = policy({ identityArn: ARNS.sesIdentity, configurationSetArn: configurationSet });
    for (const resource of [ARNS.sesIdentity, configurationSet]) {
      expect(await decide(withMail, { action: "ses:SendEmail", resource }), resource).toBe("Allowed");
    }
    expect(await decide(policy(), { action: "ses:SendEmail", resource: ARNS.sesIdentity })).toBe(
      "ImplicitlyDenied",
    );
  });

  it("has no wildcard in an Allow but the streams of its one log group (Lambda names them)", () => {
    const wildcards = policy({ identityArn: ARNS.sesIdentity })
      .Statement.filter((s) => s.Effect === "Allow")
      .flatMap((s) => [
        ...[s.Action].flat().filter((a) => a.includes("*")),
        ...[s.Resource ?? []].flat().filter((r) => r.includes("*")),
      ]);
    expect(wildcards).toEqual([`${ARNS.logGroup}:log-stream:*`]);
  });
});

describe("the service's execution role, simulated for the awslogs driver", () => {
  const group = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/${settings.service.serviceName}`;
  const policy = executionPolicy({
    repositoryArn: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/${settings.service.repositoryName}`,
    logGroupArn: group,
    secretArns: [ARNS.secret],
  });
  // awslogs names a task's stream <prefix>/<container>/<task id>.
  const stream = `${group}:log-stream:${LOG_STREAM_PREFIX}/${CONTAINER_NAME}/0123456789abcdef0123456789abcdef`;

  it("creates and writes its task's stream (both authorised on the stream, not the group)", async () => {
    for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) {
      expect(await decide(policy, { action, resource: stream }), action).toBe("Allowed");
    }
  });

  it("touches no stream outside its prefix, and no other group", async () => {
    const foreign = `${group}:log-stream:other/${CONTAINER_NAME}/0123456789abcdef`;
    const otherGroup = stream.replace(`/ecs/${settings.service.serviceName}`, "/ecs/another-service");
    for (const resource of [foreign, otherGroup]) {
      for (const action of ["logs:CreateLogStream", "logs:PutLogEvents"]) {
        expect(await decide(policy, { action, resource }), `${action} on ${resource}`).toBe(
          "ImplicitlyDenied",
        );
      }
    }
  });
});
