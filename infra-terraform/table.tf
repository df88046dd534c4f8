# The sent-email table shared by every consumer: key `id` (string), on-demand billing,
# TTL on the store's `expiresAt` (epoch seconds), point-in-time recovery, encryption at rest with
# the AWS-managed key, deletion protection. The store and its item layout: src/consumer/store/dynamodb.ts.
#
# Kept on destroy twice over: deletion protection makes AWS refuse the delete, and prevent_destroy
# makes Terraform refuse to plan it. Losing the table would send every registration still in a
# queue a second email. prevent_destroy cannot come from a variable (Terraform evaluates lifecycle
# before variables), so a stack without the table (create_sent_emails_table = false, as in
# local.tfvars for the SQS-only emulator) is how `terraform destroy` stays possible; to really
# delete the table, turn deletion_protection off, apply, and remove the table from the state
# (`terraform state rm`) or edit this block.
resource "aws_dynamodb_table" "sent_emails" {
  count                       = local.table.createSentEmailsTable ? 1 : 0
  name                        = local.table.sentEmailsTableName
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "id"
  deletion_protection_enabled = local.table.deletionProtection

  attribute {
    name = "id"
    type = "S"
  }

  ttl {
    attribute_name = "expiresAt"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = local.table.pointInTimeRecovery
  }

  server_side_encryption {
    enabled = true
  }

  lifecycle {
    prevent_destroy = true
  }
}
