# The consumer fleet, offline with a mocked provider. Plans only: an applied stack
# holds the sent-email table, whose prevent_destroy refuses the test's own cleanup (the fleet needs
# the table). What only an apply shows (desired_count left to the autoscaling on a later apply) is
# tested on a real plan from a state in test/infra/terraform-service.test.ts; parity with Pulumi in
# test/infra/parity.test.ts.

mock_provider "aws" {}

variables {
  region                        = "eu-west-1"
  create_service                = true
  service_image                 = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sqs-messaging-consumer@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
  service_subnet_ids            = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]
  service_security_group_ids    = ["sg-0123456789abcdef0"]
  service_digest_key_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registrations/digest-key-AbCdEf"
  service_ses_identity_arn      = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
  service_mail_from             = "Cadastro <no-reply@example.com>"
}

run "fleet_from_the_data_file" {
  command = plan

  assert {
    condition     = aws_ecs_service.consumer[0].desired_count == jsondecode(file("settings.json")).service.minTasks && aws_ecs_service.consumer[0].launch_type == "FARGATE"
    error_message = "the service starts at settings.json's minTasks, on Fargate"
  }
  assert {
    condition     = aws_appautoscaling_target.consumer[0].max_capacity == jsondecode(file("settings.json")).email.maxConsumerTasks
    error_message = "the most tasks is the mail quota's maxConsumerTasks"
  }
  assert {
    condition     = aws_appautoscaling_policy.backlog[0].target_tracking_scaling_policy_configuration[0].target_value == jsondecode(file("settings.json")).service.latencyGoalSeconds * jsondecode(file("settings.json")).email.accountSendRatePerSecond / jsondecode(file("settings.json")).email.maxConsumerTasks
    error_message = "the backlog target is the latency goal divided by the seconds per message"
  }
  assert {
    condition     = contains([for m in aws_appautoscaling_policy.backlog[0].target_tracking_scaling_policy_configuration[0].customized_metric_specification[0].metrics : m.expression if m.return_data], "m1 / m2")
    error_message = "target tracking follows messages visible per running task"
  }
  assert {
    condition     = length(aws_appautoscaling_policy.wake) == 0 && length(aws_cloudwatch_metric_alarm.wake) == 0
    error_message = "no wake policy without scale_to_zero"
  }
  assert {
    condition     = aws_ecs_task_definition.consumer[0].runtime_platform[0].cpu_architecture == "ARM64" && aws_ecs_service.consumer[0].deployment_circuit_breaker[0].rollback
    error_message = "ARM64 tasks, a circuit breaker that rolls back"
  }
  assert {
    condition     = aws_ecr_repository.consumer[0].image_tag_mutability == "IMMUTABLE" && aws_ecr_repository.consumer[0].image_scanning_configuration[0].scan_on_push
    error_message = "immutable, scanned images"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.dead_letters) == 1 && length(aws_sns_topic_subscription.alarm_email) == 0
    error_message = "alarms on a topic; no email subscription without alarm_email"
  }
  assert {
    condition     = aws_ecs_service.consumer[0].alarms[0].enable && aws_ecs_service.consumer[0].alarms[0].rollback && aws_ecs_service.consumer[0].alarms[0].alarm_names == toset([aws_cloudwatch_metric_alarm.dead_letters[0].alarm_name, aws_cloudwatch_metric_alarm.handler_failures[0].alarm_name])
    error_message = "a deployment that dead-letters or fails messages is rolled back (deployment alarms)"
  }
  assert {
    condition     = contains([for q in aws_cloudwatch_metric_alarm.handler_failures[0].metric_query : q.metric[0].metric_name if !q.return_data], "MessagesFailed") && contains([for q in aws_cloudwatch_metric_alarm.handler_failures[0].metric_query : q.metric[0].metric_name if !q.return_data], "MessagesProcessed")
    error_message = "the handler-failure alarm reads the consumer's EMF failed and processed counts"
  }
}

run "no_deployment_alarms_without_the_alarms" {
  command = plan
  variables {
    create_alarms = false
  }
  assert {
    condition     = length(aws_ecs_service.consumer[0].alarms) == 0 && aws_ecs_service.consumer[0].deployment_circuit_breaker[0].rollback && length(aws_cloudwatch_metric_alarm.handler_failures) == 0
    error_message = "with the alarms off, only the circuit breaker rolls a deployment back"
  }
}

run "scale_to_zero_adds_the_wake_policy" {
  command = plan
  variables {
    scale_to_zero = true
  }
  assert {
    condition     = aws_appautoscaling_target.consumer[0].min_capacity == 0 && aws_ecs_service.consumer[0].desired_count == 0
    error_message = "scale-to-zero starts and may end at no task"
  }
  assert {
    condition     = length(aws_appautoscaling_policy.wake) == 1 && contains([for q in aws_cloudwatch_metric_alarm.wake[0].metric_query : q.expression if q.return_data], "IF(FILL(m2, 0) == 0 AND m1 > 0, 1, 0)")
    error_message = "a step policy wakes one task when messages wait and none runs"
  }
}

run "queue_only_stack_has_no_fleet" {
  command = plan
  variables {
    create_service                = false
    service_image                 = null
    service_digest_key_secret_arn = null
    service_ses_identity_arn      = null
    service_mail_from             = null
    service_subnet_ids            = []
    service_security_group_ids    = []
  }
  assert {
    condition     = length(aws_ecs_service.consumer) == 0 && length(aws_ecr_repository.consumer) == 0 && length(aws_sns_topic.alarms) == 0
    error_message = "the fleet is opt-in"
  }
}

run "ses_fleet_with_the_mail_part_sends_through_it_and_consumes_its_bounces" {
  command = plan
  variables {
    mail_domain              = "example.com"
    service_ses_identity_arn = null
  }
  # The queue URLs are computed: known in this plan only through overrides.
  override_resource {
    target          = module.registrations.aws_sqs_queue.main
    override_during = plan
    values          = { url = "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations" }
  }
  override_resource {
    target          = module.bounces[0].aws_sqs_queue.main
    override_during = plan
    values          = { url = "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations-ses-events" }
  }
  assert {
    condition     = contains([for e in jsondecode(aws_ecs_task_definition.consumer[0].container_definitions)[0].environment : e.value if e.name == "BOUNCE_QUEUE_URL"], "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations-ses-events") && contains([for e in jsondecode(aws_ecs_task_definition.consumer[0].container_definitions)[0].environment : e.value if e.name == "SES_CONFIGURATION_SET"], jsondecode(file("settings.json")).email.configurationSetName)
    error_message = "the task is told the bounce queue and the configuration set"
  }
}

run "rejects_a_second_ses_identity_beside_the_mail_part" {
  command = plan
  variables {
    mail_domain = "example.com"
  }
  expect_failures = [aws_ecs_task_definition.consumer]
}

run "rejects_a_tag_only_image" {
  command = plan
  variables {
    service_image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sqs-messaging-consumer:latest"
  }
  expect_failures = [var.service_image]
}

run "rejects_the_outbox_mailer" {
  command = plan
  variables {
    service_mailer = "outbox"
  }
  expect_failures = [var.service_mailer]
}

run "rejects_a_fleet_without_the_shared_table" {
  command = plan
  variables {
    create_sent_emails_table = false
  }
  expect_failures = [aws_ecs_task_definition.consumer]
}

run "warns_of_fleet_variables_without_the_service" {
  command = plan
  variables {
    create_service = false
  }
  expect_failures = [check.fleet_variables_need_the_service]
}
