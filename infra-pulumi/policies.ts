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
  Condition?: Record<string, Record<string, string>>;
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

export function consumerPolicy(
  queueArn: string,
  deadLetterQueueArn: string,
  kmsKeyArn?: string,
  tableArn?: string,
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
