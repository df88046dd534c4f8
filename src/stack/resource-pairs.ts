/**
 * The pairs: each resource the Pulumi program declares and the Terraform resource that describes
 * the same thing in infra-terraform/. One table, read by the parity test (test/infra/parity.test.ts,
 * which fails when a pair is missing or has the wrong type) and by `npm run infra:adopt`, which
 * hands a stack over from one program to the other (src/ops/adopt.ts).
 *
 * A Pulumi resource is named `<component>-<suffix>` (the component is `registrations` unless a
 * test names it otherwise); the key here is the suffix. A Terraform address ends in `[0]` where
 * the resource has `count` (everything optional), as the state and an import block spell it.
 */

/** The name of the program's top-level components (infra-pulumi/program.ts): `registrations-queue`. */
export const PULUMI_COMPONENT_NAME = "registrations";

/** Pulumi resource types ↔ Terraform resource types (components and the provider aside). */
export const TERRAFORM_TYPES: Readonly<Record<string, string>> = {
  "aws:sqs/queue:Queue": "aws_sqs_queue",
  "aws:sqs/redrivePolicy:RedrivePolicy": "aws_sqs_queue_redrive_policy",
  "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy": "aws_sqs_queue_redrive_allow_policy",
  "aws:sqs/queuePolicy:QueuePolicy": "aws_sqs_queue_policy",
  "aws:iam/policy:Policy": "aws_iam_policy",
  "aws:iam/role:Role": "aws_iam_role",
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "aws_iam_role_policy_attachment",
  "aws:dynamodb/table:Table": "aws_dynamodb_table",
  "aws:ecr/repository:Repository": "aws_ecr_repository",
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": "aws_ecr_lifecycle_policy",
  "aws:ecs/cluster:Cluster": "aws_ecs_cluster",
  "aws:cloudwatch/logGroup:LogGroup": "aws_cloudwatch_log_group",
  "aws:iam/rolePolicy:RolePolicy": "aws_iam_role_policy",
  "aws:ecs/taskDefinition:TaskDefinition": "aws_ecs_task_definition",
  "aws:ecs/service:Service": "aws_ecs_service",
  "aws:appautoscaling/target:Target": "aws_appautoscaling_target",
  "aws:appautoscaling/policy:Policy": "aws_appautoscaling_policy",
  "aws:cloudwatch/metricAlarm:MetricAlarm": "aws_cloudwatch_metric_alarm",
  "aws:sns/topic:Topic": "aws_sns_topic",
  "aws:sesv2/configurationSet:ConfigurationSet": "aws_sesv2_configuration_set",
  "aws:sesv2/emailIdentity:EmailIdentity": "aws_sesv2_email_identity",
  "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes":
    "aws_sesv2_email_identity_mail_from_attributes",
  "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination":
    "aws_sesv2_configuration_set_event_destination",
  "aws:sns/topicPolicy:TopicPolicy": "aws_sns_topic_policy",
  "aws:sns/topicSubscription:TopicSubscription": "aws_sns_topic_subscription",
  "aws:iam/openIdConnectProvider:OpenIdConnectProvider": "aws_iam_openid_connect_provider",
  "aws:lambda/function:Function": "aws_lambda_function",
  "aws:lambda/eventSourceMapping:EventSourceMapping": "aws_lambda_event_source_mapping",
};

/** Each Pulumi child, by its name after the component's, ↔ its Terraform address. */
export const RESOURCE_PAIRS: Readonly<Record<string, string>> = {
  // infra-pulumi/queue-pair.ts ↔ infra-terraform/modules/queue-pair, called in queues.tf (no count)
  queue: "module.registrations.aws_sqs_queue.main",
  dlq: "module.registrations.aws_sqs_queue.dead_letter",
  redrive: "module.registrations.aws_sqs_queue_redrive_policy.main",
  "redrive-allow": "module.registrations.aws_sqs_queue_redrive_allow_policy.dead_letter",
  "queue-policy": "module.registrations.aws_sqs_queue_policy.main",
  "dlq-policy": "module.registrations.aws_sqs_queue_policy.dead_letter",
  // infra-pulumi/queue-access.ts ↔ infra-terraform/iam.tf
  producer: "aws_iam_policy.producer[0]",
  consumer: "aws_iam_policy.consumer[0]",
  operator: "aws_iam_policy.operator[0]",
  "producer-role": "module.producer_role[0].aws_iam_role.this",
  "consumer-role": "module.consumer_role[0].aws_iam_role.this",
  "operator-role": "module.operator_role[0].aws_iam_role.this",
  "producer-role-policy": "module.producer_role[0].aws_iam_role_policy_attachment.this",
  "consumer-role-policy": "module.consumer_role[0].aws_iam_role_policy_attachment.this",
  "operator-role-policy": "module.operator_role[0].aws_iam_role_policy_attachment.this",
  // infra-pulumi/sent-emails-table.ts ↔ infra-terraform/table.tf
  table: "aws_dynamodb_table.sent_emails[0]",
  // infra-pulumi/service/ ↔ infra-terraform/service*.tf
  repository: "aws_ecr_repository.consumer[0]",
  "repository-lifecycle": "aws_ecr_lifecycle_policy.consumer[0]",
  cluster: "aws_ecs_cluster.consumer[0]",
  logs: "aws_cloudwatch_log_group.consumer[0]",
  "task-role": "aws_iam_role.task[0]",
  "task-policy": "aws_iam_role_policy.task[0]",
  "execution-role": "aws_iam_role.execution[0]",
  "execution-policy": "aws_iam_role_policy.execution[0]",
  task: "aws_ecs_task_definition.consumer[0]",
  service: "aws_ecs_service.consumer[0]",
  "scaling-target": "aws_appautoscaling_target.consumer[0]",
  "backlog-scaling": "aws_appautoscaling_policy.backlog[0]",
  "wake-scaling": "aws_appautoscaling_policy.wake[0]",
  "wake-alarm": "aws_cloudwatch_metric_alarm.wake[0]",
  "alarm-topic": "aws_sns_topic.alarms[0]",
  "alarm-email": "aws_sns_topic_subscription.alarm_email[0]",
  "dlq-alarm": "aws_cloudwatch_metric_alarm.dead_letters[0]",
  "age-alarm": "aws_cloudwatch_metric_alarm.oldest_message[0]",
  "running-alarm": "aws_cloudwatch_metric_alarm.running_below_desired[0]",
  "paused-alarm": "aws_cloudwatch_metric_alarm.consumer_paused[0]",
  "failures-alarm": "aws_cloudwatch_metric_alarm.handler_failures[0]",
  // infra-pulumi/lambda/ ↔ infra-terraform/lambda*.tf (the topic, its email and the dead-letter
  // alarm are the consumer's, whatever it runs on: the pairs above)
  "function-logs": "aws_cloudwatch_log_group.function[0]",
  "function-role": "aws_iam_role.function[0]",
  "function-policy": "aws_iam_role_policy.function[0]",
  function: "aws_lambda_function.consumer[0]",
  "event-source": "aws_lambda_event_source_mapping.consumer[0]",
  "errors-alarm": "aws_cloudwatch_metric_alarm.function_errors[0]",
  "throttles-alarm": "aws_cloudwatch_metric_alarm.function_throttles[0]",
  "function-paused-alarm": "aws_cloudwatch_metric_alarm.function_paused[0]",
  // infra-pulumi/email.ts ↔ infra-terraform/email.tf
  "mail-configuration-set": "aws_sesv2_configuration_set.mail[0]",
  "mail-identity": "aws_sesv2_email_identity.mail[0]",
  "mail-mail-from": "aws_sesv2_email_identity_mail_from_attributes.mail[0]",
  "mail-topic": "aws_sns_topic.ses_events[0]",
  "mail-topic-policy": "aws_sns_topic_policy.ses_events[0]",
  "mail-event-destination": "aws_sesv2_configuration_set_event_destination.bounces[0]",
  "mail-subscription": "aws_sns_topic_subscription.bounces[0]",
  "mail-bounces-queue": "module.bounces[0].aws_sqs_queue.main",
  "mail-bounces-dlq": "module.bounces[0].aws_sqs_queue.dead_letter",
  "mail-bounces-redrive": "module.bounces[0].aws_sqs_queue_redrive_policy.main",
  "mail-bounces-redrive-allow": "module.bounces[0].aws_sqs_queue_redrive_allow_policy.dead_letter",
  "mail-bounces-queue-policy": "module.bounces[0].aws_sqs_queue_policy.main",
  "mail-bounces-dlq-policy": "module.bounces[0].aws_sqs_queue_policy.dead_letter",
  // infra-pulumi/pipeline.ts ↔ infra-terraform/pipeline.tf
  "github-oidc": "aws_iam_openid_connect_provider.github[0]",
  "ecr-push-role": "aws_iam_role.ecr_push[0]",
  "ecr-push-policy": "aws_iam_role_policy.ecr_push[0]",
  "plan-role": "aws_iam_role.plan[0]",
  "plan-policy": "aws_iam_role_policy.plan[0]",
  "deploy-role": "aws_iam_role.deploy[0]",
  "deploy-policy": "aws_iam_role_policy.deploy[0]",
};

/** A Terraform address without its instance key: `aws_iam_policy.producer[0]` → `aws_iam_policy.producer`. */
export function resourceAddress(address: string): string {
  return address.replace(/\[[^\]]*\]$/, "");
}

/**
 * The Terraform type and name of a pair, and its address without any instance key:
 * `{ type: "aws_sqs_queue", name: "main", address: "module.bounces.aws_sqs_queue.main" }`.
 */
export function terraformPart(suffix: string): { type: string; name: string; address: string } | undefined {
  const address = RESOURCE_PAIRS[suffix];
  if (!address) return undefined;
  const bare = address.replace(/\[[^\]]*\]/g, "");
  const [type = "", name = ""] = bare.split(".").slice(-2);
  return { type, name, address: bare };
}

/** The Pulumi suffix of a Terraform address (instance key `[0]` or none), if it is one of ours. */
export function pulumiSuffix(address: string): string | undefined {
  const wanted = resourceAddress(address);
  return Object.keys(RESOURCE_PAIRS).find(
    (suffix) => resourceAddress(RESOURCE_PAIRS[suffix] ?? "") === wanted,
  );
}
