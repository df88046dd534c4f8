# What only a stack can know (roles, endpoint, keys, principals): not in the data file. The shared
# settings are variables too, generated from the settings table: settings_variables.tf.

variable "assume_role_arn" {
  type        = string
  description = "IAM role the provider assumes for every call (arn:aws:iam::<account>:role/<name>). Null: the caller's own credentials."
  default     = null
  validation {
    condition     = var.assume_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\\w+=,.@/-]{1,512}$", var.assume_role_arn))
    error_message = "assume_role_arn must be an IAM role ARN: arn:aws:iam::<12-digit account>:role/<name>."
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

variable "kms_key_arn" {
  type        = string
  description = "Customer-managed KMS key (or alias) ARN for encryption at rest. Null: SQS-managed encryption (SSE-SQS)."
  default     = null
  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[\\w/-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key or alias ARN."
  }
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
