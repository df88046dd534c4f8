output "url" {
  description = "URL of the main queue."
  value       = aws_sqs_queue.main.url
}

output "arn" {
  description = "ARN of the main queue."
  value       = aws_sqs_queue.main.arn
}

output "name" {
  description = "Name of the main queue."
  value       = aws_sqs_queue.main.name
}

output "dead_letter_url" {
  description = "URL of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "dead_letter_name" {
  description = "Name of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.name
}

# The resources themselves, for the root module's `terraform test` assertions.
output "queue" {
  description = "The main queue resource."
  value       = aws_sqs_queue.main
}

output "dead_letter" {
  description = "The dead-letter queue resource."
  value       = aws_sqs_queue.dead_letter
}

output "redrive_policy" {
  description = "The main queue's redrive policy resource."
  value       = aws_sqs_queue_redrive_policy.main
}

output "redrive_allow_policy" {
  description = "The dead-letter queue's redrive-allow policy resource."
  value       = aws_sqs_queue_redrive_allow_policy.dead_letter
}

output "queue_policy" {
  description = "The main queue's policy resource."
  value       = aws_sqs_queue_policy.main
}
