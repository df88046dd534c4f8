# The shared settings, and the AWS provider: region, assumed role and default tags, and an
# optional endpoint override (with the skip flags) for the local emulator of `npm run local`.

locals {
  # The defaults, once, as data: the same file the Pulumi program and the local stack read
  # (src/config/settings.ts). Read from this module's own folder, so the module works from anywhere.
  settings = jsondecode(file("${path.module}/settings.json"))
  # Each section with the variables set laid over it (local.stack, local.queues, ...) is generated
  # with the variables: settings_variables.tf.

  # The numbers derived from the settings, each formula once (src/config/derived.ts holds the
  # same; test/infra compares the plans): one task's share of the account's mail quota.
  mail_rate_per_task = local.email.accountSendRatePerSecond / max(1, local.email.maxConsumerTasks)
  # The function's: the event source mapping's maximum concurrency (the most senders, within
  # Lambda's 2-1000), each invocation's share of the quota at that concurrency, the shortest
  # timeout that outlasts the slowest batch (its sends paced at that rate, then the last claim's
  # lease and the handler's time to settle the batch), and the queue's shortest and recommended
  # visibility: the batching window, then the invocation (AWS recommends 6 timeouts + the window).
  # The constants come generated from derived.ts (settings_variables.tf).
  function_concurrency            = min(1000, max(2, local.email.maxConsumerTasks))
  function_send_rate              = local.email.accountSendRatePerSecond / local.function_concurrency
  function_min_timeout            = ceil((local.lambda.functionBatchSize - 1) / local.function_send_rate + local.function_last_record_seconds)
  function_min_visibility         = local.lambda.functionTimeoutSeconds + local.lambda.functionBatchingWindowSeconds
  function_recommended_visibility = local.function_visibility_factor * local.lambda.functionTimeoutSeconds + local.lambda.functionBatchingWindowSeconds

  default_tags = merge({ project = "sqs-messaging", "managed-by" = "terraform" }, var.default_tags)
  # The emulator accepts any credentials; these never reach AWS.
  emulator_key = var.endpoint == null ? null : "local"
  emulator     = var.endpoint != null
}

provider "aws" {
  region = local.stack.region

  dynamic "assume_role" {
    for_each = var.assume_role_arn == null ? [] : [var.assume_role_arn]
    content {
      role_arn     = assume_role.value
      session_name = local.stack.assumeRoleSessionName
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
