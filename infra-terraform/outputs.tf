# The same outputs as the Pulumi stack (src/stack/outputs.ts), in snake_case; the producer and
# consumer read them with `terraform -chdir=infra-terraform output -json` (--source terraform).

output "queue_url" {
  description = "URL of the main queue."
  value       = aws_sqs_queue.main.url
}

output "queue_arn" {
  description = "ARN of the main queue."
  value       = aws_sqs_queue.main.arn
}

output "dead_letter_queue_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
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
  value       = one(aws_iam_role.producer[*].arn)
}

output "consumer_role_arn" {
  description = "ARN of the consumer role (null without consumer_principals)."
  value       = one(aws_iam_role.consumer[*].arn)
}

output "operator_policy_arn" {
  description = "ARN of the operator's managed policy (null without access policies)."
  value       = one(aws_iam_policy.operator[*].arn)
}

output "operator_role_arn" {
  description = "ARN of the operator role (null without operator_principals)."
  value       = one(aws_iam_role.operator[*].arn)
}

output "sent_emails_table_name" {
  description = "DynamoDB table of sent welcome emails, shared by every consumer (null without the table)."
  value       = one(aws_dynamodb_table.sent_emails[*].name)
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
