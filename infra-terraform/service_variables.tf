# The consumer fleet on ECS Fargate: what only a stack can know, no default in the data file. The
# `service` section's settings are generated with the others: settings_variables.tf.

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
