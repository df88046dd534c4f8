# Example production stack with the consumer fleet on ECS Fargate; Pulumi.prod.yaml is
# the same stack for Pulumi (a test checks that the two agree and that this file plans offline).
#   terraform -chdir=infra-terraform apply -var-file=prod.tfvars
# Before the first apply: create the secret(s), the image repository, and push the image
# (docs/deploy.md, in order); the image is pinned by its digest. After it: publish the
# mail_dns_records output so SES verifies the domain.
region                   = "eu-west-1"
assume_role_arn          = "arn:aws:iam::123456789012:role/sqs-messaging-deployer"
assume_role_session_name = "sqs-messaging-prod"
default_tags = {
  environment = "prod"
  team        = "growth"
}
operator_principals = ["arn:aws:iam::123456789012:role/on-call"]

# The mail part (docs/email-delivery.md): this stack's own SES identity, configuration set and
# bounce queue; the ses fleet below sends through it and consumes its bounces.
mail_domain = "example.com"

# The fleet. Sizing (docs/fleet-sizing.md): SES quota raised to 50/s, 5/s per task -> at most 10
# tasks; 2 at least, one per AZ, so one AZ down still leaves a consumer.
create_service = true
service_image  = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sqs-messaging-consumer@sha256:3b1f4c3d2a8e9f6b7c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b"
# Private subnets in three AZs, with VPC endpoints (no NAT, no public IP: docs/fleet-sizing.md).
service_subnet_ids            = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829", "subnet-0c3d4e5f607182930"]
service_security_group_ids    = ["sg-0d4e5f60718293a4b"]
assign_public_ip              = false
service_digest_key_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sqs-messaging/prod/digest-key-Xy12Ab"
service_mailer                = "ses"
service_mail_from             = "Cadastro <no-reply@example.com>"
account_send_rate_per_second  = 50
max_consumer_tasks            = 10
min_tasks                     = 2
latency_goal_seconds          = 60
task_cpu                      = 512
task_memory_mib               = 1024
log_retention_days            = 90
alarm_email                   = "on-call@example.com"

# The pipeline from GitHub Actions (docs/pipeline.md): the roles the pipelines assume. The push role
# trusts main; the plan role (read-only) and the deploy role (environment "production") exist
# because the bootstrap's state bucket and secrets key are named. Copy the ecr_push_role_arn,
# infra_plan_role_arn and infra_deploy_role_arn outputs into the repository variables.
github_repository  = "example-org/sqs-messaging"
deploy_environment = "production"
state_bucket_name  = "example-org-sqs-messaging-pulumi-state"
secrets_key_arn    = "arn:aws:kms:eu-west-1:123456789012:key/0b0b0b0b-12ab-34cd-56ef-1234567890ab"
