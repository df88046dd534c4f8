# A queue and its dead-letter queue, the same as infra-pulumi/queue-pair.ts (a test compares the
# plans): redrive and redrive-allow as their own resources, encryption at rest, and a TLS-only
# queue policy on both. The registrations pair and the bounce pair are two calls of this module.
# Encryption: SSE-SQS, or the customer-managed key; the provider rejects sqs_managed_sse_enabled
# (even false) next to kms_master_key_id, so it is left unset (null) when there is a key; and the
# data-key reuse period means something only with a key (the provider plans 0 without one).

locals {
  # A standard queue has no deduplication: SQS refuses the FIFO-only attribute there.
  deduplication_scope = var.settings.fifo ? var.settings.deduplicationScope : null
  sse_sqs             = var.kms_key_arn == null ? true : null
  data_key_reuse      = var.kms_key_arn == null ? null : var.settings.kmsDataKeyReusePeriodSeconds
  deny_without_tls    = { Bool = { "aws:SecureTransport" = "false" } }
}

resource "aws_sqs_queue" "dead_letter" {
  name                              = var.settings.deadLetterQueueName
  visibility_timeout_seconds        = var.settings.visibilityTimeoutSeconds
  message_retention_seconds         = var.settings.deadLetterRetentionSeconds
  max_message_size                  = var.settings.deadLetterMaximumMessageSizeBytes
  receive_wait_time_seconds         = var.settings.receiveWaitTimeSeconds
  delay_seconds                     = 0
  sqs_managed_sse_enabled           = local.sse_sqs
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.data_key_reuse
  fifo_queue                        = var.settings.fifo
  content_based_deduplication       = var.settings.contentBasedDeduplication
  deduplication_scope               = local.deduplication_scope
}

resource "aws_sqs_queue" "main" {
  name                              = var.settings.queueName
  visibility_timeout_seconds        = var.settings.visibilityTimeoutSeconds
  message_retention_seconds         = var.settings.messageRetentionSeconds
  max_message_size                  = var.settings.maximumMessageSizeBytes
  receive_wait_time_seconds         = var.settings.receiveWaitTimeSeconds
  delay_seconds                     = var.settings.delaySeconds
  sqs_managed_sse_enabled           = local.sse_sqs
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.data_key_reuse
  fifo_queue                        = var.settings.fifo
  content_based_deduplication       = var.settings.contentBasedDeduplication
  deduplication_scope               = local.deduplication_scope
}

resource "aws_sqs_queue_redrive_policy" "main" {
  queue_url = aws_sqs_queue.main.url
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.settings.maxReceiveCount
  })
}

resource "aws_sqs_queue_redrive_allow_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.url
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.main.arn]
  })
}

# Deny every request without TLS. A Deny is the one place a broad action belongs: it must cover
# every SQS action for every principal; it grants nothing (grants are the caller's).
resource "aws_sqs_queue_policy" "main" {
  queue_url = aws_sqs_queue.main.url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [for statement in var.main_policy_allow_statements : merge(statement, { Resource = aws_sqs_queue.main.arn })],
      [{
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "sqs:*"
        Resource  = aws_sqs_queue.main.arn
        Condition = local.deny_without_tls
      }],
    )
  })
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.dead_letter.arn
      Condition = local.deny_without_tls
    }]
  })
}
