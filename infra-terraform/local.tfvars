# The embedded SQS started by `npm run local` (127.0.0.1:4566): `npm run tf:local` applies with
# these. The emulator has no IAM, so no access policies; the names differ from the local stack's
# own queues so the two never fight over them.
endpoint               = "http://127.0.0.1:4566"
create_access_policies = false
# SQS only: the sent-email table lives in `npm run local`'s dynalite. With no table, nothing here
# carries prevent_destroy, so `npm run tf:local -- destroy` keeps working.
create_sent_emails_table = false
queue_name               = "user-registrations-terraform"
dead_letter_queue_name   = "user-registrations-terraform-dlq"
default_tags = {
  environment = "local"
}
