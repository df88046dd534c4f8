# The consumer service's two roles, the same documents as infra-pulumi/service/policies.ts:
# - task: the consumer's own calls (the queue pair, the table, the key, and mail: with the ses
#   mailer and the mail part (email.tf), the consumer policy's SES statements — send as its
#   identity through its configuration set, consume its bounce pair; with the ses mailer alone,
#   send as the one identity service_ses_identity_arn names);
# - execution: the ECS agent's calls (pull from this repository, write to this log group, read
#   these secrets).
# Two wildcards remain in Allow statements, both forced by AWS: ecr:GetAuthorizationToken takes
# no resource ("*"; the token pulls nothing by itself), and the awslogs driver's streams are named
# by task id, unknown in advance (the prefix "consumer/*" inside the one log group).

locals {
  ecs_tasks_trust = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EcsTasksAssume"
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  fleet_secret_arns     = compact([var.service_digest_key_secret_arn, var.service_mail_secret_arn])
  fleet_secrets_manager = [for arn in local.fleet_secret_arns : arn if strcontains(arn, ":secretsmanager:")]
  fleet_parameters      = [for arn in local.fleet_secret_arns : arn if strcontains(arn, ":ssm:")]
  # The ses fleet sends through the stack's own mail part when there is one (and consumes its bounces).
  fleet_mail = local.service.serviceMailer == "ses" && local.mail_enabled
}

resource "aws_iam_role" "task" {
  count              = local.fleet
  name_prefix        = "sqs-messaging-task-"
  description        = "The consumer tasks' own calls: queue, table, mail."
  assume_role_policy = local.ecs_tasks_trust
}

resource "aws_iam_role_policy" "task" {
  count = local.fleet
  name  = "consume-registrations"
  role  = aws_iam_role.task[0].name
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
      {
        Sid      = "RecordSentEmails"
        Effect   = "Allow"
        Action   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = [try(aws_dynamodb_table.sent_emails[0].arn, null)]
      },
      ], local.fleet_mail ? [
      # The consumer policy's SES statements (iam.tf), in its order.
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
      ] : [], local.kms_statements, local.service.serviceMailer == "ses" && !local.mail_enabled ? [{
        Sid      = "SendWelcomeEmails"
        Effect   = "Allow"
        Action   = ["ses:SendEmail"]
        Resource = [var.service_ses_identity_arn]
    }] : [])
  })
}

resource "aws_iam_role" "execution" {
  count              = local.fleet
  name_prefix        = "sqs-messaging-execution-"
  description        = "The ECS agent for the consumer tasks: image, logs, secrets."
  assume_role_policy = local.ecs_tasks_trust
}

resource "aws_iam_role_policy" "execution" {
  count = local.fleet
  name  = "start-consumer-tasks"
  role  = aws_iam_role.execution[0].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        Sid      = "PullImage"
        Effect   = "Allow"
        Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        Resource = [aws_ecr_repository.consumer[0].arn]
      },
      {
        # Not resource-scoped by AWS: the only "*" resource, and it grants no image by itself.
        Sid      = "RegistryToken"
        Effect   = "Allow"
        Action   = ["ecr:GetAuthorizationToken"]
        Resource = "*"
      },
      {
        # Both authorised on the stream (log-stream resource type), not on the group.
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.consumer[0].arn}:log-stream:consumer/*"]
      },
      ], length(local.fleet_secrets_manager) == 0 ? [] : [{
        Sid      = "ReadSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = local.fleet_secrets_manager
        }], length(local.fleet_parameters) == 0 ? [] : [{
        Sid      = "ReadParameters"
        Effect   = "Allow"
        Action   = ["ssm:GetParameters"]
        Resource = local.fleet_parameters
    }])
  })
}
