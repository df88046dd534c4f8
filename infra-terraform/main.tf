# The shared settings, and the AWS provider: region, assumed role and default tags, and an
# optional endpoint override (with the skip flags) for the local emulator of `npm run local`.

locals {
  # The defaults, once, as data: the same file the Pulumi program and the local stack read
  # (src/config/settings.ts). Read from this module's own folder, so the module works from anywhere.
  settings = jsondecode(file("${path.module}/settings.json"))
  # A variable left null keeps the data file's value; one section per part, keys as in the file.
  stack = merge(local.settings.stack, { for key, value in {
    region                = var.region
    assumeRoleSessionName = var.assume_role_session_name
    createAccessPolicies  = var.create_access_policies
  } : key => value if value != null })
  queues = merge(local.settings.queues, { for key, value in {
    queueName                         = var.queue_name
    deadLetterQueueName               = var.dead_letter_queue_name
    visibilityTimeoutSeconds          = var.visibility_timeout_seconds
    messageRetentionSeconds           = var.message_retention_seconds
    deadLetterRetentionSeconds        = var.dead_letter_retention_seconds
    maximumMessageSizeBytes           = var.maximum_message_size_bytes
    deadLetterMaximumMessageSizeBytes = var.dead_letter_maximum_message_size_bytes
    receiveWaitTimeSeconds            = var.receive_wait_time_seconds
    maxReceiveCount                   = var.max_receive_count
    delaySeconds                      = var.delay_seconds
    kmsDataKeyReusePeriodSeconds      = var.kms_data_key_reuse_period_seconds
    fifo                              = var.fifo
    contentBasedDeduplication         = var.content_based_deduplication
  } : key => value if value != null })
  table = merge(local.settings.table, { for key, value in {
    sentEmailsTableName   = var.sent_emails_table_name
    pointInTimeRecovery   = var.point_in_time_recovery
    deletionProtection    = var.deletion_protection
    createSentEmailsTable = var.create_sent_emails_table
  } : key => value if value != null })
  email = merge(local.settings.email, { for key, value in {
    mailDomain               = var.mail_domain
    mailFromSubdomain        = var.mail_from_subdomain
    configurationSetName     = var.configuration_set_name
    bounceQueueName          = var.bounce_queue_name
    accountSendRatePerSecond = var.account_send_rate_per_second
    maxConsumerTasks         = var.max_consumer_tasks
  } : key => value if value != null })

  delivery = merge(local.settings.delivery, { for key, value in {
    githubRepository      = var.github_repository
    githubOidcProviderArn = var.github_oidc_provider_arn
    deployEnvironment     = var.deploy_environment
    stateBucketName       = var.state_bucket_name
    secretsKeyArn         = var.secrets_key_arn
  } : key => value if value != null })

  # The numbers derived from the settings, each formula once (src/config/derived.ts holds the
  # same; test/infra compares the plans): one task's share of the account's mail quota.
  mail_rate_per_task = local.email.accountSendRatePerSecond / max(1, local.email.maxConsumerTasks)

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
