# The fleet's alarms, as infra-pulumi/service/alarms.ts, each with a runbook in docs/runbooks.md,
# all notifying one SNS topic (optionally subscribed by email). The dead-letter and handler-failure
# alarms are also the service's deployment alarms (service.tf): a release whose tasks run but get
# messages wrong is rolled back. The EMF names and thresholds are alarms.ts's; the parity test
# (test/infra/parity.test.ts) compares the two.

locals {
  fleet_alarms = local.service.createService && local.service.createAlarms ? 1 : 0
  # The topic, its email and the dead-letter alarm belong to the consumer whatever it runs on: the
  # fleet, or the function (lambda_alarms.tf), named after it (infra-pulumi consumerAlerting).
  consumer_alarms = max(local.fleet_alarms, local.function_alarms)
  alarm_prefix    = local.function == 1 ? local.lambda.functionName : local.service.serviceName
}

resource "aws_sns_topic" "alarms" {
  count = local.consumer_alarms
  name  = "${local.alarm_prefix}-alarms"
}

resource "aws_sns_topic_subscription" "alarm_email" {
  count     = local.consumer_alarms == 1 && var.alarm_email != null ? 1 : 0
  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  count               = local.consumer_alarms
  alarm_name          = "${local.alarm_prefix}-dead-letters"
  alarm_description   = "The dead-letter queue holds messages. Runbook: docs/runbooks.md#dead-letters"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = local.queues.deadLetterQueueName }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

resource "aws_cloudwatch_metric_alarm" "oldest_message" {
  count               = local.fleet_alarms
  alarm_name          = "${local.service.serviceName}-oldest-message"
  alarm_description   = "The oldest registration waits longer than the latency goal (${local.service.latencyGoalSeconds} s). Runbook: docs/runbooks.md#oldest-message"
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = local.queues.queueName }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  threshold           = local.service.latencyGoalSeconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

resource "aws_cloudwatch_metric_alarm" "running_below_desired" {
  count               = local.fleet_alarms
  alarm_name          = "${local.service.serviceName}-running-below-desired"
  alarm_description   = "Fewer consumer tasks run than the service wants, for 10 minutes. Runbook: docs/runbooks.md#running-below-desired"
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 10
  datapoints_to_alarm = 10
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]

  metric_query {
    id          = "desired"
    return_data = false
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "DesiredTaskCount"
      dimensions  = local.fleet_running_metric.dimensions
      period      = 60
      stat        = "Maximum"
    }
  }
  metric_query {
    id          = "running"
    return_data = false
    metric {
      namespace   = "ECS/ContainerInsights"
      metric_name = "RunningTaskCount"
      dimensions  = local.fleet_running_metric.dimensions
      period      = 60
      stat        = "Minimum"
    }
  }
  metric_query {
    id          = "missing"
    label       = "Desired tasks not running"
    expression  = "FILL(desired, 0) - FILL(running, 0)"
    return_data = true
  }
}

# The consumer's own EMF metric (namespace SqsMessaging/Consumer, defined in src/observability/emf.ts).
resource "aws_cloudwatch_metric_alarm" "consumer_paused" {
  count               = local.fleet_alarms
  alarm_name          = "${local.service.serviceName}-consumer-paused"
  alarm_description   = "A consumer has been paused by an environment fault (store, mailer, disk) for 5 minutes. Runbook: docs/runbooks.md#consumer-paused"
  namespace           = "SqsMessaging/Consumer"
  metric_name         = "ConsumerPaused"
  dimensions          = { QueueName = local.queues.queueName }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 5
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]
}

# The share of handled messages that fail (EMF MessagesFailed, MessagesProcessed), above a floor of
# 5 failures a minute so that one poison message on a quiet queue never rolls a release back.
resource "aws_cloudwatch_metric_alarm" "handler_failures" {
  count               = local.fleet_alarms
  alarm_name          = "${local.service.serviceName}-handler-failures"
  alarm_description   = "At least 50 % of the messages handled fail (5 or more a minute) for 3 minutes; during a deployment, ECS rolls it back. Runbook: docs/runbooks.md#handler-failures"
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 50
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms[0].arn]
  ok_actions          = [aws_sns_topic.alarms[0].arn]

  metric_query {
    id          = "failed"
    return_data = false
    metric {
      namespace   = "SqsMessaging/Consumer"
      metric_name = "MessagesFailed"
      dimensions  = { QueueName = local.queues.queueName }
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id          = "processed"
    return_data = false
    metric {
      namespace   = "SqsMessaging/Consumer"
      metric_name = "MessagesProcessed"
      dimensions  = { QueueName = local.queues.queueName }
      period      = 60
      stat        = "Sum"
    }
  }
  metric_query {
    id          = "share"
    label       = "Handler failures (% of handled)"
    expression  = "IF(FILL(failed, 0) >= 5, 100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(processed, 0)), 0)"
    return_data = true
  }
}
