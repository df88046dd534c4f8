# Every shared setting defaults to null: main.tf then takes its value from settings.json, the data
# file the Pulumi program and the local stack read too. AWS's ranges are validation blocks, so a
# bad value fails at plan time (a null is the data file's value, checked by its schema).

variable "region" {
  type        = string
  description = "AWS region of the queues."
  default     = null
  validation {
    condition     = var.region == null ? true : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region, e.g. eu-west-1."
  }
}

variable "assume_role_arn" {
  type        = string
  description = "IAM role the provider assumes for every call (arn:aws:iam::<account>:role/<name>). Null: the caller's own credentials."
  default     = null
  validation {
    condition     = var.assume_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$", var.assume_role_arn))
    error_message = "assume_role_arn must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>."
  }
}

variable "assume_role_session_name" {
  type        = string
  description = "Session name of the assumed role (shows up in CloudTrail)."
  default     = null
  validation {
    condition     = var.assume_role_session_name == null ? true : can(regex("^[\\w+=,.@-]{2,64}$", var.assume_role_session_name))
    error_message = "assume_role_session_name must be 2-64 characters of letters, digits and +=,.@_-."
  }
}

variable "assume_role_external_id" {
  type        = string
  description = "External id the role's trust policy requires, if any."
  default     = null
  sensitive   = true
}

variable "default_tags" {
  type        = map(string)
  description = "Tags added to every resource, on top of project and managed-by."
  default     = {}
}

variable "endpoint" {
  type        = string
  description = "SQS endpoint override for a local emulator (e.g. http://127.0.0.1:4566 from `npm run local`). Adds the skip flags and dummy keys. Null: AWS."
  default     = null
  validation {
    condition     = var.endpoint == null || can(regex("^https?://", var.endpoint))
    error_message = "endpoint must be a URL, e.g. http://127.0.0.1:4566."
  }
}

variable "queue_name" {
  type        = string
  description = "Main queue name (must end in .fifo when fifo is true)."
  default     = null
  validation {
    condition     = var.queue_name == null ? true : can(regex("^[A-Za-z0-9_-]{1,80}(\\.fifo)?$", var.queue_name))
    error_message = "queue_name must be 1-80 letters, digits, - or _ (plus .fifo for a FIFO queue)."
  }
}

variable "dead_letter_queue_name" {
  type        = string
  description = "Dead-letter queue name (must end in .fifo when fifo is true)."
  default     = null
  validation {
    condition     = var.dead_letter_queue_name == null ? true : can(regex("^[A-Za-z0-9_-]{1,80}(\\.fifo)?$", var.dead_letter_queue_name))
    error_message = "dead_letter_queue_name must be 1-80 letters, digits, - or _ (plus .fifo for a FIFO queue)."
  }
}

variable "visibility_timeout_seconds" {
  type        = number
  description = "Seconds a received message stays invisible (0-43200)."
  default     = null
  validation {
    condition     = var.visibility_timeout_seconds == null ? true : var.visibility_timeout_seconds >= 0 && var.visibility_timeout_seconds <= 43200 && floor(var.visibility_timeout_seconds) == var.visibility_timeout_seconds
    error_message = "visibility_timeout_seconds must be a whole number from 0 to 43200."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "Seconds the main queue keeps a message (60-1209600)."
  default     = null
  validation {
    condition     = var.message_retention_seconds == null ? true : var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600 && floor(var.message_retention_seconds) == var.message_retention_seconds
    error_message = "message_retention_seconds must be a whole number from 60 to 1209600."
  }
}

variable "dead_letter_retention_seconds" {
  type        = number
  description = "Seconds the dead-letter queue keeps a message (60-1209600)."
  default     = null
  validation {
    condition     = var.dead_letter_retention_seconds == null ? true : var.dead_letter_retention_seconds >= 60 && var.dead_letter_retention_seconds <= 1209600 && floor(var.dead_letter_retention_seconds) == var.dead_letter_retention_seconds
    error_message = "dead_letter_retention_seconds must be a whole number from 60 to 1209600."
  }
}

variable "maximum_message_size_bytes" {
  type        = number
  description = "Largest accepted message in bytes (1024-1048576)."
  default     = null
  validation {
    condition     = var.maximum_message_size_bytes == null ? true : var.maximum_message_size_bytes >= 1024 && var.maximum_message_size_bytes <= 1048576 && floor(var.maximum_message_size_bytes) == var.maximum_message_size_bytes
    error_message = "maximum_message_size_bytes must be a whole number from 1024 to 1048576."
  }
}

variable "dead_letter_maximum_message_size_bytes" {
  type        = number
  description = "Largest message the dead-letter queue accepts, in bytes (1024-1048576)."
  default     = null
  validation {
    condition     = var.dead_letter_maximum_message_size_bytes == null ? true : var.dead_letter_maximum_message_size_bytes >= 1024 && var.dead_letter_maximum_message_size_bytes <= 1048576 && floor(var.dead_letter_maximum_message_size_bytes) == var.dead_letter_maximum_message_size_bytes
    error_message = "dead_letter_maximum_message_size_bytes must be a whole number from 1024 to 1048576."
  }
}

variable "receive_wait_time_seconds" {
  type        = number
  description = "Long-poll wait of ReceiveMessage (0-20)."
  default     = null
  validation {
    condition     = var.receive_wait_time_seconds == null ? true : var.receive_wait_time_seconds >= 0 && var.receive_wait_time_seconds <= 20 && floor(var.receive_wait_time_seconds) == var.receive_wait_time_seconds
    error_message = "receive_wait_time_seconds must be a whole number from 0 to 20."
  }
}

variable "max_receive_count" {
  type        = number
  description = "Receives before SQS moves a message to the dead-letter queue (1-1000)."
  default     = null
  validation {
    condition     = var.max_receive_count == null ? true : var.max_receive_count >= 1 && var.max_receive_count <= 1000 && floor(var.max_receive_count) == var.max_receive_count
    error_message = "max_receive_count must be a whole number from 1 to 1000."
  }
}

variable "delay_seconds" {
  type        = number
  description = "Delay before a new message is visible (0-900)."
  default     = null
  validation {
    condition     = var.delay_seconds == null ? true : var.delay_seconds >= 0 && var.delay_seconds <= 900 && floor(var.delay_seconds) == var.delay_seconds
    error_message = "delay_seconds must be a whole number from 0 to 900."
  }
}

variable "kms_data_key_reuse_period_seconds" {
  type        = number
  description = "Seconds SQS reuses a KMS data key with a customer-managed key (60-86400)."
  default     = null
  validation {
    condition     = var.kms_data_key_reuse_period_seconds == null ? true : var.kms_data_key_reuse_period_seconds >= 60 && var.kms_data_key_reuse_period_seconds <= 86400 && floor(var.kms_data_key_reuse_period_seconds) == var.kms_data_key_reuse_period_seconds
    error_message = "kms_data_key_reuse_period_seconds must be a whole number from 60 to 86400."
  }
}

variable "fifo" {
  type        = bool
  description = "Make both queues FIFO (their names must then end in .fifo)."
  default     = null
}

variable "content_based_deduplication" {
  type        = bool
  description = "FIFO only: deduplicate by the SHA-256 of the body."
  default     = null
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (or alias) ARN for encryption at rest. Null: SQS-managed encryption (SSE-SQS)."
  default     = null
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[\\w/-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key or alias ARN."
  }
}

variable "create_access_policies" {
  type        = bool
  description = "Create the producer and consumer IAM policies (false for an emulator, which has no IAM)."
  default     = null
}

variable "producer_principals" {
  type        = list(string)
  description = "IAM principal ARNs allowed to assume a producer role. Empty: no role is created."
  default     = []
  validation {
    condition     = alltrue([for arn in var.producer_principals : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:", arn))])
    error_message = "producer_principals must be IAM principal ARNs."
  }
}

variable "consumer_principals" {
  type        = list(string)
  description = "IAM principal ARNs allowed to assume a consumer role. Empty: no role is created."
  default     = []
  validation {
    condition     = alltrue([for arn in var.consumer_principals : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:", arn))])
    error_message = "consumer_principals must be IAM principal ARNs."
  }
}

variable "operator_principals" {
  type        = list(string)
  description = "IAM principal ARNs allowed to assume the operator role (status, dlq). Empty: no role is created."
  default     = []
  validation {
    condition     = alltrue([for arn in var.operator_principals : can(regex("^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:", arn))])
    error_message = "operator_principals must be IAM principal ARNs."
  }
}

variable "sent_emails_table_name" {
  type        = string
  description = "DynamoDB table of sent welcome emails, shared by every consumer (3-255 of letters, digits, _-.)."
  default     = null
  validation {
    condition     = var.sent_emails_table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.sent_emails_table_name))
    error_message = "sent_emails_table_name must be 3-255 characters of letters, digits, _, - and . (DynamoDB rule)."
  }
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Point-in-time recovery on the sent-email table."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "DynamoDB deletion protection on the sent-email table."
  default     = null
}

variable "create_sent_emails_table" {
  type        = bool
  description = "Create the sent-email table (false for the SQS-only emulator stack of npm run tf:local)."
  default     = null
}

variable "mail_domain" {
  type        = string
  description = "Domain the welcome emails are sent from (an SES identity with Easy DKIM). Empty (the data file's default): no SES resources."
  default     = null
  validation {
    condition     = var.mail_domain == null || var.mail_domain == "" || can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", coalesce(var.mail_domain, "-")))
    error_message = "mail_domain must be a lower-case domain name such as example.com, or empty for no SES resources."
  }
}

variable "mail_from_subdomain" {
  type        = string
  description = "Custom MAIL FROM is <mail_from_subdomain>.<mail_domain>, so that SPF aligns (DMARC)."
  default     = null
  validation {
    condition     = var.mail_from_subdomain == null || can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", coalesce(var.mail_from_subdomain, "-")))
    error_message = "mail_from_subdomain must be one DNS label (letters, digits, -), e.g. bounce."
  }
}

variable "configuration_set_name" {
  type        = string
  description = "SES configuration set whose bounce and complaint events reach the bounce queue (1-64 of letters, digits, _ and -)."
  default     = null
  validation {
    condition     = var.configuration_set_name == null || can(regex("^[A-Za-z0-9_-]{1,64}$", coalesce(var.configuration_set_name, "-")))
    error_message = "configuration_set_name must be 1-64 letters, digits, _ or -."
  }
}

variable "bounce_queue_name" {
  type        = string
  description = "SQS queue of SES bounce and complaint events; its dead-letter queue is <name>-dlq (1-76 of letters, digits, _ and -)."
  default     = null
  validation {
    condition     = var.bounce_queue_name == null || can(regex("^[A-Za-z0-9_-]{1,76}$", coalesce(var.bounce_queue_name, "-")))
    error_message = "bounce_queue_name must be 1-76 letters, digits, _ or - (the dead-letter queue adds -dlq, AWS allows 80)."
  }
}

variable "account_send_rate_per_second" {
  type        = number
  description = "The account's SES maximum send rate; each consumer sends at most this / max_consumer_tasks a second."
  default     = null
  validation {
    condition     = var.account_send_rate_per_second == null ? true : var.account_send_rate_per_second > 0
    error_message = "account_send_rate_per_second must be above 0."
  }
}

variable "max_consumer_tasks" {
  type        = number
  description = "The most consumer tasks that send at once (the autoscaling maximum)."
  default     = null
  validation {
    condition     = var.max_consumer_tasks == null ? true : var.max_consumer_tasks >= 1 && floor(var.max_consumer_tasks) == var.max_consumer_tasks
    error_message = "max_consumer_tasks must be a whole number of at least 1."
  }
}

# Delivery from GitHub Actions (settings.json section `delivery`; delivery.tf).

variable "github_repository" {
  type        = string
  description = "owner/name of the GitHub repository whose workflows may assume the delivery roles. Null: no delivery roles."
  default     = null
  validation {
    condition     = var.github_repository == null || can(regex("^[\\w.-]+/[\\w.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name."
  }
}

variable "github_oidc_provider_arn" {
  type        = string
  description = "The account's existing GitHub OIDC provider ARN. Null: the module creates it."
  default     = null
  validation {
    condition     = var.github_oidc_provider_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/token\\.actions\\.githubusercontent\\.com$", var.github_oidc_provider_arn))
    error_message = "github_oidc_provider_arn must be the ARN of the token.actions.githubusercontent.com provider."
  }
}

variable "deploy_environment" {
  type        = string
  description = "The protected GitHub environment whose jobs alone may assume the deploy role."
  default     = null
  validation {
    condition     = var.deploy_environment == null || length(coalesce(var.deploy_environment, "-")) > 0
    error_message = "deploy_environment must not be empty."
  }
}

variable "state_bucket_name" {
  type        = string
  description = "The Pulumi state bucket (made by the bootstrap). Null: no plan and deploy roles."
  default     = null
  validation {
    condition     = var.state_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name))
    error_message = "state_bucket_name must be an S3 bucket name (3-63 of a-z, 0-9, . and -)."
  }
}

variable "secrets_key_arn" {
  type        = string
  description = "The KMS key ARN of Pulumi's stack secrets (made by the bootstrap). Null: none."
  default     = null
  validation {
    condition     = var.secrets_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[\\w-]+$", var.secrets_key_arn))
    error_message = "secrets_key_arn must be a KMS key ARN."
  }
}
