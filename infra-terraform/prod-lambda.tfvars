# Example production stack with the consumer on AWS Lambda instead of the Fargate fleet (one consumer
# compute per stack; choosing: docs/infrastructure.md, costs: docs/fleet-sizing.md);
# Pulumi.prod-lambda.yaml is the same stack for Pulumi (a test checks that the two agree and that
# this file plans offline).
#   npm run build:lambda && terraform -chdir=infra-terraform apply -var-file=prod-lambda.tfvars
# Before the first apply: create the digest-key secret in Secrets Manager (the function reads it
# itself; an SSM parameter is refused) and build the bundle (function_bundle_path, by default
# dist/lambda/function.zip from the project root). After it: publish the mail_dns_records output
# so SES verifies the domain.
region                   = "eu-west-1"
assume_role_arn          = "arn:aws:iam::123456789012:role/sqs-messaging-deployer"
assume_role_session_name = "sqs-messaging-prod-lambda"
default_tags = {
  environment = "prod"
  team        = "growth"
}
operator_principals = ["arn:aws:iam::123456789012:role/on-call"]

# The mail part (docs/email-delivery.md): the function sends as this stack's own SES identity,
# through its configuration set.
mail_domain = "example.com"

# The function. SES quota raised to 50/s; at most 10 invocations at once (the event source
# mapping's maximum concurrency), each sending 5/s. A batch of up to 10, gathered for up to 5 s.
create_function                  = true
service_digest_key_secret_arn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:sqs-messaging/prod/digest-key-Xy12Ab"
service_mailer                   = "ses"
service_mail_from                = "Cadastro <no-reply@example.com>"
account_send_rate_per_second     = 50
max_consumer_tasks               = 10
function_batch_size              = 10
function_batching_window_seconds = 5
# 60 s outlasts the slowest batch (9 sends at 5/s, a 35 s claim lease, 2 s to settle); the queue's
# visibility is 6x the timeout + the batching window, as AWS recommends for an event source mapping.
function_timeout_seconds   = 60
visibility_timeout_seconds = 365
log_retention_days         = 90
alarm_email                = "on-call@example.com"
