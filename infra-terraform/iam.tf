# Least-privilege access, the same documents as infra-pulumi/policies.ts (a test compares plans):
# exact actions, the queue ARNs (and the KMS key, when there is one) as the only resources.
# Batch actions are authorised by their single-message action.

locals {
  kms_statements = var.kms_key_arn == null ? [] : [{
    Sid      = "UseQueueKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource = [var.kms_key_arn]
  }]
}

resource "aws_iam_policy" "producer" {
  count       = local.stack.createAccessPolicies ? 1 : 0
  name_prefix = "sqs-messaging-producer-"
  description = "Send user registrations to the queue."
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([{
      Sid      = "SendRegistrations"
      Effect   = "Allow"
      Action   = ["sqs:GetQueueAttributes", "sqs:SendMessage"]
      Resource = [module.registrations.arn]
    }], local.kms_statements)
  })
}

resource "aws_iam_policy" "consumer" {
  count       = local.stack.createAccessPolicies ? 1 : 0
  name_prefix = "sqs-messaging-consumer-"
  description = "Receive, delete and dead-letter user registrations."
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "ConsumeRegistrations"
        Effect   = "Allow"
        Action   = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
        Resource = [module.registrations.arn]
      },
      {
        Sid      = "DeadLetterPoisonMessages"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
        Resource = [module.registrations.dead_letter_arn]
      },
      ], length(aws_dynamodb_table.sent_emails) == 0 ? [] : [{
        # The item actions of the DynamoDB store (src/consumer/store/dynamodb.ts), on that table only.
        Sid      = "RecordSentEmails"
        Effect   = "Allow"
        Action   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = [aws_dynamodb_table.sent_emails[0].arn]
      }], local.mail_enabled ? [
      # With SES (email.tf): send through the identity and its configuration set only (SES
      # authorises a send against both), and consume the bounce pair like the registrations.
      {
        Sid      = "SendWelcomeEmails"
        Effect   = "Allow"
        Action   = ["ses:SendEmail", "ses:SendRawEmail"]
        Resource = [aws_sesv2_email_identity.mail[0].arn, aws_sesv2_configuration_set.mail[0].arn]
      },
      {
        Sid      = "ConsumeSesEvents"
        Effect   = "Allow"
        Action   = ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"]
        Resource = [module.bounces[0].arn]
      },
      {
        Sid      = "DeadLetterSesEvents"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueUrl", "sqs:SendMessage"]
        Resource = [module.bounces[0].dead_letter_arn]
      },
    ] : [], local.kms_statements)
  })
}

# The operator (status, dlq list/show/redrive/purge — nothing else; docs/operations.md).
# cloudwatch:GetMetricData takes no resource-level permission and has no condition key of its own,
# so its Resource must be "*": the one wildcard in an Allow, held to the stack's region.
resource "aws_iam_policy" "operator" {
  count       = local.stack.createAccessPolicies ? 1 : 0
  name_prefix = "sqs-messaging-operator-"
  description = "Operate the queues: status, and dead-letter list, redrive and purge."
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "ReadQueues"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
        Resource = [module.registrations.arn, module.registrations.dead_letter_arn]
      },
      {
        Sid      = "RedriveToQueue"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [module.registrations.arn]
      },
      {
        Sid    = "ManageDeadLetters"
        Effect = "Allow"
        Action = [
          "sqs:CancelMessageMoveTask",
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:ListMessageMoveTasks",
          "sqs:PurgeQueue",
          "sqs:ReceiveMessage",
          "sqs:StartMessageMoveTask",
        ]
        Resource = [module.registrations.dead_letter_arn]
      },
      {
        Sid       = "ReadQueueMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:GetMetricData"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:RequestedRegion" = local.stack.region } }
      },
    ], local.kms_statements)
  })
}

# The roles the configured principals assume, one call each (no principals: no role).
module "producer_role" {
  source     = "./modules/access-role"
  count      = local.stack.createAccessPolicies && length(var.producer_principals) > 0 ? 1 : 0
  part       = "producer"
  principals = var.producer_principals
  policy_arn = aws_iam_policy.producer[0].arn
}

module "consumer_role" {
  source     = "./modules/access-role"
  count      = local.stack.createAccessPolicies && length(var.consumer_principals) > 0 ? 1 : 0
  part       = "consumer"
  principals = var.consumer_principals
  policy_arn = aws_iam_policy.consumer[0].arn
}

module "operator_role" {
  source     = "./modules/access-role"
  count      = local.stack.createAccessPolicies && length(var.operator_principals) > 0 ? 1 : 0
  part       = "operator"
  principals = var.operator_principals
  policy_arn = aws_iam_policy.operator[0].arn
}

# Stacks applied before modules/access-role held the roles at the root: move them, never replace.
moved {
  from = aws_iam_role.producer[0]
  to   = module.producer_role[0].aws_iam_role.this
}
moved {
  from = aws_iam_role_policy_attachment.producer[0]
  to   = module.producer_role[0].aws_iam_role_policy_attachment.this
}
moved {
  from = aws_iam_role.consumer[0]
  to   = module.consumer_role[0].aws_iam_role.this
}
moved {
  from = aws_iam_role_policy_attachment.consumer[0]
  to   = module.consumer_role[0].aws_iam_role_policy_attachment.this
}
moved {
  from = aws_iam_role.operator[0]
  to   = module.operator_role[0].aws_iam_role.this
}
moved {
  from = aws_iam_role_policy_attachment.operator[0]
  to   = module.operator_role[0].aws_iam_role_policy_attachment.this
}
