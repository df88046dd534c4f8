# Example variables for a real AWS account:
#   terraform -chdir=infra-terraform apply -var-file=example.tfvars
region                   = "eu-west-1"
assume_role_arn          = "arn:aws:iam::123456789012:role/sqs-messaging-deployer"
assume_role_session_name = "sqs-messaging-dev"
# assume_role_external_id: pass with TF_VAR_assume_role_external_id, never in a file.
default_tags = {
  environment = "dev"
  team        = "growth"
}
consumer_principals = ["arn:aws:iam::123456789012:role/ecs-task-registrations-consumer"]
