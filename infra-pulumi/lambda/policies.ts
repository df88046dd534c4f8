/**
 * The consumer function's IAM documents, as plain data from plain ARNs (Terraform writes the same
 * in lambda.tf; the parity test compares the plans, test/infra/iam-simulation.test.ts simulates
 * them). No Pulumi import.
 *
 * One role does what ECS splits in two: the event source mapping polls with the function's role
 * (receive, delete, visibility, attributes on the queue), the handler calls with it (visibility
 * for its backoff, the dead-letter queue found through the RedrivePolicy and sent poison, the
 * table, SES, the secrets it reads once per container), and Lambda's runtime writes its logs
 * with it. The queue, dead-letter and table statements are the consumer policy's
 * (infra-pulumi/policies.ts): the function is the same consumer.
 *
 * One wildcard remains in an Allow, forced by AWS and held inside one log group: Lambda names each
 * log stream by date and execution environment (`2026/12/05/[$LATEST]<id>`), unknown in advance.
 */
import {
  type CallTarget,
  CONSUMER_CALLS,
  type ComponentCall,
  consumerPolicy,
  type PolicyDocument,
  type PolicyStatement,
} from "../policies.js";
import { LOG_STREAM_CREATE_ACTIONS, LOG_WRITE_ACTIONS, SES_SEND_ACTIONS } from "../service/policies.js";

/**
 * The dead-letter sends of poison messages: the handler finds the dead-letter queue's URL in the
 * queue's RedrivePolicy (src/sqs/queue-pair.ts, deadLetterQueueUrlFromPolicy), never by GetQueueUrl.
 */
export const FUNCTION_DEAD_LETTER_ACTIONS = ["sqs:SendMessage"];

/**
 * A send the mail server accepted and the store could not record by the invocation's end goes back
 * to the function's own queue on a signed copy of its message (src/lambda/accepted-copy.ts).
 */
export const FUNCTION_HAND_OVER_ACTIONS = ["sqs:SendMessage"];

/** The secrets the handler reads itself (REGISTRATION_DIGEST_KEY, SMTP_URL). */
export const SECRET_READ_ACTIONS = ["secretsmanager:GetSecretValue"];

/** Only Lambda may assume the function's role. */
export function lambdaTrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "LambdaAssume",
        Effect: "Allow",
        Principal: { Service: "lambda.amazonaws.com" },
        Action: "sts:AssumeRole",
      },
    ],
  };
}

/** `arn:…:log-group:<name>` (with or without `:*`) → every stream in that group alone. */
export function functionLogStreamsArn(logGroupArn: string): string {
  return `${logGroupArn.replace(/:\*$/, "")}:log-stream:*`;
}

export interface FunctionPolicyInput {
  readonly queueArn: string;
  readonly deadLetterQueueArn: string;
  readonly tableArn: string;
  readonly logGroupArn: string;
  readonly secretArns: readonly string[];
  readonly kmsKeyArn?: string | undefined;
  /** The identity it sends as: the stack's mail part's (with its configuration set), or one from elsewhere. */
  readonly ses?: { readonly identityArn: string; readonly configurationSetArn?: string | undefined };
}

/** The function's calls, its poller's and its runtime's: nothing else. */
export function functionPolicy(input: FunctionPolicyInput): PolicyDocument {
  const base = consumerPolicy(input.queueArn, input.deadLetterQueueArn, input.kmsKeyArn, input.tableArn);
  const ses = input.ses;
  const mail: PolicyStatement[] = ses
    ? [
        {
          Sid: "SendWelcomeEmails",
          Effect: "Allow",
          Action: SES_SEND_ACTIONS,
          Resource: [ses.identityArn, ...(ses.configurationSetArn ? [ses.configurationSetArn] : [])],
        },
      ]
    : [];
  const statements = base.Statement.map((statement) =>
    statement.Sid === "DeadLetterPoisonMessages"
      ? { ...statement, Action: FUNCTION_DEAD_LETTER_ACTIONS }
      : statement,
  );
  const [consume, ...rest] = statements as [PolicyStatement, ...PolicyStatement[]];
  return {
    ...base,
    Statement: [
      consume,
      {
        Sid: "HandOverAcceptedSends",
        Effect: "Allow",
        Action: FUNCTION_HAND_OVER_ACTIONS,
        Resource: [input.queueArn],
      },
      ...rest,
      ...mail,
      { Sid: "ReadSecrets", Effect: "Allow", Action: SECRET_READ_ACTIONS, Resource: [...input.secretArns] },
      // CreateLogStream is authorised on the stream it creates (Service Authorization Reference).
      {
        Sid: "WriteLogs",
        Effect: "Allow",
        Action: [...LOG_STREAM_CREATE_ACTIONS, ...LOG_WRITE_ACTIONS],
        Resource: [functionLogStreamsArn(input.logGroupArn)],
      },
    ],
  };
}

/**
 * What the event source mapping calls on the queue with the function's role (AWS Lambda
 * developer guide, "Execution role permissions" for SQS), and what Lambda's runtime calls to ship
 * the function's stdout: calls AWS makes for the function, with no SDK class in src/.
 */
export const FUNCTION_SERVICE_CALLS: readonly { action: string; on: CallTarget }[] = [
  { action: "sqs:ReceiveMessage", on: "queue" },
  { action: "sqs:DeleteMessage", on: "queue" },
  { action: "sqs:GetQueueAttributes", on: "queue" },
  { action: "sqs:ChangeMessageVisibility", on: "queue" },
  { action: "logs:CreateLogStream", on: "logStream" },
  { action: "logs:PutLogEvents", on: "logStream" },
];

/**
 * The handler's own calls (src/lambda and the consumer modules it runs): the consumer's, less
 * what the event source mapping does in its place (receive, delete) and the dead-letter queue's
 * lookup (its URL comes from the RedrivePolicy), plus the hand-over's send to its own queue, SES
 * and the secrets.
 */
export const FUNCTION_CALLS: readonly ComponentCall[] = [
  ...CONSUMER_CALLS.filter(
    (call) => !["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueUrl"].includes(call.action),
  ),
  { command: "SendMessageCommand", action: "sqs:SendMessage", on: "queue" },
  { command: "SendEmailCommand", action: "ses:SendEmail", on: "sesIdentity" },
  { command: "GetSecretValueCommand", action: "secretsmanager:GetSecretValue", on: "secret" },
];
