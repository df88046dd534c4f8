/**
 * The fleet's IAM (policies.ts) under Pulumi mocks: the task and execution roles and their documents, with
 * and without the stack's mail part.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { settings } from "../../src/config/settings.js";
import { ACCOUNT, installMocks, type RecordedResource, registered } from "../support/pulumi-mocks.js";
import {
  digestKeySecretArn as digestKeySecret,
  fleetWithMailConfig,
  SERVICE_REGION,
  sesIdentityArn as sesIdentity,
  smtpScaleToZeroConfig,
} from "../support/service-config.js";
import { build, prodLikeFleet, recordedOf, settle } from "../support/service-fleet.js";

const resources = installMocks({});
const region = SERVICE_REGION;
/** The fleet's settings and the mail quota it shares (settings `email`). */
const s = { ...settings.service, ...settings.email };
const prod = prodLikeFleet(resources);
const { find } = prod;

const queueArn = `arn:aws:sqs:${SERVICE_REGION}:${ACCOUNT}:${settings.queues.queueName}`;
const dlqArn = `arn:aws:sqs:${SERVICE_REGION}:${ACCOUNT}:${settings.queues.deadLetterQueueName}`;
const tableArn = `arn:aws:dynamodb:${SERVICE_REGION}:${ACCOUNT}:table/${settings.table.sentEmailsTableName}`;
const logGroupArn = `arn:aws:logs:${SERVICE_REGION}:${ACCOUNT}:log-group:/ecs/${settings.service.serviceName}`;

describe("the fleet's IAM (mocks)", () => {
  it("lets only ECS tasks assume the task and execution roles", () => {
    for (const role of ["task-role", "execution-role"]) {
      expect(JSON.parse(find(role).inputs.assumeRolePolicy)).toEqual({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "EcsTasksAssume",
            Effect: "Allow",
            Principal: { Service: "ecs-tasks.amazonaws.com" },
            Action: "sts:AssumeRole",
          },
        ],
      });
    }
  });

  it("gives the task role exactly the consumer's queue, table and mail actions", () => {
    expect(find("task-policy").inputs.role).toBe("prod-task-role");
    expect(JSON.parse(find("task-policy").inputs.policy)).toEqual({
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
          Sid: "RecordSentEmails",
          Effect: "Allow",
          Action: ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
          Resource: [tableArn],
        },
        { Sid: "SendWelcomeEmails", Effect: "Allow", Action: ["ses:SendEmail"], Resource: [sesIdentity] },
      ],
    });
  });

  it("gives the execution role image pull from its repository, log writes to its group, and its secret", () => {
    expect(find("execution-policy").inputs.role).toBe("prod-execution-role");
    expect(JSON.parse(find("execution-policy").inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PullImage",
          Effect: "Allow",
          Action: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
          Resource: [`arn:aws:ecr:${SERVICE_REGION}:${ACCOUNT}:repository/${s.repositoryName}`],
        },
        { Sid: "RegistryToken", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
        {
          Sid: "WriteLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: [`${logGroupArn}:log-stream:consumer/*`],
        },
        {
          Sid: "ReadSecrets",
          Effect: "Allow",
          Action: ["secretsmanager:GetSecretValue"],
          Resource: [digestKeySecret],
        },
      ],
    });
  });

  it("has no wildcard in any Allow but the two AWS forces: the registry token and the task's log streams", () => {
    const documents = ["task-policy", "execution-policy", "task-role", "execution-role"].map((n) => {
      const inputs = find(n).inputs;
      return JSON.parse(inputs.policy ?? inputs.assumeRolePolicy);
    });
    const wildcards: string[] = [];
    for (const statement of documents.flatMap((d) => d.Statement)) {
      expect(statement.Effect).toBe("Allow");
      expect(JSON.stringify(statement.Action)).not.toContain("*");
      expect(JSON.stringify(statement.Principal ?? "")).not.toContain("*");
      if (JSON.stringify(statement.Resource ?? "").includes("*")) wildcards.push(statement.Sid);
    }
    expect(wildcards.sort()).toEqual(["RegistryToken", "WriteLogs"]);
  });
});

describe("the fleet with the stack's mail part (mocks, ses mailer, mailDomain set)", () => {
  const mail = recordedOf(resources)("fleetmail");
  const e = settings.email;
  const identityArn = `arn:aws:ses:${region}:${ACCOUNT}:identity/example.com`;
  const configurationSetArn = `arn:aws:ses:${region}:${ACCOUNT}:configuration-set/${e.configurationSetName}`;
  const bounceQueueUrl = `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${e.bounceQueueName}`;
  const taskEnv = (find: (suffix: string) => RecordedResource) => {
    const [container] = JSON.parse(find("task").inputs.containerDefinitions);
    return Object.fromEntries(
      container.environment.map((entry: { name: string; value: string }) => [entry.name, entry.value]),
    );
  };

  beforeAll(async () => {
    const infra = build(fleetWithMailConfig, "fleetmail");
    await settle(infra);
    await registered(infra.mail?.identity, infra.mail?.bounceQueues.deadLetterQueue);
  });

  it("lets the task role send as the mail part's identity through its configuration set, and consume its bounce pair", () => {
    const statements = JSON.parse(mail("task-policy").inputs.policy).Statement;
    expect(statements.map((st: { Sid: string }) => st.Sid)).toEqual([
      "ConsumeRegistrations",
      "DeadLetterPoisonMessages",
      "RecordSentEmails",
      "SendWelcomeEmails",
      "ConsumeSesEvents",
      "DeadLetterSesEvents",
    ]);
    expect(statements.slice(3)).toEqual([
      {
        Sid: "SendWelcomeEmails",
        Effect: "Allow",
        // The consumer policy's list (infra-pulumi/policies.ts), on both resources SES checks.
        Action: ["ses:SendEmail", "ses:SendRawEmail"],
        Resource: [identityArn, configurationSetArn],
      },
      {
        Sid: "ConsumeSesEvents",
        Effect: "Allow",
        Action: [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:ReceiveMessage",
        ],
        Resource: [`arn:aws:sqs:${region}:${ACCOUNT}:${e.bounceQueueName}`],
      },
      {
        Sid: "DeadLetterSesEvents",
        Effect: "Allow",
        Action: ["sqs:GetQueueUrl", "sqs:SendMessage"],
        Resource: [`arn:aws:sqs:${region}:${ACCOUNT}:${e.bounceQueueName}-dlq`],
      },
    ]);
    expect(JSON.stringify(statements)).not.toContain('"*"');
  });

  it("tells the task its configuration set and bounce queue, beside the unchanged rest", () => {
    const env = taskEnv(mail);
    expect(env).toMatchObject({
      SES_CONFIGURATION_SET: e.configurationSetName,
      BOUNCE_QUEUE_URL: bounceQueueUrl,
      MAILER: "ses",
    });
    const { SES_CONFIGURATION_SET: _set, BOUNCE_QUEUE_URL: _bounces, ...rest } = env;
    expect(rest).toEqual(taskEnv(find));
  });

  it("leaves a fleet without the mail part as it was: no bounce queue, one identity, no configuration set", () => {
    const env = taskEnv(find);
    expect(env).not.toHaveProperty("BOUNCE_QUEUE_URL");
    expect(env).not.toHaveProperty("SES_CONFIGURATION_SET");
    const policy = JSON.stringify(JSON.parse(find("task-policy").inputs.policy));
    expect(policy).not.toMatch(/SesEvents|configuration-set/);
  });

  it("leaves an smtp fleet beside the mail part without SES in its task", async () => {
    const infra = build({ ...smtpScaleToZeroConfig, mailDomain: "example.com" }, "smtpmail");
    await settle(infra);
    const env = taskEnv(recordedOf(resources)("smtpmail"));
    expect(env).not.toHaveProperty("BOUNCE_QUEUE_URL");
    expect(env).not.toHaveProperty("SES_CONFIGURATION_SET");
    expect(recordedOf(resources)("smtpmail")("task-policy").inputs.policy).not.toMatch(/ses:|SesEvents/);
  });
});
