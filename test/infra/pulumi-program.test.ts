/**
 * The Pulumi program under mocks, with a full configuration: the resource graph, every queue
 * attribute against the settings module, the policies, the provider, and the stack outputs.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectRoot } from "../../src/config/paths.js";
import { defaultQueueSettings as s } from "../../src/config/queue-settings.js";
import { settings } from "../../src/config/settings.js";
import { type StackOutputs, stackOutputsSchema } from "../../src/stack/outputs.js";
import {
  ACCOUNT,
  decoded,
  installMocks,
  isSecret,
  type RecordedResource,
  registered,
  resolvedValue,
} from "../support/pulumi-mocks.js";

const config = {
  region: "eu-west-1",
  assumeRoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
  assumeRoleSessionName: "ci-session",
  assumeRoleExternalId: "ext-123",
  defaultTags: { environment: "test", team: "growth" },
  producerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/api`],
  consumerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/worker`],
  operatorPrincipals: [`arn:aws:iam::${ACCOUNT}:role/on-call`],
};
const queueArn = `arn:aws:sqs:eu-west-1:${ACCOUNT}:${s.queueName}`;
const dlqArn = `arn:aws:sqs:eu-west-1:${ACCOUNT}:${s.deadLetterQueueName}`;
const tableArn = `arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/${settings.table.sentEmailsTableName}`;

let resources: RecordedResource[];
// biome-ignore lint/suspicious/noExplicitAny: the program module's exports are Outputs of many types.
let program: Record<string, any>;

/** The main stack's resources (another test declares a second pair under another name). */
const mine = () => resources.filter((r) => r.name.startsWith("registrations"));

const byName = (name: string) => {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource named ${name}; have ${resources.map((r) => r.name).join(", ")}`);
  return found;
};

beforeAll(async () => {
  resources = installMocks(config);
  program = await import("../../infra-pulumi/index.js");
  // Await every exported output, then every resource the outputs do not depend on.
  await Promise.all(Object.values(program).map((o) => resolvedValue(o)));
  const { createInfrastructure } = await import("../../infra-pulumi/program.js");
  expect(createInfrastructure).toBeTypeOf("function");
  await new Promise<void>((resolve) => {
    const wait = () =>
      resources.filter((r) => r.type === "aws:iam/rolePolicyAttachment:RolePolicyAttachment").length === 3
        ? resolve()
        : setTimeout(wait, 10);
    wait();
  });
});

describe("Pulumi program (mocks)", () => {
  it("declares the expected resource graph", () => {
    expect(
      mine()
        .map((r) => `${r.type} ${r.name}`)
        .sort(),
    ).toEqual(
      [
        "pulumi:providers:aws registrations-aws",
        "sqs-messaging:index:QueuePair registrations",
        "aws:sqs/queue:Queue registrations-queue",
        "aws:sqs/queue:Queue registrations-dlq",
        "aws:sqs/redrivePolicy:RedrivePolicy registrations-redrive",
        "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy registrations-redrive-allow",
        "aws:sqs/queuePolicy:QueuePolicy registrations-queue-policy",
        "aws:sqs/queuePolicy:QueuePolicy registrations-dlq-policy",
        "sqs-messaging:index:QueueAccess registrations",
        "aws:iam/policy:Policy registrations-producer",
        "aws:iam/policy:Policy registrations-consumer",
        "aws:iam/policy:Policy registrations-operator",
        "aws:iam/role:Role registrations-producer-role",
        "aws:iam/role:Role registrations-consumer-role",
        "aws:iam/role:Role registrations-operator-role",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment registrations-producer-role-policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment registrations-consumer-role-policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment registrations-operator-role-policy",
        "sqs-messaging:index:SentEmailsTable registrations",
        "aws:dynamodb/table:Table registrations-table",
      ].sort(),
    );
  });

  it("puts every AWS resource on the explicit provider, inside its component", async () => {
    for (const r of mine().filter((r) => r.type.startsWith("aws:"))) {
      expect(r.provider, r.name).toMatch(/::pulumi:providers:aws::registrations-aws::/);
    }
    const { createInfrastructure } = await import("../../infra-pulumi/program.js");
    const infra = createInfrastructure(
      (await import("../../infra-pulumi/config.js")).readInfraConfig(),
      "second",
    );
    const [queueUrn, policyUrn] = await registered(infra.queues.queue, infra.access?.producerPolicy);
    expect(queueUrn).toContain("::sqs-messaging:index:QueuePair$aws:sqs/queue:Queue::second-queue");
    expect(policyUrn).toContain("::sqs-messaging:index:QueueAccess$aws:iam/policy:Policy::second-producer");
  });

  it("disables default providers in Pulumi.yaml and runs the program through tsx", () => {
    const project = parse(readFileSync(join(projectRoot, "Pulumi.yaml"), "utf8"));
    expect(project.config["pulumi:disable-default-providers"].value).toEqual(["aws"]);
    expect(project.main).toBe("infra-pulumi/index.ts");
    expect(project.runtime.options).toMatchObject({ typescript: false, nodeargs: "--import tsx" });
  });

  it("configures the provider's region, assumed role and default tags from stack config", () => {
    const provider = byName("registrations-aws").inputs;
    expect(provider.region).toBe("eu-west-1");
    // The external id is a secret, so the whole list stays secret in the state.
    expect(isSecret(provider.assumeRoles)).toBe(true);
    expect(decoded(provider.assumeRoles)).toEqual([
      { roleArn: config.assumeRoleArn, sessionName: "ci-session", externalId: "ext-123" },
    ]);
    expect(decoded(provider.defaultTags)).toEqual({
      tags: { project: "sqs-messaging", "managed-by": "pulumi", environment: "test", team: "growth" },
    });
    expect(provider.endpoints).toBeUndefined();
    expect(provider.skipCredentialsValidation).not.toBe("true");
  });

  it("gives both queues exactly the settings module's values", () => {
    expect(byName("registrations-queue").inputs).toEqual({
      name: s.queueName,
      visibilityTimeoutSeconds: s.visibilityTimeoutSeconds,
      messageRetentionSeconds: s.messageRetentionSeconds,
      maxMessageSize: s.maximumMessageSizeBytes,
      receiveWaitTimeSeconds: s.receiveWaitTimeSeconds,
      delaySeconds: s.delaySeconds,
      sqsManagedSseEnabled: true,
      fifoQueue: false,
      contentBasedDeduplication: false,
    });
    expect(byName("registrations-dlq").inputs).toEqual({
      name: s.deadLetterQueueName,
      visibilityTimeoutSeconds: s.visibilityTimeoutSeconds,
      messageRetentionSeconds: s.deadLetterRetentionSeconds,
      maxMessageSize: s.deadLetterMaximumMessageSizeBytes,
      receiveWaitTimeSeconds: s.receiveWaitTimeSeconds,
      delaySeconds: 0,
      sqsManagedSseEnabled: true,
      fifoQueue: false,
      contentBasedDeduplication: false,
    });
  });

  it("redrives to the dead-letter queue after maxReceiveCount, and lets only the main queue redrive there", () => {
    const redrive = byName("registrations-redrive").inputs;
    expect(redrive.queueUrl).toBe(`https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/${s.queueName}`);
    expect(JSON.parse(redrive.redrivePolicy)).toEqual({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: s.maxReceiveCount,
    });
    const allow = byName("registrations-redrive-allow").inputs;
    expect(allow.queueUrl).toContain(s.deadLetterQueueName);
    expect(JSON.parse(allow.redriveAllowPolicy)).toEqual({
      redrivePermission: "byQueue",
      sourceQueueArns: [queueArn],
    });
  });

  it.each([
    ["registrations-queue-policy", queueArn],
    ["registrations-dlq-policy", dlqArn],
  ])("%s denies every request without TLS", (name, arn) => {
    expect(JSON.parse(byName(name).inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "DenyInsecureTransport",
          Effect: "Deny",
          Principal: "*",
          Action: "sqs:*",
          Resource: arn,
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        },
      ],
    });
  });

  it("grants the producer exactly what it calls, on the main queue only", () => {
    expect(JSON.parse(byName("registrations-producer").inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "SendRegistrations",
          Effect: "Allow",
          Action: ["sqs:GetQueueAttributes", "sqs:SendMessage"],
          Resource: [queueArn],
        },
      ],
    });
  });

  it("grants the consumer receive/delete/visibility on the main queue and send on the dead-letter queue", () => {
    expect(JSON.parse(byName("registrations-consumer").inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ConsumeRegistrations",
          Effect: "Allow",
          Action: [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
          ],
          Resource: [queueArn],
        },
        {
          Sid: "DeadLetterPoisonMessages",
          Effect: "Allow",
          Action: ["sqs:GetQueueUrl", "sqs:SendMessage"],
          Resource: [dlqArn],
        },
        {
          // The DynamoDB store's item actions, on its table only: no Scan, no Query, no `*`.
          Sid: "RecordSentEmails",
          Effect: "Allow",
          Action: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          Resource: [tableArn],
        },
      ],
    });
  });

  it("declares the sent-email table: key id (S), on demand, TTL on expiresAt, PITR, encryption, deletion protection, kept on destroy", () => {
    const table = byName("registrations-table");
    expect(table.inputs).toMatchObject({
      name: settings.table.sentEmailsTableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      ttl: { attributeName: "expiresAt", enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: true,
    });
  });

  it("grants the operator status and dead-letter list/redrive/purge, and nothing else", () => {
    expect(JSON.parse(byName("registrations-operator").inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadQueues",
          Effect: "Allow",
          Action: ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
          Resource: [queueArn, dlqArn],
        },
        { Sid: "RedriveToQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queueArn] },
        {
          Sid: "ManageDeadLetters",
          Effect: "Allow",
          Action: [
            "sqs:CancelMessageMoveTask",
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:ListMessageMoveTasks",
            "sqs:PurgeQueue",
            "sqs:ReceiveMessage",
            "sqs:StartMessageMoveTask",
          ],
          Resource: [dlqArn],
        },
        {
          Sid: "ReadQueueMetrics",
          Effect: "Allow",
          Action: ["cloudwatch:GetMetricData"],
          Resource: "*",
          Condition: { StringEquals: { "aws:RequestedRegion": "eu-west-1" } },
        },
      ],
    });
  });

  it("has no wildcard in any Allow statement, but for the one action AWS scopes to no resource", () => {
    const documents = mine()
      .filter((r) => r.type === "aws:iam/policy:Policy" || r.type === "aws:iam/role:Role")
      .map((r) => JSON.parse(r.inputs.policy ?? r.inputs.assumeRolePolicy));
    expect(documents).toHaveLength(6);
    for (const statement of documents.flatMap((d) => d.Statement)) {
      expect(statement.Effect).toBe("Allow");
      expect(JSON.stringify(statement.Action)).not.toContain("*");
      // cloudwatch:GetMetricData has no resource-level permission: "*" is forced, held to a region.
      if (JSON.stringify(statement.Action) === JSON.stringify(["cloudwatch:GetMetricData"])) {
        expect(statement.Resource).toBe("*");
        expect(Object.keys(statement.Condition?.StringEquals ?? {})).toEqual(["aws:RequestedRegion"]);
        continue;
      }
      expect(JSON.stringify(statement.Resource ?? "")).not.toContain("*");
      expect(JSON.stringify(statement.Principal ?? "")).not.toContain("*");
    }
  });

  it("lets only the configured principals assume the roles, each with its own policy", () => {
    const trust = JSON.parse(byName("registrations-consumer-role").inputs.assumeRolePolicy);
    expect(trust.Statement).toEqual([
      {
        Sid: "AllowConfiguredPrincipals",
        Effect: "Allow",
        Principal: { AWS: config.consumerPrincipals },
        Action: "sts:AssumeRole",
      },
    ]);
    expect(byName("registrations-consumer-role-policy").inputs).toEqual({
      role: "registrations-consumer-role",
      policyArn: `arn:aws:iam::${ACCOUNT}:policy/registrations-consumer`,
    });
  });

  it("exports exactly the shared stack outputs, plus the policy and role ARNs", async () => {
    const values: Record<string, unknown> = {};
    for (const [name, output] of Object.entries(program)) {
      const value = await resolvedValue(output);
      if (value !== undefined) values[name] = value;
    }
    const outputs: StackOutputs = stackOutputsSchema.parse(values);
    expect(outputs).toEqual({
      queueUrl: `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/${s.queueName}`,
      queueArn,
      deadLetterQueueUrl: `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/${s.deadLetterQueueName}`,
      deadLetterQueueArn: dlqArn,
      region: "eu-west-1",
      sentEmailsTableName: settings.table.sentEmailsTableName,
    });
    expect(Object.keys(values).sort()).toEqual(
      [
        ...Object.keys(outputs),
        "producerPolicyArn",
        "consumerPolicyArn",
        "producerRoleArn",
        "consumerRoleArn",
        "operatorPolicyArn",
        "operatorRoleArn",
      ].sort(),
    );
    expect(values.consumerPolicyArn).toBe(`arn:aws:iam::${ACCOUNT}:policy/registrations-consumer`);
  });
});
