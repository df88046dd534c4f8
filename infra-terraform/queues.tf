# The registrations queue pair, from local.queues (settings.json plus the variables; the Pulumi
# program builds the same with its QueuePair, a test compares the two plans). Every queue of the
# stack is a call of modules/queue-pair (the bounce pair is in email.tf).

module "registrations" {
  source = "./modules/queue-pair"

  name                                   = local.queues.queueName
  dead_letter_name                       = local.queues.deadLetterQueueName
  visibility_timeout_seconds             = local.queues.visibilityTimeoutSeconds
  message_retention_seconds              = local.queues.messageRetentionSeconds
  dead_letter_retention_seconds          = local.queues.deadLetterRetentionSeconds
  maximum_message_size_bytes             = local.queues.maximumMessageSizeBytes
  dead_letter_maximum_message_size_bytes = local.queues.deadLetterMaximumMessageSizeBytes
  receive_wait_time_seconds              = local.queues.receiveWaitTimeSeconds
  max_receive_count                      = local.queues.maxReceiveCount
  delay_seconds                          = local.queues.delaySeconds
  kms_key_arn                            = var.kms_key_arn
  kms_data_key_reuse_period_seconds      = local.queues.kmsDataKeyReusePeriodSeconds
  fifo                                   = local.queues.fifo
  content_based_deduplication            = local.queues.contentBasedDeduplication
}

# Stacks applied before the module held these at the root: move them, never replace a queue.
moved {
  from = aws_sqs_queue.main
  to   = module.registrations.aws_sqs_queue.main
}
moved {
  from = aws_sqs_queue.dead_letter
  to   = module.registrations.aws_sqs_queue.dead_letter
}
moved {
  from = aws_sqs_queue_redrive_policy.main
  to   = module.registrations.aws_sqs_queue_redrive_policy.main
}
moved {
  from = aws_sqs_queue_redrive_allow_policy.dead_letter
  to   = module.registrations.aws_sqs_queue_redrive_allow_policy.dead_letter
}
moved {
  from = aws_sqs_queue_policy.main
  to   = module.registrations.aws_sqs_queue_policy.main
}
moved {
  from = aws_sqs_queue_policy.dead_letter
  to   = module.registrations.aws_sqs_queue_policy.dead_letter
}
