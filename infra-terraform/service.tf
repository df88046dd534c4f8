# The consumer as a service on ECS Fargate, the same resources as
# infra-pulumi/service/ (a test compares the plans): its image repository, a cluster, a log group,
# the task definition and the service. IAM in service_iam.tf, scaling in service_autoscaling.tf,
# alarms in service_alarms.tf. Off unless create_service; why each choice: docs/infrastructure.md.

locals {
  fleet = local.service.createService ? 1 : 0
  # The numbers of infra-pulumi/service/sizing.ts, from the mail quota (settings `email`): at most
  # maxConsumerTasks tasks, each sending its share of the account's rate; the backlog per task
  # drained within the latency goal.
  fleet_max_tasks      = local.email.maxConsumerTasks
  fleet_task_send_rate = local.mail_rate_per_task
  fleet_min_tasks      = local.service.scaleToZero ? 0 : local.service.minTasks
  fleet_target_backlog = local.service.latencyGoalSeconds * local.fleet_task_send_rate
  fleet_resource_id    = "service/${local.service.clusterName}/${local.service.serviceName}"
  # Fargate's CPU units -> memory (MiB) pairs (Linux).
  fargate_memory = {
    "256"  = [512, 1024, 2048]
    "512"  = range(1024, 4097, 1024)
    "1024" = range(2048, 8193, 1024)
    "2048" = range(4096, 16385, 1024)
    "4096" = range(8192, 30721, 1024)
  }
  fleet_image_pattern = "^[0-9]{12}\\.dkr\\.ecr\\.${local.stack.region}\\.amazonaws\\.com(\\.cn)?/${replace(local.service.repositoryName, ".", "\\.")}@sha256:[a-f0-9]{64}$"
}

resource "aws_ecr_repository" "consumer" {
  count                = local.fleet
  name                 = local.service.repositoryName
  image_tag_mutability = "IMMUTABLE"

  image_scanning_configuration {
    scan_on_push = true
  }
}

resource "aws_ecr_lifecycle_policy" "consumer" {
  count      = local.fleet
  repository = aws_ecr_repository.consumer[0].name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the newest ${local.service.imagesToKeep} images (room to roll back); expire the rest."
      selection    = { tagStatus = "any", countType = "imageCountMoreThan", countNumber = local.service.imagesToKeep }
      action       = { type = "expire" }
    }]
  })
}

# Container Insights feeds RunningTaskCount to the autoscaling; it is billed (docs/fleet-sizing.md).
resource "aws_ecs_cluster" "consumer" {
  count = local.fleet
  name  = local.service.clusterName

  setting {
    name  = "containerInsights"
    value = local.service.containerInsights ? "enabled" : "disabled"
  }
}

resource "aws_cloudwatch_log_group" "consumer" {
  count             = local.fleet
  name              = "/ecs/${local.service.serviceName}"
  retention_in_days = local.service.logRetentionDays
}

locals {
  fleet_secrets = merge(
    { REGISTRATION_DIGEST_KEY = var.service_digest_key_secret_arn },
    var.service_mail_secret_arn == null ? {} : { SMTP_URL = var.service_mail_secret_arn },
  )
}

resource "aws_ecs_task_definition" "consumer" {
  count                    = local.fleet
  family                   = local.service.serviceName
  cpu                      = tostring(local.service.taskCpu)
  memory                   = tostring(local.service.taskMemoryMib)
  network_mode             = "awsvpc"
  requires_compatibilities = ["FARGATE"]
  execution_role_arn       = aws_iam_role.execution[0].arn
  task_role_arn            = aws_iam_role.task[0].arn

  # Graviton: about 20 % cheaper than x86 on Fargate for the same size.
  runtime_platform {
    cpu_architecture        = "ARM64"
    operating_system_family = "LINUX"
  }

  # The one writable place: the root filesystem is read-only.
  volume {
    name = "scratch"
  }

  container_definitions = jsonencode([{
    name                   = "consumer"
    image                  = var.service_image
    essential              = true
    user                   = "1000:1000"
    readonlyRootFilesystem = true
    stopTimeout            = local.service.stopTimeoutSeconds
    # The queue and table of this stack's own resources; a for over a map goes in key order.
    environment = [for name, value in merge({
      AWS_REGION             = local.stack.region
      HEALTH_HOST            = "127.0.0.1"
      HEALTH_PORT            = tostring(local.service.healthCheckPort)
      MAILER                 = local.service.serviceMailer
      MAIL_FROM              = var.service_mail_from
      MAIL_RATE_PER_SECOND   = tostring(local.fleet_task_send_rate)
      METRICS_EMF            = "1" # the consumer's own metrics (the paused alarm), via awslogs
      SENT_EMAILS_TABLE_NAME = try(aws_dynamodb_table.sent_emails[0].name, null)
      SENT_EMAIL_STORE       = "dynamodb"
      SQS_QUEUE_URL          = module.registrations.url
      SQS_STATE_DIR          = "/tmp/sqs-messaging"
      }, local.fleet_mail ? {
      # The task finds its queue by URL, without stack outputs: it is told the bounce queue too.
      BOUNCE_QUEUE_URL      = module.bounces[0].url
      SES_CONFIGURATION_SET = aws_sesv2_configuration_set.mail[0].configuration_set_name
    } : {}) : { name = name, value = value }]
    secrets     = [for name in sort(keys(local.fleet_secrets)) : { name = name, valueFrom = local.fleet_secrets[name] }]
    mountPoints = [{ sourceVolume = "scratch", containerPath = "/tmp", readOnly = false }]
    healthCheck = {
      command     = ["CMD", "node", "-e", "fetch('http://127.0.0.1:${local.service.healthCheckPort}/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
      interval    = 30
      timeout     = 5
      retries     = 3
      startPeriod = 30
    }
    logConfiguration = {
      logDriver = "awslogs"
      options = {
        "awslogs-group"         = aws_cloudwatch_log_group.consumer[0].name
        "awslogs-region"        = local.stack.region
        "awslogs-stream-prefix" = "consumer"
        mode                    = "non-blocking"
        "max-buffer-size"       = "4m"
      }
    }
  }])

  lifecycle {
    precondition {
      condition     = var.endpoint == null
      error_message = "create_service is true on an emulator stack (endpoint is set): the emulator has no ECS; turn one of them off."
    }
    precondition {
      condition     = length(aws_dynamodb_table.sent_emails) == 1
      error_message = "create_service needs the shared sent-email table (create_sent_emails_table true): a fleet with one SQLite file per task would send duplicate emails."
    }
    precondition {
      condition     = var.service_image != null && can(regex(local.fleet_image_pattern, coalesce(var.service_image, "-")))
      error_message = "service_image is required with the service, by digest, from this stack's repository: <account>.dkr.ecr.<region>.amazonaws.com/<repository_name>@sha256:<digest>."
    }
    precondition {
      condition     = var.service_digest_key_secret_arn != null
      error_message = "service_digest_key_secret_arn is required with the service: every task must key digests with the same REGISTRATION_DIGEST_KEY."
    }
    precondition {
      condition     = local.service.serviceMailer == "smtp" ? var.service_mail_secret_arn != null && var.service_ses_identity_arn == null : (var.service_ses_identity_arn != null) != local.mail_enabled && var.service_mail_secret_arn == null
      error_message = "service_mailer smtp needs service_mail_secret_arn (and no SES identity); ses needs service_ses_identity_arn (and no mail secret), except with mail_domain set, whose own SES identity the tasks send as: then remove service_ses_identity_arn."
    }
    precondition {
      condition     = var.service_mail_from != null
      error_message = "service_mail_from is required with the service (e.g. \"Cadastro <no-reply@example.com>\")."
    }
    precondition {
      condition     = contains(lookup(local.fargate_memory, tostring(local.service.taskCpu), []), local.service.taskMemoryMib)
      error_message = "task_memory_mib does not go with task_cpu on Fargate (256: 512-2048; 512: 1024-4096; 1024: 2048-8192 ...)."
    }
    precondition {
      condition     = local.fleet_max_tasks >= local.service.minTasks
      error_message = "max_consumer_tasks is fewer than min_tasks: raise the most tasks (each then sends less of the account's rate) or lower the minimum."
    }
  }
}

resource "aws_ecs_service" "consumer" {
  count           = local.fleet
  name            = local.service.serviceName
  cluster         = aws_ecs_cluster.consumer[0].arn
  task_definition = aws_ecs_task_definition.consumer[0].arn
  launch_type     = "FARGATE"
  desired_count   = local.fleet_min_tasks

  deployment_minimum_healthy_percent = 100
  deployment_maximum_percent         = 200

  # A deployment whose tasks never get healthy is rolled back to the last good one.
  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  # A deployment whose tasks run but dead-letter or fail messages is rolled back too (with the
  # alarms on): the circuit breaker sees only tasks that fail to start or fail their check.
  dynamic "alarms" {
    for_each = local.fleet_alarms == 1 ? [1] : []
    content {
      alarm_names = [aws_cloudwatch_metric_alarm.dead_letters[0].alarm_name, aws_cloudwatch_metric_alarm.handler_failures[0].alarm_name]
      enable      = true
      rollback    = true
    }
  }

  network_configuration {
    subnets          = var.service_subnet_ids
    security_groups  = var.service_security_group_ids
    assign_public_ip = local.service.assignPublicIp
  }

  lifecycle {
    # The autoscaling owns the task count once the service exists: an apply must not reset it.
    ignore_changes = [desired_count]
    precondition {
      condition     = length(var.service_subnet_ids) > 0 && length(var.service_security_group_ids) > 0
      error_message = "service_subnet_ids and service_security_group_ids are required with the service."
    }
  }

  # The agent needs its permissions before the first task starts.
  depends_on = [aws_iam_role_policy.execution, aws_iam_role_policy.task]
}

# The stack-only fleet variables mean nothing without the service: say so (a warning; the Pulumi
# program refuses the same configuration).
check "fleet_variables_need_the_service" {
  assert {
    condition     = local.service.createService || local.lambda.createFunction || (length(compact([var.service_image, var.service_digest_key_secret_arn, var.service_mail_secret_arn, var.service_ses_identity_arn, var.service_mail_from, var.alarm_email])) == 0 && length(var.service_subnet_ids) + length(var.service_security_group_ids) == 0)
    error_message = "service_* variables (or alarm_email) are set but create_service and create_function are false: set one to true, or remove them."
  }
}
