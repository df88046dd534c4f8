# The pair's settings are one object with the keys of settings.json's `queues` section (the
# caller's local.queues, or the bounce pair's variant of it): a new queue setting reaches the
# module without a new variable here or a new argument at each call. The ranges are checked by the
# root module's variables (settings_variables.tf) and the data file's schema.

variable "settings" {
  type = object({
    queueName                         = string
    deadLetterQueueName               = string
    visibilityTimeoutSeconds          = number
    messageRetentionSeconds           = number
    deadLetterRetentionSeconds        = number
    maximumMessageSizeBytes           = number
    deadLetterMaximumMessageSizeBytes = number
    receiveWaitTimeSeconds            = number
    maxReceiveCount                   = number
    delaySeconds                      = number
    kmsDataKeyReusePeriodSeconds      = number
    fifo                              = bool
    contentBasedDeduplication         = bool
    deduplicationScope                = string
  })
  description = "The pair's settings, keys as in settings.json's queues section."
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (or alias) ARN; null: SQS-managed encryption (SSE-SQS)."
  default     = null
}

variable "main_policy_allow_statements" {
  type        = list(any)
  description = "Allow statements of the main queue's policy, before its TLS-only Deny; the module sets each one's Resource to the main queue."
  default     = []
}
