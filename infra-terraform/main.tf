# The AWS provider: region, assumed role and default tags from variables, and an optional
# endpoint override (with the skip flags) for the local emulator started by `npm run local`.

locals {
  default_tags = merge({ project = "sqs-messaging", "managed-by" = "terraform" }, var.default_tags)
  # The emulator accepts any credentials; these never reach AWS.
  emulator_key = var.endpoint == null ? null : "local"
  emulator     = var.endpoint != null
}

provider "aws" {
  region = var.region

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = var.assume_role_session_name
      external_id  = var.assume_role_external_id
    }
  }

  default_tags {
    tags = local.default_tags
  }

  dynamic "endpoints" {
    for_each = var.endpoint == null ? [] : [var.endpoint]
    content {
      sqs = endpoints.value
    }
  }

  access_key                  = local.emulator_key
  secret_key                  = local.emulator_key
  skip_credentials_validation = local.emulator
  skip_requesting_account_id  = local.emulator
  skip_metadata_api_check     = local.emulator
  skip_region_validation      = local.emulator
}
