# The queue pair, with the same values as src/config/queue-settings.ts (a test proves it):
# dead-letter queue, main queue, redrive and redrive-allow as their own resources, encryption
# at rest, and a TLS-only queue policy on both.

locals {
  # The dead-letter queue must accept anything the main queue accepted plus the consumer's
  # dead-letter attributes; 256 KiB is the limit every provider version accepts.
  dead_letter_max_message_size = 262144
  # KMS data keys are reused for 5 minutes (the AWS default): fewer KMS calls, lower cost.
  kms_data_key_reuse_seconds = 300
}

resource "aws_sqs_queue" "dead_letter" {
  name                              = var.dead_letter_queue_name
  visibility_timeout_seconds        = var.visibility_timeout_seconds
  message_retention_seconds         = var.dead_letter_retention_seconds
  max_message_size                  = local.dead_letter_max_message_size
  receive_wait_time_seconds         = var.receive_wait_time_seconds
  delay_seconds                     = 0
  sqs_managed_sse_enabled           = var.kms_key_arn == null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.kms_data_key_reuse_seconds
  fifo_queue                        = var.fifo
  content_based_deduplication       = var.content_based_deduplication

  lifecycle {
    precondition {
      condition     = !var.fifo || endswith(var.dead_letter_queue_name, ".fifo")
      error_message = "dead_letter_queue_name must end in .fifo when fifo is true."
    }
    precondition {
      condition     = var.fifo || !var.content_based_deduplication
      error_message = "content_based_deduplication applies to FIFO queues only: set fifo = true too, or drop it."
    }
  }
}

resource "aws_sqs_queue" "main" {
  name                              = var.queue_name
  visibility_timeout_seconds        = var.visibility_timeout_seconds
  message_retention_seconds         = var.message_retention_seconds
  max_message_size                  = var.maximum_message_size_bytes
  receive_wait_time_seconds         = var.receive_wait_time_seconds
  delay_seconds                     = var.delay_seconds
  sqs_managed_sse_enabled           = var.kms_key_arn == null
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = local.kms_data_key_reuse_seconds
  fifo_queue                        = var.fifo
  content_based_deduplication       = var.content_based_deduplication

  lifecycle {
    precondition {
      condition     = !var.fifo || endswith(var.queue_name, ".fifo")
      error_message = "queue_name must end in .fifo when fifo is true."
    }
    precondition {
      condition     = var.fifo || !var.content_based_deduplication
      error_message = "content_based_deduplication applies to FIFO queues only: set fifo = true too, or drop it."
    }
  }
}

resource "aws_sqs_queue_redrive_policy" "main" {
  queue_url = aws_sqs_queue.main.url
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dead_letter.arn
    maxReceiveCount     = var.max_receive_count
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
