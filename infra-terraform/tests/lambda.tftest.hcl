# The consumer on Lambda, offline with a mocked provider: what the function is, and the stacks
# Terraform refuses (both computes; a timeout below the slowest batch, whose shortest value is
# src/config/derived.ts's minimumFunctionTimeoutSeconds, 40 s on the data file's defaults; a queue
# visibility below the timeout). tests/function.zip is the placeholder bundle the other tests write
# (test/support/lambda-bundle.ts; test/infra/terraform-cli.test.ts checks it is the same bytes).
# Parity with Pulumi: test/infra/parity.test.ts.

mock_provider "aws" {}

variables {
  region                        = "eu-west-1"
  create_function               = true
  function_bundle_path          = abspath("tests/function.zip")
  service_digest_key_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:registrations/digest-key-AbCdEf"
  service_ses_identity_arn      = "arn:aws:ses:eu-west-1:123456789012:identity/example.com"
  service_mail_from             = "Cadastro <no-reply@example.com>"
}

run "function_from_the_data_file" {
  command = plan

  assert {
    condition     = aws_lambda_function.consumer[0].runtime == "nodejs22.x" && aws_lambda_function.consumer[0].handler == "index.handler" && aws_lambda_function.consumer[0].architectures == tolist(["arm64"])
    error_message = "arm64, nodejs22.x, index.handler"
  }
  assert {
    condition     = aws_lambda_function.consumer[0].timeout == jsondecode(file("settings.json")).lambda.functionTimeoutSeconds && aws_lambda_function.consumer[0].source_code_hash == filebase64sha256("tests/function.zip")
    error_message = "the data file's timeout, the bundle's hash"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.consumer[0].function_response_types == toset(["ReportBatchItemFailures"]) && aws_lambda_event_source_mapping.consumer[0].batch_size == jsondecode(file("settings.json")).lambda.functionBatchSize
    error_message = "partial batch responses, the data file's batch"
  }
  assert {
    condition     = aws_lambda_event_source_mapping.consumer[0].scaling_config[0].maximum_concurrency * tonumber(aws_lambda_function.consumer[0].environment[0].variables.MAIL_RATE_PER_SECOND) <= jsondecode(file("settings.json")).email.accountSendRatePerSecond
    error_message = "every invocation's send cap together stays within the account's quota"
  }
  assert {
    condition     = length(aws_ecs_service.consumer) == 0 && length(aws_cloudwatch_metric_alarm.function_errors) == 1 && length(aws_cloudwatch_metric_alarm.dead_letters) == 1
    error_message = "the function and its alarms, no fleet"
  }
}

run "accepts_the_shortest_timeout" {
  command = plan
  variables {
    function_timeout_seconds = 40
  }
  assert {
    condition     = aws_lambda_function.consumer[0].timeout == 40
    error_message = "40 s outlasts the defaults' slowest batch"
  }
}

run "refuses_a_timeout_below_the_slowest_batch" {
  command = plan
  variables {
    function_timeout_seconds = 39
  }
  expect_failures = [aws_lambda_function.consumer]
}

run "refuses_a_visibility_below_the_timeout" {
  command = plan
  variables {
    function_timeout_seconds   = 60
    visibility_timeout_seconds = 59
  }
  expect_failures = [aws_lambda_event_source_mapping.consumer]
}

run "refuses_both_computes" {
  command = plan
  variables {
    create_service             = true
    service_image              = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/sqs-messaging-consumer@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    service_subnet_ids         = ["subnet-0123456789abcdef0"]
    service_security_group_ids = ["sg-0123456789abcdef0"]
  }
  # The log group's one precondition; the function, which needs the log group, is not planned.
  expect_failures = [aws_cloudwatch_log_group.function]
}

# The visibility counts the batching window: the mapping receives a message when the window
# opens and invokes when it closes (src/config/derived.ts, minimumFunctionVisibilitySeconds).
run "accepts_a_visibility_of_the_window_and_the_timeout" {
  command = plan
  variables {
    function_timeout_seconds         = 60
    function_batching_window_seconds = 5
    visibility_timeout_seconds       = 65
  }
  assert {
    condition     = aws_lambda_event_source_mapping.consumer[0].maximum_batching_window_in_seconds == 5
    error_message = "window + timeout is the shortest visibility the mapping accepts"
  }
}

run "refuses_a_visibility_inside_the_window_and_the_timeout" {
  command = plan
  variables {
    function_timeout_seconds         = 60
    function_batching_window_seconds = 5
    visibility_timeout_seconds       = 64
  }
  expect_failures = [aws_lambda_event_source_mapping.consumer]
}

run "accepts_a_fifo_queue_without_a_batching_window" {
  command = plan
  variables {
    fifo                             = true
    queue_name                       = "signups.fifo"
    dead_letter_queue_name           = "signups-dlq.fifo"
    function_batching_window_seconds = 0
  }
  assert {
    condition     = aws_lambda_event_source_mapping.consumer[0].maximum_batching_window_in_seconds == 0
    error_message = "a FIFO queue's mapping has no batching window"
  }
}

run "refuses_a_batching_window_on_a_fifo_queue" {
  command = plan
  variables {
    fifo                             = true
    queue_name                       = "signups.fifo"
    dead_letter_queue_name           = "signups-dlq.fifo"
    function_batching_window_seconds = 1
    visibility_timeout_seconds       = 360
  }
  expect_failures = [aws_lambda_event_source_mapping.consumer]
}
