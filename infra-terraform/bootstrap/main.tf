# The state backend, the same as infra-pulumi/bootstrap/: the S3 bucket of the stacks'
# state (Pulumi's self-managed backend, Terraform's S3 backend with use_lockfile) — versioned,
# SSE-KMS with the AWS-managed key and a bucket key, public access blocked, owner-enforced
# objects, TLS only — and the KMS key of Pulumi's stack secrets. Its own state stays local
# (terraform.tfstate here, kept out of git): it cannot live in the bucket it creates.

locals {
  settings = jsondecode(file("${path.module}/../settings.json"))
  bucket   = coalesce(var.state_bucket_name, local.settings.pipeline.stateBucketName, "set-state-bucket-name")
  region   = coalesce(var.region, local.settings.stack.region)
}

provider "aws" {
  region = local.region
  default_tags {
    tags = { project = "sqs-messaging", "managed-by" = "terraform", part = "bootstrap" }
  }
}

resource "aws_s3_bucket" "state" {
  bucket        = local.bucket
  force_destroy = false

  lifecycle {
    prevent_destroy = true
    precondition {
      condition     = local.bucket != "set-state-bucket-name"
      error_message = "Set state_bucket_name (or pipeline.stateBucketName in settings.json): a globally unique bucket name."
    }
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Deny every request without TLS (a Deny grants nothing; the bucket ARN is built from its name).
resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = ["arn:aws:s3:::${local.bucket}", "arn:aws:s3:::${local.bucket}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    }]
  })
  depends_on = [aws_s3_bucket_public_access_block.state]
}

resource "aws_kms_key" "secrets" {
  description             = "Pulumi stack secrets of sqs-messaging (awskms:// secrets provider)."
  enable_key_rotation     = true
  deletion_window_in_days = 30

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "secrets" {
  name          = "alias/sqs-messaging-pulumi"
  target_key_id = aws_kms_key.secrets.key_id
}

output "state_bucket_name" {
  description = "The state bucket: pipeline.stateBucketName, and the bucket of backend.s3.tfbackend."
  value       = aws_s3_bucket.state.bucket
}

output "secrets_key_arn" {
  description = "The stack secrets key: pipeline.secretsKeyArn."
  value       = aws_kms_key.secrets.arn
}
