/**
 * The policy documents, as plain data from plain ARNs: the Pulumi program renders them (Terraform
 * writes the same documents in iam.tf; the parity test compares the two plans). No Pulumi import.
 *
 * Batch actions are authorised by their single-message action (SendMessageBatch by SendMessage,
 * DeleteMessageBatch by DeleteMessage, ChangeMessageVisibilityBatch by ChangeMessageVisibility),
 * so these lists are complete for what the producer and consumer call.
 */

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Action: string[] | string;
  /** Absent in trust policies, which name a Principal instead. */
  Resource?: string[] | string;
  Principal?: unknown;
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

/** What the producer calls: SendMessage(Batch), and GetQueueAttributes to check size and type. */
export const PRODUCER_QUEUE_ACTIONS = ["sqs:GetQueueAttributes", "sqs:SendMessage"];

/** What the consumer calls on the main queue. */
export const CONSUMER_QUEUE_ACTIONS = [
  "sqs:ChangeMessageVisibility",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:ReceiveMessage",
];

/** The consumer moves poison messages to the dead-letter queue itself (GetQueueUrl finds it). */
export const CONSUMER_DEAD_LETTER_ACTIONS = ["sqs:GetQueueUrl", "sqs:SendMessage"];

/**
 * With a customer-managed KMS key, both need both: sending encrypts (GenerateDataKey, and Decrypt
 * to reuse a cached data key), receiving decrypts (and the consumer sends to the dead-letter queue).
 */
export const KMS_ACTIONS = ["kms:Decrypt", "kms:GenerateDataKey"];

function kmsStatement(kmsKeyArn: string | undefined): PolicyStatement[] {
  return kmsKeyArn
    ? [{ Sid: "UseQueueKey", Effect: "Allow", Action: KMS_ACTIONS, Resource: [kmsKeyArn] }]
    : [];
}

export function producerPolicy(queueArn: string, kmsKeyArn?: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "SendRegistrations", Effect: "Allow", Action: PRODUCER_QUEUE_ACTIONS, Resource: [queueArn] },
      ...kmsStatement(kmsKeyArn),
    ],
  };
}

/** The item actions the DynamoDB store uses (src/consumer/store/dynamodb.ts), nothing else. */
export const CONSUMER_TABLE_ACTIONS = [
  "dynamodb:DeleteItem",
  "dynamodb:GetItem",
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
];

/** What the SES transport calls (src/consumer/mail/ses.ts: SendEmail; SendRawEmail for v1 clients). */
export const SES_SEND_ACTIONS = ["ses:SendEmail", "ses:SendRawEmail"];

/** The SES resources a consumer sends through and the bounce pair it consumes (email.ts). */
export interface MailArns {
  readonly identityArn: string;
  readonly configurationSetArn: string;
  readonly bounceQueueArn: string;
  readonly bounceDeadLetterQueueArn: string;
}

/**
 * SES authorises a send against the identity and the configuration set: both, and nothing else
 * (no `*`). The bounce queue is consumed like the registrations queue, with its own dead letters.
 */
function mailStatements(mail: MailArns | undefined): PolicyStatement[] {
  if (!mail) return [];
  return [
    {
      Sid: "SendWelcomeEmails",
      Effect: "Allow",
      Action: SES_SEND_ACTIONS,
      Resource: [mail.identityArn, mail.configurationSetArn],
    },
    {
      Sid: "ConsumeSesEvents",
      Effect: "Allow",
      Action: CONSUMER_QUEUE_ACTIONS,
      Resource: [mail.bounceQueueArn],
    },
    {
      Sid: "DeadLetterSesEvents",
      Effect: "Allow",
      Action: CONSUMER_DEAD_LETTER_ACTIONS,
      Resource: [mail.bounceDeadLetterQueueArn],
    },
  ];
}

export function consumerPolicy(
  queueArn: string,
  deadLetterQueueArn: string,
  kmsKeyArn?: string,
  tableArn?: string,
  mail?: MailArns,
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "ConsumeRegistrations", Effect: "Allow", Action: CONSUMER_QUEUE_ACTIONS, Resource: [queueArn] },
      {
        Sid: "DeadLetterPoisonMessages",
        Effect: "Allow",
        Action: CONSUMER_DEAD_LETTER_ACTIONS,
        Resource: [deadLetterQueueArn],
      },
      ...(tableArn
        ? [
            {
              Sid: "RecordSentEmails",
              Effect: "Allow" as const,
              Action: CONSUMER_TABLE_ACTIONS,
              Resource: [tableArn],
            },
          ]
        : []),
      ...mailStatements(mail),
      ...kmsStatement(kmsKeyArn),
    ],
  };
}

/** What `npm run status` and `dlq list|show|redrive|purge` read on both queues. */
export const OPERATOR_READ_ACTIONS = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"];

/**
 * What the operator does on the dead-letter queue: list (receive, then hand back by visibility),
 * redrive (delete after the copy is sent, or AWS's move task, whose caller needs the receive and
 * delete permissions here and send on the main queue), and purge — the dead-letter queue only.
 */
export const OPERATOR_DEAD_LETTER_ACTIONS = [
  "sqs:CancelMessageMoveTask",
  "sqs:ChangeMessageVisibility",
  "sqs:DeleteMessage",
  "sqs:ListMessageMoveTasks",
  "sqs:PurgeQueue",
  "sqs:ReceiveMessage",
  "sqs:StartMessageMoveTask",
];

/**
 * The age of the oldest message (status, on AWS). GetMetricData takes no resource-level
 * permission and has no condition key of its own (the Service Authorization Reference lists
 * neither for it), so its Resource must be "*": the one wildcard in an Allow, narrowed to the
 * stack's region by the global aws:RequestedRegion key. It reads metrics, never messages.
 */
export const OPERATOR_METRIC_ACTIONS = ["cloudwatch:GetMetricData"];

/** The operator: status, dlq list/show/redrive/purge — nothing else (docs/operations.md). */
export function operatorPolicy(
  queueArn: string,
  deadLetterQueueArn: string,
  region: string,
  kmsKeyArn?: string,
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadQueues",
        Effect: "Allow",
        Action: OPERATOR_READ_ACTIONS,
        Resource: [queueArn, deadLetterQueueArn],
      },
      { Sid: "RedriveToQueue", Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [queueArn] },
      {
        Sid: "ManageDeadLetters",
        Effect: "Allow",
        Action: OPERATOR_DEAD_LETTER_ACTIONS,
        Resource: [deadLetterQueueArn],
      },
      {
        Sid: "ReadQueueMetrics",
        Effect: "Allow",
        Action: OPERATOR_METRIC_ACTIONS,
        Resource: "*",
        Condition: { StringEquals: { "aws:RequestedRegion": region } },
      },
      ...kmsStatement(kmsKeyArn),
    ],
  };
}

/**
 * The queue policy: deny every request that does not use TLS. A Deny is the one place a broad
 * action belongs — it must cover every SQS action, present and future, for every principal;
 * it grants nothing (grants live in the producer and consumer policies above).
 */
export function tlsOnlyQueuePolicy(queueArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: queueArn,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/**
 * The bounce queue's policy: SNS may send to it on behalf of the SES events topic alone
 * (`aws:SourceArn`), and, as on every queue, nothing without TLS.
 */
export function topicSubscriberQueuePolicy(queueArn: string, topicArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowSesEventsTopic",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: queueArn,
        Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
      },
      ...tlsOnlyQueuePolicy(queueArn).Statement,
    ],
  };
}

/** The SES events topic: SES may publish to it for the one configuration set, nobody else. */
export function sesEventsTopicPolicy(topicArn: string, configurationSetArn: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowSesConfigurationSet",
        Effect: "Allow",
        Principal: { Service: "ses.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: { ArnEquals: { "aws:SourceArn": configurationSetArn } },
      },
    ],
  };
}

/** Trust policy of an optional role: only the configured principals may assume it. */
export function assumeRolePolicy(principalArns: readonly string[]): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AllowConfiguredPrincipals",
        Effect: "Allow",
        Principal: { AWS: [...principalArns] },
        Action: "sts:AssumeRole",
      },
    ],
  };
}

/**
 * What each component really calls, as data the tests share (test/infra/iam-simulation.test.ts):
 * every call is evaluated against the component's policy (allowed), and each SDK command class a
 * component's source imports must appear here (or be named in that test's exceptions with why).
 * `command` is the SDK class, `action` the IAM action that authorises it (a batch command is
 * authorised by its single-message action), `on` the resource it is made against.
 */
export type CallTarget =
  | "queue"
  | "deadLetterQueue"
  | "table"
  | "metrics"
  | "secret"
  | "sesIdentity"
  | "logGroup"
  | "logStream";

export interface ComponentCall {
  readonly command: string;
  readonly action: string;
  readonly on: CallTarget;
}

/** src/producer/producer.ts (batches) and src/cli/produce.ts (checks size and type first). */
export const PRODUCER_CALLS: readonly ComponentCall[] = [
  { command: "GetQueueAttributesCommand", action: "sqs:GetQueueAttributes", on: "queue" },
  { command: "SendMessageBatchCommand", action: "sqs:SendMessage", on: "queue" },
];

/** src/consumer/: the runtime on both queues, and the DynamoDB store's item actions on the table. */
export const CONSUMER_CALLS: readonly ComponentCall[] = [
  { command: "GetQueueAttributesCommand", action: "sqs:GetQueueAttributes", on: "queue" },
  { command: "ReceiveMessageCommand", action: "sqs:ReceiveMessage", on: "queue" },
  { command: "DeleteMessageBatchCommand", action: "sqs:DeleteMessage", on: "queue" },
  {
    command: "ChangeMessageVisibilityBatchCommand",
    action: "sqs:ChangeMessageVisibility",
    on: "queue",
  },
  { command: "GetQueueUrlCommand", action: "sqs:GetQueueUrl", on: "deadLetterQueue" },
  { command: "SendMessageCommand", action: "sqs:SendMessage", on: "deadLetterQueue" },
  { command: "PutItemCommand", action: "dynamodb:PutItem", on: "table" },
  { command: "GetItemCommand", action: "dynamodb:GetItem", on: "table" },
  { command: "UpdateItemCommand", action: "dynamodb:UpdateItem", on: "table" },
  { command: "DeleteItemCommand", action: "dynamodb:DeleteItem", on: "table" },
];

/** src/ops/ (status, dlq list/show/redrive/purge) and src/sqs/queue-counts.ts. */
export const OPERATOR_CALLS: readonly ComponentCall[] = [
  { command: "GetQueueAttributesCommand", action: "sqs:GetQueueAttributes", on: "queue" },
  { command: "GetQueueAttributesCommand", action: "sqs:GetQueueAttributes", on: "deadLetterQueue" },
  { command: "GetQueueUrlCommand", action: "sqs:GetQueueUrl", on: "deadLetterQueue" },
  { command: "ReceiveMessageCommand", action: "sqs:ReceiveMessage", on: "deadLetterQueue" },
  {
    command: "ChangeMessageVisibilityBatchCommand",
    action: "sqs:ChangeMessageVisibility",
    on: "deadLetterQueue",
  },
  { command: "DeleteMessageBatchCommand", action: "sqs:DeleteMessage", on: "deadLetterQueue" },
  { command: "PurgeQueueCommand", action: "sqs:PurgeQueue", on: "deadLetterQueue" },
  { command: "StartMessageMoveTaskCommand", action: "sqs:StartMessageMoveTask", on: "deadLetterQueue" },
  { command: "ListMessageMoveTasksCommand", action: "sqs:ListMessageMoveTasks", on: "deadLetterQueue" },
  { command: "SendMessageBatchCommand", action: "sqs:SendMessage", on: "queue" },
  { command: "GetMetricDataCommand", action: "cloudwatch:GetMetricData", on: "metrics" },
];

/**
 * Granted without a call in src/: `aws sqs cancel-message-move-task` is how an operator stops a
 * redrive the CLI started (docs/operations.md); the CLI itself never cancels.
 */
export const OPERATOR_MANUAL_ACTIONS = ["sqs:CancelMessageMoveTask"];
