variable "state_bucket_name" {
  type        = string
  description = "Globally unique name of the state bucket. Null: pipeline.stateBucketName of ../settings.json."
  default     = null
}

variable "region" {
  type        = string
  description = "AWS region. Null: stack.region of ../settings.json."
  default     = null
}
