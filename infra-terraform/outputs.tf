# The same outputs as the Pulumi stack (src/stack/outputs.ts), in snake_case; the producer and
# consumer read them with `terraform -chdir=infra-terraform output -json` (--source terraform).

# The FIFO rules of the registrations pair sit here, not in modules/queue-pair: `terraform test`
# can expect a failure only of the root module's objects, and these name its variables.
output "queue_url" {
  description = "URL of the main queue."
  value       = module.registrations.url

  precondition {
    condition     = !local.queues.fifo || endswith(local.queues.queueName, ".fifo")
    error_message = "queue_name must end in .fifo when fifo is true."
  }
  precondition {
    condition     = local.queues.fifo || !local.queues.contentBasedDeduplication
    error_message = "content_based_deduplication applies to FIFO queues only: set fifo = true too, or drop it."
  }
}

output "queue_arn" {
  description = "ARN of the main queue."
  value       = module.registrations.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = module.registrations.dead_letter_url

  precondition {
    condition     = !local.queues.fifo || endswith(local.queues.deadLetterQueueName, ".fifo")
    error_message = "dead_letter_queue_name must end in .fifo when fifo is true."
  }
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = module.registrations.dead_letter_arn
}

output "region" {
  description = "AWS region of both queues."
  value       = local.stack.region
}

output "endpoint" {
  description = "SQS endpoint override (local emulator only; null on AWS)."
  value       = var.endpoint
}

output "producer_policy_arn" {
  description = "ARN of the producer's managed policy (null without access policies)."
  value       = one(aws_iam_policy.producer[*].arn)
}

output "consumer_policy_arn" {
  description = "ARN of the consumer's managed policy (null without access policies)."
  value       = one(aws_iam_policy.consumer[*].arn)
}

output "producer_role_arn" {
  description = "ARN of the producer role (null without producer_principals)."
  value       = one(module.producer_role[*].arn)
}

output "consumer_role_arn" {
  description = "ARN of the consumer role (null without consumer_principals)."
  value       = one(module.consumer_role[*].arn)
}

output "operator_policy_arn" {
  description = "ARN of the operator's managed policy (null without access policies)."
  value       = one(aws_iam_policy.operator[*].arn)
}

output "operator_role_arn" {
  description = "ARN of the operator role (null without operator_principals)."
  value       = one(module.operator_role[*].arn)
}

output "sent_emails_table_name" {
  description = "DynamoDB table of sent welcome emails, shared by every consumer (null without the table)."
  value       = one(aws_dynamodb_table.sent_emails[*].name)
}

output "bounce_queue_url" {
  description = "URL of the queue of SES bounce and complaint events (null without mail_domain)."
  value       = one(module.bounces[*].url)
}

output "ses_configuration_set_name" {
  description = "SES configuration set the consumer sends with (null without mail_domain)."
  value       = one(aws_sesv2_configuration_set.mail[*].configuration_set_name)
}

output "mail_domain" {
  description = "The SES domain identity the welcome emails are sent from (null without mail_domain)."
  value       = one(aws_sesv2_email_identity.mail[*].email_identity)
}

output "mail_dns_records" {
  description = "DNS records for the domain's owner: the three Easy DKIM CNAMEs, the MAIL FROM MX and SPF, and a starting DMARC policy (empty without mail_domain)."
  value = local.mail_enabled ? concat(
    [for token in aws_sesv2_email_identity.mail[0].dkim_signing_attributes[0].tokens : {
      name  = "${token}._domainkey.${local.email.mailDomain}"
      type  = "CNAME"
      value = "${token}.dkim.amazonses.com"
    }],
    [
      {
        name  = aws_sesv2_email_identity_mail_from_attributes.mail[0].mail_from_domain
        type  = "MX"
        value = "10 feedback-smtp.${local.stack.region}.amazonses.com"
      },
      {
        name  = aws_sesv2_email_identity_mail_from_attributes.mail[0].mail_from_domain
        type  = "TXT"
        value = "v=spf1 include:amazonses.com ~all"
      },
      {
        name  = "_dmarc.${local.email.mailDomain}"
        type  = "TXT"
        value = "v=DMARC1; p=none"
      },
  ]) : []
}

output "mail_rate_per_second" {
  description = "Emails a second each consumer task (or function invocation) may send through SES: account_send_rate_per_second / the most senders (null without mail_domain)."
  value       = local.mail_enabled ? (local.function == 1 ? local.function_send_rate : local.mail_rate_per_task) : null
}

output "ecr_push_role_arn" {
  description = "Role GitHub Actions on main assumes to push the consumer image (null without github_repository)."
  value       = one(aws_iam_role.ecr_push[*].arn)
}

output "infra_plan_role_arn" {
  description = "Read-only role for plan/preview from any ref or pull request (null without github_repository and state_bucket_name)."
  value       = one(aws_iam_role.plan[*].arn)
}

output "infra_deploy_role_arn" {
  description = "Deploy role, for the protected environment only (null without github_repository and state_bucket_name)."
  value       = one(aws_iam_role.deploy[*].arn)
}
