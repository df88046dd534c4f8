/**
 * The consumer service's IAM documents, as plain data from plain ARNs (Terraform writes the same
 * in service_iam.tf; the parity test compares the plans). No Pulumi import.
 *
 * Two roles, as ECS splits them:
 * - the task role is what the consumer's code calls with: exactly the consumer policy of the
 *   queue pair and table (infra-pulumi/policies.ts). With the ses mailer and the stack's own mail
 *   part (email.ts) that includes its SES statements (send as the identity through the
 *   configuration set, consume the bounce pair); with the ses mailer alone, sending as the one
 *   SES identity the stack config names (serviceSesIdentityArn);
 * - the execution role is what the ECS agent calls with before the code runs: pull the image
 *   from this stack's repository, write to this service's log group, read the task's secrets.
 *
 * Two wildcards remain in Allow statements, each forced by AWS and held as narrow as it goes:
 * - ecr:GetAuthorizationToken takes no resource (the Service Authorization Reference lists no
 *   resource type for it): Resource "*". The token alone pulls nothing: BatchGetImage and
 *   GetDownloadUrlForLayer are held to the one repository.
 * - the awslogs driver creates one stream per task (`<prefix>/<container>/<task id>`), whose
 *   task id is unknown until the task starts: the streams are named by their prefix, inside the
 *   one log group (`…:log-group:<group>:log-stream:<prefix>/*`).
 */
import { consumerPolicy, type MailArns, type PolicyDocument, type PolicyStatement } from "../policies.js";

/** What the ECS agent needs to pull from one repository (the token is account-wide). */
export const IMAGE_PULL_ACTIONS = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:GetDownloadUrlForLayer",
];
export const REGISTRY_TOKEN_ACTIONS = ["ecr:GetAuthorizationToken"];
/**
 * The awslogs driver: create its stream, put events in it. Both are authorised on the stream
 * (`…:log-group:NAME:log-stream:STREAM`; Service Authorization Reference, CloudWatch Logs:
 * CreateLogStream and PutLogEvents take the log-stream resource type), not on the group.
 */
export const LOG_STREAM_CREATE_ACTIONS = ["logs:CreateLogStream"];
export const LOG_WRITE_ACTIONS = ["logs:PutLogEvents"];
/**
 * SESv2 SendEmail (src/consumer/mail/ses.ts) is authorised by ses:SendEmail on the identity (an
 * identity from elsewhere; with the stack's mail part, the consumer policy's own list applies).
 */
export const SES_SEND_ACTIONS = ["ses:SendEmail"];

/** The awslogs stream prefix and the container's name (the stream is `<prefix>/<name>/<task id>`). */
export const LOG_STREAM_PREFIX = "consumer";
export const CONTAINER_NAME = "consumer";

/** `arn:…:log-group:<name>` → the ARN pattern of this service's streams in it. */
export function logStreamsArn(logGroupArn: string): string {
  return `${logGroupArn.replace(/:\*$/, "")}:log-stream:${LOG_STREAM_PREFIX}/*`;
}

/** Only ECS tasks may assume the task and execution roles. */
export function ecsTasksTrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "EcsTasksAssume",
        Effect: "Allow",
        Principal: { Service: "ecs-tasks.amazonaws.com" },
        Action: "sts:AssumeRole",
      },
    ],
  };
}

export interface TaskPolicyInput {
  readonly queueArn: string;
  readonly deadLetterQueueArn: string;
  readonly tableArn: string;
  readonly kmsKeyArn?: string | undefined;
  /** With the ses mailer and an identity from elsewhere (serviceSesIdentityArn). */
  readonly sesIdentityArn?: string | undefined;
  /** With the ses mailer and the stack's own mail part: its identity, configuration set, bounce pair. */
  readonly mail?: MailArns | undefined;
}

/**
 * The consumer's own calls: the queue pair, the table, the key, and mail — the consumer policy's
 * SES statements with the stack's mail part, else sending as one identity.
 */
export function taskPolicy(input: TaskPolicyInput): PolicyDocument {
  const base = consumerPolicy(
    input.queueArn,
    input.deadLetterQueueArn,
    input.kmsKeyArn,
    input.tableArn,
    input.mail,
  );
  if (input.mail) return base;
  const mail: PolicyStatement[] = input.sesIdentityArn
    ? [
        {
          Sid: "SendWelcomeEmails",
          Effect: "Allow",
          Action: SES_SEND_ACTIONS,
          Resource: [input.sesIdentityArn],
        },
      ]
    : [];
  return { ...base, Statement: [...base.Statement, ...mail] };
}

export interface ExecutionPolicyInput {
  readonly repositoryArn: string;
  readonly logGroupArn: string;
  /** Secrets Manager secrets and SSM parameters the task definition names. */
  readonly secretArns: readonly string[];
}

/** The ECS agent's calls for this task: image pull, log writes, its secrets — nothing else. */
export function executionPolicy(input: ExecutionPolicyInput): PolicyDocument {
  const secrets = input.secretArns.filter((arn) => arn.includes(":secretsmanager:"));
  const parameters = input.secretArns.filter((arn) => arn.includes(":ssm:"));
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "PullImage", Effect: "Allow", Action: IMAGE_PULL_ACTIONS, Resource: [input.repositoryArn] },
      // Not resource-scoped by AWS: the only "*" resource, and it grants no image by itself.
      { Sid: "RegistryToken", Effect: "Allow", Action: REGISTRY_TOKEN_ACTIONS, Resource: "*" },
      {
        Sid: "WriteLogs",
        Effect: "Allow",
        Action: [...LOG_STREAM_CREATE_ACTIONS, ...LOG_WRITE_ACTIONS],
        Resource: [logStreamsArn(input.logGroupArn)],
      },
      ...(secrets.length > 0
        ? [
            {
              Sid: "ReadSecrets",
              Effect: "Allow" as const,
              Action: ["secretsmanager:GetSecretValue"],
              Resource: secrets,
            },
          ]
        : []),
      ...(parameters.length > 0
        ? [
            {
              Sid: "ReadParameters",
              Effect: "Allow" as const,
              Action: ["ssm:GetParameters"],
              Resource: parameters,
            },
          ]
        : []),
    ],
  };
}
