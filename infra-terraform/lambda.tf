# The consumer as an AWS Lambda function, the same resources as infra-pulumi/lambda/ (a test
# compares the plans): its log group, its role, the function and the SQS event source mapping that
# feeds it; its alarms in lambda_alarms.tf, beside the consumer's topic and dead-letter alarm
# (service_alarms.tf). Off unless create_function, never with create_service; choosing between
# them: docs/infrastructure.md. The zip is the one `npm run build:lambda` writes.

locals {
  function        = local.lambda.createFunction ? 1 : 0
  function_alarms = local.lambda.createFunction && local.service.createAlarms ? 1 : 0
  # From the project root unless absolute, as the Pulumi program reads it.
  function_bundle = startswith(local.lambda.functionBundlePath, "/") ? local.lambda.functionBundlePath : "${path.module}/../${local.lambda.functionBundlePath}"
  # The ses function sends through the stack's own mail part when there is one.
  function_mail        = local.service.serviceMailer == "ses" && local.mail_enabled
  function_secret_arns = compact([var.service_digest_key_secret_arn, var.service_mail_secret_arn])
}

resource "aws_cloudwatch_log_group" "function" {
  count             = local.function
  name              = "/aws/lambda/${local.lambda.functionName}"
  retention_in_days = local.service.logRetentionDays

  lifecycle {
    precondition {
      condition     = !local.service.createService
      error_message = "create_service and create_function are both true: a stack runs one consumer compute (Fargate or Lambda, docs/infrastructure.md); set one of them to false."
    }
  }
}

resource "aws_iam_role" "function" {
  count       = local.function
  name_prefix = "sqs-messaging-function-"
  description = "The consumer function, its event source mapping and its logs: queue, table, mail."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "LambdaAssume"
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

# The consumer policy's queue, dead-letter (sends only) and table statements (iam.tf; the mapping
# polls with this role), sends to its own queue (the hand-over of an unrecorded accepted send), then SES, the secrets the handler reads itself, and the runtime's log
# writes (both on the stream: CreateLogStream is authorised on the stream it creates). Lambda names
# its streams by date and execution environment: the streams of the one group ("*").
resource "aws_iam_role_policy" "function" {
  count = local.function
  name  = "consume-registrations"
  role  = aws_iam_role.function[0].name
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
        Sid    = "HandOverAcceptedSends"
        Effect = "Allow"
        # An accepted send the store could not record by the invocation's end goes back to this
        # queue on a signed copy of its message (src/lambda/accepted-copy.ts).
        Action   = ["sqs:SendMessage"]
        Resource = [module.registrations.arn]
      },
      {
        Sid    = "DeadLetterPoisonMessages"
        Effect = "Allow"
        # The handler reads the dead-letter queue's URL from the RedrivePolicy: no GetQueueUrl.
        Action   = ["sqs:SendMessage"]
        Resource = [module.registrations.dead_letter_arn]
      },
      {
        Sid      = "RecordSentEmails"
        Effect   = "Allow"
        Action   = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = [try(aws_dynamodb_table.sent_emails[0].arn, null)]
      },
      ], local.kms_statements, local.service.serviceMailer == "ses" ? [{
        Sid      = "SendWelcomeEmails"
        Effect   = "Allow"
        Action   = ["ses:SendEmail"]
        Resource = local.function_mail ? [aws_sesv2_email_identity.mail[0].arn, aws_sesv2_configuration_set.mail[0].arn] : [var.service_ses_identity_arn]
      }] : [], [
      {
        Sid      = "ReadSecrets"
        Effect   = "Allow"
        Action   = ["secretsmanager:GetSecretValue"]
        Resource = local.function_secret_arns
      },
      {
        Sid      = "WriteLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.function[0].arn}:log-stream:*"]
      },
    ])
  })
}

resource "aws_lambda_function" "consumer" {
  count         = local.function
  function_name = local.lambda.functionName
  role          = aws_iam_role.function[0].arn
  # The newest Node runtime the provider accepts; arm64 (Graviton) costs ~20 % less a GB-second.
  runtime          = "nodejs22.x"
  handler          = "index.handler"
  architectures    = ["arm64"]
  memory_size      = local.lambda.functionMemoryMib
  timeout          = local.lambda.functionTimeoutSeconds
  filename         = local.function_bundle
  source_code_hash = filebase64sha256(local.function_bundle)

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.function[0].name
  }

  # The Fargate container's names where the meaning is the same (src/config/env.ts reads both); the
  # secrets as ARNs, read by the handler once per container.
  environment {
    variables = merge({
      LOG_LEVEL                          = "info"
      MAILER                             = local.service.serviceMailer
      MAIL_FROM                          = var.service_mail_from
      MAIL_RATE_PER_SECOND               = tostring(local.function_send_rate)
      METRICS_EMF                        = "1"
      REGISTRATION_DIGEST_KEY_SECRET_ARN = var.service_digest_key_secret_arn
      SENT_EMAILS_TABLE_NAME             = try(aws_dynamodb_table.sent_emails[0].name, null)
      SENT_EMAIL_STORE                   = "dynamodb"
      SQS_QUEUE_URL                      = module.registrations.url
      }, var.service_mail_secret_arn == null ? {} : { SMTP_URL_SECRET_ARN = var.service_mail_secret_arn },
      local.function_mail ? { SES_CONFIGURATION_SET = aws_sesv2_configuration_set.mail[0].configuration_set_name } : {},
    )
  }

  lifecycle {
    precondition {
      condition     = var.endpoint == null
      error_message = "create_function is true on an emulator stack (endpoint is set): the emulator has no Lambda; turn one of them off."
    }
    precondition {
      condition     = length(aws_dynamodb_table.sent_emails) == 1
      error_message = "create_function needs the shared sent-email table (create_sent_emails_table true): invocations share no disk, so without the table they would send duplicate emails."
    }
    precondition {
      condition     = var.service_digest_key_secret_arn != null && strcontains(coalesce(var.service_digest_key_secret_arn, "-"), ":secretsmanager:") && (var.service_mail_secret_arn == null || strcontains(coalesce(var.service_mail_secret_arn, "-"), ":secretsmanager:"))
      error_message = "service_digest_key_secret_arn is required with the function, and it and service_mail_secret_arn must be Secrets Manager secrets: the function reads its secrets from Secrets Manager."
    }
    precondition {
      condition     = local.service.serviceMailer == "smtp" ? var.service_mail_secret_arn != null && var.service_ses_identity_arn == null : (var.service_ses_identity_arn != null) != local.mail_enabled && var.service_mail_secret_arn == null
      error_message = "service_mailer smtp needs service_mail_secret_arn (and no SES identity); ses needs service_ses_identity_arn (and no mail secret), except with mail_domain set, whose own SES identity the function sends as: then remove service_ses_identity_arn."
    }
    precondition {
      condition     = var.service_mail_from != null
      error_message = "service_mail_from is required with the function (e.g. \"Cadastro <no-reply@example.com>\")."
    }
    precondition {
      condition     = var.service_image == null && length(var.service_subnet_ids) + length(var.service_security_group_ids) == 0
      error_message = "service_image, service_subnet_ids and service_security_group_ids are for the Fargate service, not the function: remove them."
    }
    precondition {
      condition     = local.lambda.functionTimeoutSeconds >= local.function_min_timeout
      error_message = "function_timeout_seconds is shorter than the slowest batch (function_batch_size messages at the invocation's send rate, then a claim lease): raise it, or lower function_batch_size."
    }
  }

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_event_source_mapping" "consumer" {
  count                              = local.function
  event_source_arn                   = module.registrations.arn
  function_name                      = aws_lambda_function.consumer[0].arn
  batch_size                         = local.lambda.functionBatchSize
  maximum_batching_window_in_seconds = local.lambda.functionBatchingWindowSeconds
  # Partial batch responses: only the messages the handler names in batchItemFailures come back.
  function_response_types = ["ReportBatchItemFailures"]

  # Every invocation's send cap together stays within the account's mail quota.
  scaling_config {
    maximum_concurrency = local.function_concurrency
  }

  lifecycle {
    precondition {
      condition     = local.queues.visibilityTimeoutSeconds >= local.function_min_visibility
      error_message = "visibility_timeout_seconds ${local.queues.visibilityTimeoutSeconds} is shorter than function_batching_window_seconds ${local.lambda.functionBatchingWindowSeconds} + function_timeout_seconds ${local.lambda.functionTimeoutSeconds} (a message would come back while its invocation runs; AWS refuses a visibility below the timeout): raise it to ${local.function_recommended_visibility} (AWS recommends ${local.function_visibility_factor} x the timeout + the window)."
    }
    precondition {
      condition     = !local.queues.fifo || local.lambda.functionBatchingWindowSeconds == 0
      error_message = "function_batching_window_seconds ${local.lambda.functionBatchingWindowSeconds} is set on a FIFO queue (fifo true), and AWS refuses a batching window for FIFO queues: set it to 0."
    }
    precondition {
      condition     = local.lambda.functionBatchSize <= 10 || local.lambda.functionBatchingWindowSeconds >= 1
      error_message = "function_batch_size above 10 needs a batching window (AWS): set function_batching_window_seconds to 1 or more, or the batch to 10."
    }
    precondition {
      condition     = !local.queues.fifo || local.lambda.functionBatchSize <= 10
      error_message = "function_batch_size is above 10, the most AWS hands a function from a FIFO queue: lower it."
    }
  }

  # AWS checks the role's SQS permissions when the mapping is created.
  depends_on = [aws_iam_role_policy.function]
}
