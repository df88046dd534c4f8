# Offline plan/apply tests with a mocked AWS provider: `terraform test` (see npm test).

mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:mocked"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/mocked"
    }
  }
  mock_resource "aws_iam_policy" {
    defaults = {
      arn = "arn:aws:iam::123456789012:policy/mocked"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mocked"
    }
  }
  mock_resource "aws_sesv2_email_identity" {
    defaults = {
      arn = "arn:aws:ses:us-east-1:123456789012:identity/mocked"
    }
  }
  mock_resource "aws_sesv2_configuration_set" {
    defaults = {
      arn = "arn:aws:ses:us-east-1:123456789012:configuration-set/mocked"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:123456789012:mocked"
    }
  }
}

variables {
  consumer_principals = ["arn:aws:iam::123456789012:role/worker"]
  # `terraform test` destroys what it applied, and the table's prevent_destroy refuses that; the
  # table and its IAM are covered by the plan parity test (test/infra/parity.test.ts).
  create_sent_emails_table = false
}

run "queue_pair_with_defaults" {
  command = apply

  # Expected values come from the data file itself (the module reads it the same way), never
  # from copies written here.
  assert {
    condition     = module.registrations.queue.name == jsondecode(file("settings.json")).queues.queueName && module.registrations.dead_letter.name == jsondecode(file("settings.json")).queues.deadLetterQueueName
    error_message = "queue names must come from settings.json"
  }
  assert {
    condition     = module.registrations.queue.visibility_timeout_seconds == jsondecode(file("settings.json")).queues.visibilityTimeoutSeconds && module.registrations.queue.receive_wait_time_seconds == jsondecode(file("settings.json")).queues.receiveWaitTimeSeconds
    error_message = "timeouts must come from settings.json"
  }
  assert {
    condition     = module.registrations.dead_letter.max_message_size == jsondecode(file("settings.json")).queues.deadLetterMaximumMessageSizeBytes && module.registrations.queue.message_retention_seconds == jsondecode(file("settings.json")).queues.messageRetentionSeconds
    error_message = "sizes and retention must come from settings.json"
  }
  assert {
    condition     = module.registrations.queue.sqs_managed_sse_enabled && module.registrations.dead_letter.sqs_managed_sse_enabled
    error_message = "both queues must be encrypted at rest"
  }
  assert {
    condition     = jsondecode(module.registrations.redrive_policy.redrive_policy).maxReceiveCount == jsondecode(file("settings.json")).queues.maxReceiveCount
    error_message = "redrive must happen after settings.json's maxReceiveCount"
  }
  assert {
    condition     = jsondecode(module.registrations.redrive_policy.redrive_policy).deadLetterTargetArn == module.registrations.dead_letter.arn
    error_message = "redrive must target the dead-letter queue"
  }
  assert {
    condition     = jsondecode(module.registrations.redrive_allow_policy.redrive_allow_policy).sourceQueueArns == [module.registrations.queue.arn]
    error_message = "only the main queue may redrive into the dead-letter queue"
  }
  assert {
    condition     = jsondecode(module.registrations.queue_policy.policy).Statement[0].Condition.Bool["aws:SecureTransport"] == "false" && jsondecode(module.registrations.queue_policy.policy).Statement[0].Effect == "Deny"
    error_message = "the queue policy must deny requests without TLS"
  }
  assert {
    condition     = jsondecode(aws_iam_policy.producer[0].policy).Statement[0].Action == ["sqs:GetQueueAttributes", "sqs:SendMessage"]
    error_message = "the producer may only send and read attributes"
  }
  assert {
    condition     = jsondecode(aws_iam_policy.consumer[0].policy).Statement[1].Resource == [module.registrations.dead_letter.arn]
    error_message = "the consumer may send only to the dead-letter queue"
  }
  assert {
    condition     = length(module.consumer_role) == 1 && length(module.producer_role) == 0 && length(module.operator_role) == 0
    error_message = "a role exists only for configured principals"
  }
  assert {
    condition     = jsondecode(aws_iam_policy.operator[0].policy).Statement[2].Resource == [module.registrations.dead_letter.arn] && contains(jsondecode(aws_iam_policy.operator[0].policy).Statement[2].Action, "sqs:PurgeQueue")
    error_message = "the operator may purge, receive and delete on the dead-letter queue only"
  }
}

run "queue_only_default_has_no_ses" {
  command = plan

  assert {
    condition     = length(aws_sesv2_email_identity.mail) == 0 && length(module.bounces) == 0 && length(aws_sns_topic.ses_events) == 0
    error_message = "without mail_domain there must be no SES resources"
  }
}

run "ses_email" {
  command = apply

  variables {
    mail_domain = "mail.example.com"
  }

  assert {
    condition     = aws_sesv2_email_identity.mail[0].email_identity == "mail.example.com" && aws_sesv2_configuration_set.mail[0].delivery_options[0].tls_policy == "REQUIRE"
    error_message = "the identity must be the mail domain, and the configuration set must require TLS"
  }
  assert {
    condition     = toset(aws_sesv2_configuration_set_event_destination.bounces[0].event_destination[0].matching_event_types) == toset(["BOUNCE", "COMPLAINT"])
    error_message = "bounce and complaint events must reach the topic"
  }
  assert {
    condition     = module.bounces[0].queue.sqs_managed_sse_enabled && module.bounces[0].dead_letter.sqs_managed_sse_enabled
    error_message = "the bounce pair must be encrypted at rest"
  }
  assert {
    condition     = jsondecode(module.bounces[0].queue_policy.policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == aws_sns_topic.ses_events[0].arn && jsondecode(module.bounces[0].queue_policy.policy).Statement[1].Effect == "Deny"
    error_message = "only the SES events topic may send to the bounce queue, and only over TLS"
  }
  assert {
    condition     = jsondecode(aws_iam_policy.consumer[0].policy).Statement[2].Resource == [aws_sesv2_email_identity.mail[0].arn, aws_sesv2_configuration_set.mail[0].arn]
    error_message = "the consumer may send only through the identity and its configuration set"
  }
  assert {
    condition     = output.bounce_queue_url == module.bounces[0].queue.url && output.ses_configuration_set_name == jsondecode(file("settings.json")).email.configurationSetName
    error_message = "the bounce queue and configuration set must be outputs"
  }
  assert {
    condition     = output.mail_rate_per_second == jsondecode(file("settings.json")).email.accountSendRatePerSecond / jsondecode(file("settings.json")).email.maxConsumerTasks
    error_message = "each task's send rate must be the account's rate divided by the most tasks"
  }
}

run "rejects_bad_mail_domain" {
  command = plan
  variables {
    mail_domain = "Not A Domain"
  }
  expect_failures = [var.mail_domain]
}

run "variables_override_the_data_file" {
  command = plan

  variables {
    visibility_timeout_seconds = 61
    fifo                       = false
    max_receive_count          = 9
  }

  assert {
    condition     = module.registrations.queue.visibility_timeout_seconds == 61 && module.registrations.dead_letter.visibility_timeout_seconds == 61
    error_message = "a variable must override its setting"
  }
  assert {
    condition     = module.registrations.queue.message_retention_seconds == jsondecode(file("settings.json")).queues.messageRetentionSeconds
    error_message = "settings without a variable value must keep the data file's value"
  }
}

run "local_emulator_has_no_iam" {
  command = plan

  variables {
    endpoint               = "http://127.0.0.1:4566"
    create_access_policies = false
    consumer_principals    = []
  }

  assert {
    condition     = length(aws_iam_policy.producer) == 0 && length(aws_iam_policy.consumer) == 0
    error_message = "no IAM on the emulator"
  }
}

run "fifo_pair" {
  command = plan

  variables {
    fifo                        = true
    content_based_deduplication = true
    queue_name                  = "signups.fifo"
    dead_letter_queue_name      = "signups-dlq.fifo"
  }

  assert {
    condition     = module.registrations.queue.fifo_queue && module.registrations.dead_letter.fifo_queue && module.registrations.queue.content_based_deduplication
    error_message = "both queues must be FIFO"
  }
}

run "rejects_out_of_range_timeout" {
  command = plan
  variables {
    visibility_timeout_seconds = 50000
  }
  expect_failures = [var.visibility_timeout_seconds]
}

run "rejects_malformed_role_arn" {
  command = plan
  variables {
    assume_role_arn = "arn:aws:iam::1:user/x"
  }
  expect_failures = [var.assume_role_arn]
}

run "rejects_bad_receive_count" {
  command = plan
  variables {
    max_receive_count = 0
  }
  expect_failures = [var.max_receive_count]
}

run "rejects_out_of_range_kms_reuse_period" {
  command = plan
  variables {
    kms_data_key_reuse_period_seconds = 30
  }
  expect_failures = [var.kms_data_key_reuse_period_seconds]
}

run "rejects_fifo_name_without_suffix" {
  command = plan
  variables {
    fifo = true
  }
  expect_failures = [output.queue_url, output.dead_letter_queue_url]
}
