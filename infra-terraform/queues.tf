# The registrations queue pair, from local.queues (settings.json plus the variables; the Pulumi
# program builds the same with its QueuePair, a test compares the two plans). Every queue of the
# stack is a call of modules/queue-pair (the bounce pair is in email.tf).

module "registrations" {
  source = "./modules/queue-pair"

  settings    = local.queues
  kms_key_arn = var.kms_key_arn
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
