# The fleet's size follows the backlog, as infra-pulumi/service/autoscaling.ts: target tracking on
# messages visible per running task (metric math), between min_tasks and the quota's maximum; with
# scale_to_zero, a step policy fired by an alarm (messages waiting, no task) wakes one task —
# target tracking alone never leaves 0. Names and dimensions come from the settings (the service's
# resource id is a string); depends_on orders the creation.

locals {
  fleet_visible_metric = {
    namespace   = "AWS/SQS"
    metric_name = "ApproximateNumberOfMessagesVisible"
    dimensions  = { QueueName = local.queues.queueName }
  }
  fleet_running_metric = {
    namespace   = "ECS/ContainerInsights"
    metric_name = "RunningTaskCount"
    dimensions  = { ClusterName = local.service.clusterName, ServiceName = local.service.serviceName }
  }
}

resource "aws_appautoscaling_target" "consumer" {
  count              = local.fleet
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = local.fleet_resource_id
  min_capacity       = local.fleet_min_tasks
  max_capacity       = local.fleet_max_tasks

  depends_on = [aws_ecs_service.consumer]
}

resource "aws_appautoscaling_policy" "backlog" {
  count              = local.fleet
  name               = "${local.service.serviceName}-backlog-per-task"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = local.fleet_resource_id

  target_tracking_scaling_policy_configuration {
    target_value       = local.fleet_target_backlog
    scale_out_cooldown = local.service.scaleOutCooldownSeconds
    scale_in_cooldown  = local.service.scaleInCooldownSeconds

    customized_metric_specification {
      metrics {
        id          = "m1"
        label       = "Messages visible"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = local.fleet_visible_metric.namespace
            metric_name = local.fleet_visible_metric.metric_name
            dimensions {
              name  = "QueueName"
              value = local.queues.queueName
            }
          }
        }
      }
      metrics {
        id          = "m2"
        label       = "Running tasks"
        return_data = false
        metric_stat {
          stat = "Average"
          metric {
            namespace   = local.fleet_running_metric.namespace
            metric_name = local.fleet_running_metric.metric_name
            dimensions {
              name  = "ClusterName"
              value = local.service.clusterName
            }
            dimensions {
              name  = "ServiceName"
              value = local.service.serviceName
            }
          }
        }
      }
      metrics {
        id          = "backlog"
        label       = "Backlog per task"
        expression  = "m1 / m2"
        return_data = true
      }
    }
  }

  depends_on = [aws_appautoscaling_target.consumer]
}

resource "aws_appautoscaling_policy" "wake" {
  count              = local.service.createService && local.service.scaleToZero ? 1 : 0
  name               = "${local.service.serviceName}-wake-from-zero"
  policy_type        = "StepScaling"
  service_namespace  = "ecs"
  scalable_dimension = "ecs:service:DesiredCount"
  resource_id        = local.fleet_resource_id

  step_scaling_policy_configuration {
    adjustment_type         = "ExactCapacity"
    cooldown                = local.service.scaleOutCooldownSeconds
    metric_aggregation_type = "Maximum"

    step_adjustment {
      metric_interval_lower_bound = "0"
      scaling_adjustment          = 1
    }
  }

  depends_on = [aws_appautoscaling_target.consumer]
}

resource "aws_cloudwatch_metric_alarm" "wake" {
  count               = length(aws_appautoscaling_policy.wake)
  alarm_name          = "${local.service.serviceName}-messages-wait-no-task"
  alarm_description   = "Messages wait and no consumer task runs: set the fleet to one task."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 1
  datapoints_to_alarm = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.wake[0].arn]

  metric_query {
    id          = "m1"
    return_data = false
    metric {
      namespace   = local.fleet_visible_metric.namespace
      metric_name = local.fleet_visible_metric.metric_name
      dimensions  = local.fleet_visible_metric.dimensions
      period      = 60
      stat        = "Maximum"
    }
  }
  metric_query {
    id          = "m2"
    return_data = false
    metric {
      namespace   = local.fleet_running_metric.namespace
      metric_name = local.fleet_running_metric.metric_name
      dimensions  = local.fleet_running_metric.dimensions
      period      = 60
      stat        = "Maximum"
    }
  }
  metric_query {
    id          = "wake"
    label       = "No task while messages wait"
    expression  = "IF(FILL(m2, 0) == 0 AND m1 > 0, 1, 0)"
    return_data = true
  }
}
