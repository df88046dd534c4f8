# The queue pair, from local.queues (settings.json plus the variables; the Pulumi program builds
# the same, a test compares the two plans): dead-letter queue, main queue, redrive and
# redrive-allow as their own resources, encryption at rest, and a TLS-only queue policy on both.
# Encryption: SSE-SQS, or the customer-managed key; the provider rejects sqs_managed_sse_enabled
# (even false) next to kms_master_key_id, so it is left unset (null) when there is a key; and the
# data-key reuse period means something only with a key (the provider plans 0 without one).

resource "aws_sqs_queue" "dead_letter" {
  name                              = local.queues.deadLetterQueueName
  visibility_timeout_seconds        = local.queues.visibilityTimeoutSeconds
  message_retention_seconds         = local.queues.deadLetterRetentionSeconds
  max_message_size                  = local.queues.deadLetterMaximumMessageSizeBytes
  receive_wait_time_seconds         = local.queues.receiveWaitTimeSeconds
  delay_seconds                     = 0
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : local.queues.kmsDataKeyReusePeriodSeconds
  fifo_queue                        = local.queues.fifo
  content_based_deduplication       = local.queues.contentBasedDeduplication

  lifecycle {
    precondition {
      condition     = !local.queues.fifo || endswith(local.queues.deadLetterQueueName, ".fifo")
      error_message = "dead_letter_queue_name must end in .fifo when fifo is true."
    }
    precondition {
      condition     = local.queues.fifo || !local.queues.contentBasedDeduplication
      error_message = "content_based_deduplication applies to FIFO queues only: set fifo = true too, or drop it."
    }
  }
}

resource "aws_sqs_queue" "main" {
  name                              = local.queues.queueName
  visibility_timeout_seconds        = local.queues.visibilityTimeoutSeconds
  message_retention_seconds         = local.queues.messageRetentionSeconds
  max_message_size                  = local.queues.maximumMessageSizeBytes
  receive_wait_time_seconds         = local.queues.receiveWaitTimeSeconds
  delay_seconds                     = local.queues.delaySeconds
  sqs_managed_sse_enabled           = var.kms_key_arn == null ? true : null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = var.kms_key_arn == null ? null : local.queues.kmsDataKeyReusePeriodSeconds
  fifo_queue                        = local.queues.fifo
  content_based_deduplication       = local.queues.contentBasedDeduplication

  lifecycle {
    precondition {
      condition     = !local.queues.fifo || endswith(local.queues.queueName, ".fifo")
      error_message = "queue_name must end in .fifo when fifo is true."
    }
    precondition {
      condition     = local.queues.fifo || !local.queues.contentBasedDeduplication
      error_message = "content_based_deduplication applies to FIFO queues only: set fifo = true too, or drop it."
    }
  }
}

resource "aws_sqs_queue_redrive_policy" "main" {
  queue_url = aws_sqs_queue.main.url
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = local.queues.maxReceiveCount
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
# every SQS action for every principal; it grants nothing (grants are in iam.tf).
resource "aws_sqs_queue_policy" "main" {
  queue_url = aws_sqs_queue.main.url
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "sqs:*"
      Resource  = aws_sqs_queue.main.arn
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
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
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
}
