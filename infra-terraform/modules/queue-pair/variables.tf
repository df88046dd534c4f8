# The root module passes the values it resolved from settings.json and its own variables; the
# ranges are checked there (settings_variables.tf), so these carry types and descriptions only.

variable "name" {
  type        = string
  description = "Main queue name (ends in .fifo for a FIFO pair)."
}

variable "dead_letter_name" {
  type        = string
  description = "Dead-letter queue name (ends in .fifo for a FIFO pair)."
}

variable "visibility_timeout_seconds" {
  type        = number
  description = "Seconds a received message stays invisible, on both queues."
}

variable "message_retention_seconds" {
  type        = number
  description = "Seconds the main queue keeps a message."
}

variable "dead_letter_retention_seconds" {
  type        = number
  description = "Seconds the dead-letter queue keeps a message."
}

variable "maximum_message_size_bytes" {
  type        = number
  description = "Largest message the main queue accepts, in bytes."
}

variable "dead_letter_maximum_message_size_bytes" {
  type        = number
  description = "Largest message the dead-letter queue accepts, in bytes."
}

variable "receive_wait_time_seconds" {
  type        = number
  description = "Long-poll wait of ReceiveMessage, on both queues."
}

variable "max_receive_count" {
  type        = number
  description = "Receives before SQS moves a message to the dead-letter queue."
}

variable "delay_seconds" {
  type        = number
  description = "Delay before a new message on the main queue is visible (the dead-letter queue has none)."
  default     = 0
}

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (or alias) ARN; null: SQS-managed encryption (SSE-SQS)."
  default     = null
}

variable "kms_data_key_reuse_period_seconds" {
  type        = number
  description = "Seconds SQS reuses a KMS data key (used only with kms_key_arn)."
}

variable "fifo" {
  type        = bool
  description = "A FIFO pair."
  default     = false
}

variable "content_based_deduplication" {
  type        = bool
  description = "FIFO only: deduplicate by the SHA-256 of the body."
  default     = false
}

variable "main_policy_allow_statements" {
  type        = list(any)
  description = "Allow statements of the main queue's policy, before its TLS-only Deny; the module sets each one's Resource to the main queue."
  default     = []
}
