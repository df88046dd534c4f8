# Email through Amazon SES, from local.email (settings.json plus the variables; the
# Pulumi program builds the same in infra-pulumi/email.ts, a test compares the two plans). Opt-in:
# with mail_domain empty (the data file's default) nothing here exists.
#
# The domain identity signs with Easy DKIM and sends from a custom MAIL FROM subdomain (SPF then
# aligns with the domain). The configuration set publishes bounce and complaint events to an SNS
# topic that only it may publish to; the topic delivers them, in SNS's JSON envelope (not raw: the
# envelope names the topic, and the handler reads both), to the bounce queue, which only that topic
# may send to. The bounce queue has its own dead-letter queue, so a message the handler cannot
# read never lands among the registrations' poison messages.

locals {
  mail_enabled = local.email.mailDomain != ""
  mail_count   = local.mail_enabled ? 1 : 0
  # The bounce pair: the registrations' settings with its own names (src/config/bounce-queue.ts,
  # the same rules). SES events quote the email's headers: the dead-letter queue's size cap (the
  # main queue's 16 KiB is sized for registrations), kept as long as dead letters are; SES
  # publishes to standard topics only, which deliver to standard queues only.
  bounce_queue = merge(local.queues, {
    queueName                 = local.email.bounceQueueName
    deadLetterQueueName       = "${local.email.bounceQueueName}-dlq"
    maximumMessageSizeBytes   = local.queues.deadLetterMaximumMessageSizeBytes
    messageRetentionSeconds   = local.queues.deadLetterRetentionSeconds
    delaySeconds              = 0
    fifo                      = false
    contentBasedDeduplication = false
  })
}

resource "aws_sesv2_configuration_set" "mail" {
  count                  = local.mail_count
  configuration_set_name = local.email.configurationSetName

  # Welcome emails carry personal data: never in clear text between mail servers.
  delivery_options {
    tls_policy = "REQUIRE"
  }

  reputation_options {
    reputation_metrics_enabled = true
  }
}

resource "aws_sesv2_email_identity" "mail" {
  count                  = local.mail_count
  email_identity         = local.email.mailDomain
  configuration_set_name = aws_sesv2_configuration_set.mail[0].configuration_set_name

  # Easy DKIM: SES holds the key and gives three CNAME tokens (output mail_dns_records).
  dkim_signing_attributes {
    next_signing_key_length = "RSA_2048_BIT"
  }
}

resource "aws_sesv2_email_identity_mail_from_attributes" "mail" {
  count                  = local.mail_count
  email_identity         = aws_sesv2_email_identity.mail[0].email_identity
  mail_from_domain       = "${local.email.mailFromSubdomain}.${local.email.mailDomain}"
  behavior_on_mx_failure = "USE_DEFAULT_VALUE"
}

# SES cannot use an AWS-managed key (its key policy cannot name SES), so the topic is encrypted
# only with the stack's customer-managed key, when there is one; events stay in it milliseconds.
resource "aws_sns_topic" "ses_events" {
  count             = local.mail_count
  name              = "${local.email.configurationSetName}-events"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_policy" "ses_events" {
  count = local.mail_count
  arn   = aws_sns_topic.ses_events[0].arn
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowSesConfigurationSet"
      Effect    = "Allow"
      Principal = { Service = "ses.amazonaws.com" }
      Action    = "sns:Publish"
      Resource  = aws_sns_topic.ses_events[0].arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_sesv2_configuration_set.mail[0].arn } }
    }]
  })
}

resource "aws_sesv2_configuration_set_event_destination" "bounces" {
  count                  = local.mail_count
  configuration_set_name = aws_sesv2_configuration_set.mail[0].configuration_set_name
  event_destination_name = "bounces-and-complaints"

  event_destination {
    enabled              = true
    matching_event_types = ["BOUNCE", "COMPLAINT"]
    sns_destination {
      topic_arn = aws_sns_topic.ses_events[0].arn
    }
  }
}

# The bounce pair: the same module as the registrations pair. Only the SES events topic may send
# to it (and only SNS on its behalf); the module adds the TLS-only Deny.
module "bounces" {
  source = "./modules/queue-pair"
  count  = local.mail_count

  settings    = local.bounce_queue
  kms_key_arn = var.kms_key_arn
  main_policy_allow_statements = [{
    Sid       = "AllowSesEventsTopic"
    Effect    = "Allow"
    Principal = { Service = "sns.amazonaws.com" }
    Action    = "sqs:SendMessage"
    Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.ses_events[0].arn } }
  }]
}

# Stacks applied before the module held the bounce pair at the root: move it, never replace it.
moved {
  from = aws_sqs_queue.bounces[0]
  to   = module.bounces[0].aws_sqs_queue.main
}
moved {
  from = aws_sqs_queue.bounces_dead_letter[0]
  to   = module.bounces[0].aws_sqs_queue.dead_letter
}
moved {
  from = aws_sqs_queue_redrive_policy.bounces[0]
  to   = module.bounces[0].aws_sqs_queue_redrive_policy.main
}
moved {
  from = aws_sqs_queue_redrive_allow_policy.bounces_dead_letter[0]
  to   = module.bounces[0].aws_sqs_queue_redrive_allow_policy.dead_letter
}
moved {
  from = aws_sqs_queue_policy.bounces[0]
  to   = module.bounces[0].aws_sqs_queue_policy.main
}
moved {
  from = aws_sqs_queue_policy.bounces_dead_letter[0]
  to   = module.bounces[0].aws_sqs_queue_policy.dead_letter
}
resource "aws_sns_topic_subscription" "bounces" {
  count                = local.mail_count
  topic_arn            = aws_sns_topic.ses_events[0].arn
  protocol             = "sqs"
  endpoint             = module.bounces[0].arn
  raw_message_delivery = false
}
