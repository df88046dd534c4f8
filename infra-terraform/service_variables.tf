# The consumer fleet on ECS Fargate (issue 14). Each setting defaults to null: service.tf then
# takes its value from the `service` section of settings.json, like main.tf does for the others.

variable "create_service" {
  type        = bool
  description = "Deploy the consumer as an autoscaled ECS Fargate service (needs the sent-email table, no endpoint)."
  default     = null
}

variable "cluster_name" {
  type        = string
  description = "ECS cluster of the consumer fleet."
  default     = null
}

variable "service_name" {
  type        = string
  description = "ECS service, task family and prefix of the alarm names."
  default     = null
}

variable "repository_name" {
  type        = string
  description = "ECR repository of the consumer image (immutable tags, scan on push)."
  default     = null
}

variable "images_to_keep" {
  type        = number
  description = "Images the repository keeps; older ones expire."
  default     = null
  validation {
    condition     = var.images_to_keep == null ? true : var.images_to_keep >= 1 && floor(var.images_to_keep) == var.images_to_keep
    error_message = "images_to_keep must be a whole number of at least 1."
  }
}

variable "task_cpu" {
  type        = number
  description = "Fargate CPU units per task (256 = 0.25 vCPU)."
  default     = null
  validation {
    condition     = var.task_cpu == null ? true : contains([256, 512, 1024, 2048, 4096], var.task_cpu)
    error_message = "task_cpu must be a Fargate CPU size: 256, 512, 1024, 2048 or 4096."
  }
}

variable "task_memory_mib" {
  type        = number
  description = "Fargate memory per task in MiB (a valid pair with task_cpu)."
  default     = null
}

variable "stop_timeout_seconds" {
  type        = number
  description = "Seconds between SIGTERM and SIGKILL (2-120); above the consumer's shutdown deadline."
  default     = null
  validation {
    condition     = var.stop_timeout_seconds == null ? true : var.stop_timeout_seconds >= 2 && var.stop_timeout_seconds <= 120
    error_message = "stop_timeout_seconds must be from 2 to 120 (Fargate's range)."
  }
}

variable "health_check_port" {
  type        = number
  description = "The consumer's /healthz port inside the task."
  default     = null
}

variable "log_retention_days" {
  type        = number
  description = "Days the task logs are kept (a CloudWatch Logs retention value)."
  default     = null
  validation {
    condition     = var.log_retention_days == null ? true : contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "container_insights" {
  type        = bool
  description = "Container Insights on the cluster (the autoscaling reads RunningTaskCount from it)."
  default     = null
}

variable "assign_public_ip" {
  type        = bool
  description = "A public IP per task (public subnets without NAT); false behind NAT or VPC endpoints."
  default     = null
}

variable "service_mailer" {
  type        = string
  description = "The task's mail transport, smtp or ses (the outbox is refused in production)."
  default     = null
  validation {
    condition     = var.service_mailer == null ? true : contains(["smtp", "ses"], var.service_mailer)
    error_message = "service_mailer must be smtp or ses: the outbox writes files nobody sends from a task."
  }
}

variable "min_tasks" {
  type        = number
  description = "Fewest tasks (0 with scale_to_zero)."
  default     = null
  validation {
    condition     = var.min_tasks == null ? true : var.min_tasks >= 1 && floor(var.min_tasks) == var.min_tasks
    error_message = "min_tasks must be a whole number of at least 1 (use scale_to_zero for 0)."
  }
}

variable "latency_goal_seconds" {
  type        = number
  description = "Acceptable seconds from registration to email; sets the scaling target and an alarm."
  default     = null
}

variable "scale_to_zero" {
  type        = bool
  description = "Scale to no task when idle; a step policy wakes the fleet when messages wait."
  default     = null
}

variable "scale_out_cooldown_seconds" {
  type        = number
  description = "Seconds between two scale-outs."
  default     = null
}

variable "scale_in_cooldown_seconds" {
  type        = number
  description = "Seconds between two scale-ins."
  default     = null
}

variable "create_alarms" {
  type        = bool
  description = "CloudWatch alarms of the fleet and their SNS topic; the dead-letter and handler-failure alarms are also the service's deployment alarms (a release that trips them is rolled back)."
  default     = null
}

# What only a stack can know: no default in the data file.

variable "service_image" {
  type        = string
  description = "The consumer image by digest, from this stack's repository: <account>.dkr.ecr.<region>.amazonaws.com/<repository_name>@sha256:<digest>. A tag is refused."
  default     = null
  validation {
    condition     = var.service_image == null || can(regex("@sha256:[a-f0-9]{64}$", var.service_image))
    error_message = "service_image has no digest: a tag can be moved, a digest cannot; use <repository>@sha256:<digest> (docker push prints it)."
  }
}

variable "service_subnet_ids" {
  type        = list(string)
  description = "Subnets of the tasks (two or more AZs)."
  default     = []
  validation {
    condition     = alltrue([for id in var.service_subnet_ids : can(regex("^subnet-[0-9a-f]{8,17}$", id))])
    error_message = "service_subnet_ids must be subnet ids (subnet-0123456789abcdef0)."
  }
}

variable "service_security_group_ids" {
  type        = list(string)
  description = "Security groups of the tasks (egress 443 only; no ingress is needed)."
  default     = []
  validation {
    condition     = alltrue([for id in var.service_security_group_ids : can(regex("^sg-[0-9a-f]{8,17}$", id))])
    error_message = "service_security_group_ids must be security group ids (sg-0123456789abcdef0)."
  }
}

variable "service_digest_key_secret_arn" {
  type        = string
  description = "Secrets Manager secret or SSM parameter ARN holding REGISTRATION_DIGEST_KEY (the same key on every task)."
  default     = null
  validation {
    condition     = var.service_digest_key_secret_arn == null || can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\\w/+=.@-]+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/[\\w/.-]+)$", var.service_digest_key_secret_arn))
    error_message = "service_digest_key_secret_arn must be a Secrets Manager secret ARN or an SSM parameter ARN."
  }
}

variable "service_mail_secret_arn" {
  type        = string
  description = "Secrets Manager secret or SSM parameter ARN holding SMTP_URL (smtp mailer only)."
  default     = null
  validation {
    condition     = var.service_mail_secret_arn == null || can(regex("^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\\w/+=.@-]+|ssm:[a-z0-9-]+:[0-9]{12}:parameter/[\\w/.-]+)$", var.service_mail_secret_arn))
    error_message = "service_mail_secret_arn must be a Secrets Manager secret ARN or an SSM parameter ARN."
  }
}

variable "service_ses_identity_arn" {
  type        = string
  description = "SES identity the tasks send as (ses mailer only; not with mail_domain, whose own identity they then send as)."
  default     = null
  validation {
    condition     = var.service_ses_identity_arn == null || can(regex("^arn:aws[a-z-]*:ses:[a-z0-9-]+:[0-9]{12}:identity/[\\w.@+-]+$", var.service_ses_identity_arn))
    error_message = "service_ses_identity_arn must be an SES identity ARN."
  }
}

variable "service_mail_from" {
  type        = string
  description = "Sender of the welcome emails (MAIL_FROM)."
  default     = null
}

variable "alarm_email" {
  type        = string
  description = "An address subscribed to the alarm topic (it must confirm). Null: none."
  default     = null
  validation {
    condition     = var.alarm_email == null || can(regex("^[^\\s@<>]+@[^\\s@<>]+\\.[^\\s@<>]+$", var.alarm_email))
    error_message = "alarm_email must be an email address."
  }
}
