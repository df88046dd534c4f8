# The function's alarms, as infra-pulumi/lambda/alarms.ts, each with a runbook in docs/runbooks.md,
# on the consumer's topic (service_alarms.tf, which also holds the dead-letter alarm): invocations
# that failed as a whole, invocations Lambda throttled, and invocations that met an environment fault.

resource "aws_cloudwatch_metric_alarm" "function_errors" {
  count               = local.function_alarms
  alarm_name          = "${local.lambda.functionName}-errors"
  alarm_description   = "Invocations of the consumer function failed as a whole for 3 minutes. Runbook: docs/runbooks.md#function-errors"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = local.lambda.functionName }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

resource "aws_cloudwatch_metric_alarm" "function_throttles" {
  count               = local.function_alarms
  alarm_name          = "${local.lambda.functionName}-throttles"
  alarm_description   = "Lambda throttled the consumer function for 5 minutes. Runbook: docs/runbooks.md#function-throttles"
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = local.lambda.functionName }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

# Invocations that met an environment fault (the EMF gauge ConsumerPaused the handler writes per
# invocation, src/contract/metrics.ts): such an invocation does not fail, so Errors stays still.
# 3 faulted minutes in the last 15, not 5 in a row: in an outage a quiet queue's invocations grow
# sparse as the visibility grows (infra-pulumi/lambda/alarms.ts).
resource "aws_cloudwatch_metric_alarm" "function_paused" {
  count               = local.function_alarms
  alarm_name          = "${local.lambda.functionName}-paused"
  alarm_description   = "Invocations of the consumer function met an environment fault (store, mail server) in 3 of the last 15 minutes; their messages come back with a growing visibility. Runbook: docs/runbooks.md#function-paused"
  namespace           = "SqsMessaging/Consumer"
  metric_name         = "ConsumerPaused"
  dimensions          = { QueueName = local.queues.queueName }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 15
  datapoints_to_alarm = 3
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}
