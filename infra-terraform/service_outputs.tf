# The fleet's outputs (src/stack/outputs.ts), null without the service.

output "cluster_name" {
  description = "ECS cluster of the consumer fleet (null without the service)."
  value       = one(aws_ecs_cluster.consumer[*].name)
}

output "service_name" {
  description = "ECS service of the consumer fleet (null without the service)."
  value       = one(aws_ecs_service.consumer[*].name)
}

output "repository_url" {
  description = "ECR repository of the consumer image (null without the service)."
  value       = one(aws_ecr_repository.consumer[*].repository_url)
}

output "service_image" {
  description = "The image the fleet was last deployed with, by digest (null without the service): what the infra pipeline deploys again."
  value       = local.fleet == 1 ? var.service_image : null
}

output "alarm_topic_arn" {
  description = "SNS topic of the consumer's alarms, the fleet's or the function's (null without either or their alarms)."
  value       = one(aws_sns_topic.alarms[*].arn)
}

output "function_name" {
  description = "The consumer function (null without create_function)."
  value       = one(aws_lambda_function.consumer[*].function_name)
}
