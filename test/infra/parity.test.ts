/**
 * Terraform and Pulumi declare the same infrastructure, asked of each tool: the same set of
 * resources, the same known values (queue attributes, policy documents as JSON, region, endpoint,
 * default tags), and the same wiring (which resource's ARN or URL each argument uses) — under
 * several configurations, in one `terraform plan`. The comparison is not blind: one changed value
 * on either side makes it fail. And one value changed in the data file reaches the local stack,
 * the Pulumi program and the Terraform plan together.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { functionSendRate, minimumFunctionTimeoutSeconds } from "../../src/config/derived.js";
import { projectRoot } from "../../src/config/paths.js";
import { parseSettings, SETTINGS_FILE, type Settings, settings } from "../../src/config/settings.js";
import { startLocalStack } from "../../src/local/stack.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { localOnlyOutputNames, stackOutputNames, toSnakeCase } from "../../src/stack/outputs.js";
import { writePlaceholderBundle } from "../support/lambda-bundle.js";
import {
  differences,
  type Model,
  offlineProvider,
  type Plan,
  type PlanCase,
  type PulumiRun,
  planAll,
  pulumiModel,
  terraformModel,
} from "../support/parity.js";
import { ACCOUNT, installMocks } from "../support/pulumi-mocks.js";
import {
  fleetWithMailConfig,
  lambdaConfig,
  prodLikeConfig,
  smtpScaleToZeroConfig,
} from "../support/service-config.js";
import { pluginMirror, terraform } from "../support/terraform.js";

const resources = installMocks({});

/** Never contacted (-refresh=false); it turns on the skip flags and dummy keys of both programs. */
const endpoint = "http://127.0.0.1:4566";

// An assumed role cannot be planned offline (the provider calls STS while it configures), so
// every configuration here has the endpoint; test/infra/pulumi-program.test.ts covers the role.
const scenarios: Record<string, Record<string, unknown>> = {
  defaults: { endpoint },
  "an account with roles and tags": {
    endpoint,
    region: "eu-west-1",
    defaultTags: { team: "growth" },
    producerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/api`],
    consumerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/worker`],
    operatorPrincipals: [`arn:aws:iam::${ACCOUNT}:role/on-call`],
  },
  "FIFO with a KMS key": {
    endpoint,
    fifo: true,
    contentBasedDeduplication: true,
    deduplicationScope: "messageGroup",
    queueName: "signups.fifo",
    deadLetterQueueName: "signups-dlq.fifo",
    kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
    maxReceiveCount: 9,
    visibilityTimeoutSeconds: 120,
    kmsDataKeyReusePeriodSeconds: 600,
  },
  "SES email with a KMS key": {
    endpoint,
    mailDomain: "mail.example.com",
    configurationSetName: "welcome",
    bounceQueueName: "welcome-ses-events",
    consumerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/worker`],
    kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
  },
  "pipeline roles from GitHub Actions": {
    endpoint,
    githubRepository: "octo-org/sqs-messaging",
    stateBucketName: "octo-org-pulumi-state",
    secretsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/0b0b0b0b-12ab-34cd-56ef-1234567890ab`,
    deployEnvironment: "production",
  },
  "local emulator": {
    endpoint,
    createAccessPolicies: false,
    createSentEmailsTable: false,
    queueName: "user-registrations-terraform",
    deadLetterQueueName: "user-registrations-terraform-dlq",
    defaultTags: { environment: "local" },
  },
};

/**
 * The consumer fleet has no emulator: these stacks have no endpoint, and plan offline
 * through an override file with dummy keys and the skip flags (offlineProvider).
 */
const serviceScenarios: Record<string, Record<string, unknown>> = {
  "a production fleet (ses, alarms by email)": prodLikeConfig,
  "a scale-to-zero fleet (smtp, public IP)": smtpScaleToZeroConfig,
  "a production fleet with the stack's mail part (ses)": fleetWithMailConfig,
};
const fleetWithMail = "a production fleet with the stack's mail part (ses)";

/**
 * The consumer on Lambda (no emulator either): alone with an SES identity from elsewhere, and with
 * the stack's mail part, a KMS key, one sender (Lambda's floor of 2 invocations then halves each
 * one's rate) and the function timeout at exactly the shortest src/config/derived.ts allows, so
 * that a Terraform formula stricter than derived.ts fails the plan.
 */
const bundle = await writePlaceholderBundle();
const lambdaMail = { accountSendRatePerSecond: 14, maxConsumerTasks: 1 };
const lambdaMinimumTimeout = minimumFunctionTimeoutSeconds({
  batchSize: 10,
  sendRatePerSecond: functionSendRate(lambdaMail),
});
const lambdaScenarios: Record<string, Record<string, unknown>> = {
  "the consumer on Lambda (ses, alarms by email)": lambdaConfig(bundle),
  "the consumer on Lambda with the stack's mail part, a KMS key and one sender": Object.fromEntries(
    Object.entries({
      ...lambdaConfig(bundle),
      mailDomain: "example.com",
      kmsKeyArn: `arn:aws:kms:eu-west-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`,
      ...lambdaMail,
      functionBatchSize: 10,
      functionTimeoutSeconds: lambdaMinimumTimeout,
      visibilityTimeoutSeconds: 6 * lambdaMinimumTimeout,
    }).filter(([key]) => key !== "serviceSesIdentityArn"),
  ),
};
const lambdaMutated = "the consumer on Lambda with the stack's mail part, a KMS key and one sender";
const serviceMutated = "a production fleet (ses, alarms by email)";

/**
 * The pipeline roles with the account's existing GitHub provider: every trust policy is a known value in the
 * plan, so the documents (subjects, audience, provider) are compared as data, not only wired.
 */
const existingProvider = {
  ...scenarios["pipeline roles from GitHub Actions"],
  githubOidcProviderArn: `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
};

/** Replaces `from` by `to` in one file of a module copy; fails if `from` is not there. */
const replace = (file: string, from: string, to: string) => (dir: string) => {
  const text = readFileSync(join(dir, file), "utf8");
  if (!text.includes(from)) throw new Error(`${file} no longer contains ${from}: update this mutation`);
  writeFileSync(join(dir, file), text.replace(from, to));
};

/**
 * Edits of infra-terraform/, each of one value and each showing as its own difference. Each plan
 * of a module copy costs a provider process (~6 s of CPU), so they share one copy, planned with
 * `mutatedScenario`'s variables; every edit must still be found on its own.
 */
const mutatedScenario = "an account with roles and tags";
const terraformMutations: { what: string; edit: (dir: string) => void; expected: string }[] = [
  {
    what: "a value in its copy of the data file (deadLetterRetentionSeconds)",
    edit: replace(
      "settings.json",
      '"deadLetterRetentionSeconds": 1209600',
      '"deadLetterRetentionSeconds": 1209000',
    ),
    expected: "aws_sqs_queue.dead_letter.message_retention_seconds: Pulumi 1209600 ≠ Terraform 1209000",
  },
  {
    what: "a queue argument (the dead-letter visibility timeout)",
    edit: replace(
      "modules/queue-pair/main.tf",
      "visibility_timeout_seconds        = var.settings.visibilityTimeoutSeconds",
      "visibility_timeout_seconds        = 61",
    ),
    expected: "aws_sqs_queue.dead_letter.visibility_timeout_seconds: Pulumi 60 ≠ Terraform 61",
  },
  {
    what: "an IAM action",
    edit: replace("iam.tf", '"sqs:SendMessage"]', '"sqs:SendMessage", "sqs:PurgeQueue"]'),
    expected: "aws_iam_policy.producer.policy: Pulumi",
  },
  {
    what: "the TLS condition of a queue policy",
    edit: replace(
      "modules/queue-pair/main.tf",
      '"aws:SecureTransport" = "false"',
      '"aws:SecureTransport" = "true"',
    ),
    expected: "aws_sqs_queue_policy.main.policy: Pulumi",
  },
  {
    what: "the redrive target (the main queue instead of the dead-letter queue)",
    edit: replace(
      "modules/queue-pair/main.tf",
      "deadLetterTargetArn = aws_sqs_queue.dead_letter.arn",
      "deadLetterTargetArn = aws_sqs_queue.main.arn",
    ),
    expected:
      "module.registrations.aws_sqs_queue_redrive_policy.main.redrive_policy refers to: Pulumi [module.registrations.aws_sqs_queue.dead_letter.arn] ≠ Terraform [module.registrations.aws_sqs_queue.main.arn]",
  },
  {
    what: "a resource removed (the roles' policy attachment)",
    edit: replace(
      "modules/access-role/main.tf",
      'resource "aws_iam_role_policy_attachment" "this" {',
      'resource "aws_iam_role_policy_attachment" "this" {\n  count = 0',
    ),
    expected: "module.consumer_role.aws_iam_role_policy_attachment.this: declared by Pulumi only",
  },
  {
    what: "the table's deletion protection",
    edit: replace(
      "table.tf",
      "deletion_protection_enabled = local.table.deletionProtection",
      "deletion_protection_enabled = false",
    ),
    expected: "aws_dynamodb_table.sent_emails.deletion_protection_enabled: Pulumi true ≠ Terraform false",
  },
  {
    what: "a table action in the consumer policy",
    edit: replace(
      "iam.tf",
      '"dynamodb:DeleteItem", "dynamodb:GetItem"',
      '"dynamodb:Scan", "dynamodb:GetItem"',
    ),
    expected: "aws_iam_policy.consumer.policy: Pulumi",
  },
];

/** Edits of the fleet's files, each showing as its own difference (one shared copy). */
const serviceMutations: { what: string; edit: (dir: string) => void; expected: string }[] = [
  {
    what: "the container's stop timeout",
    edit: replace(
      "service.tf",
      "stopTimeout            = local.service.stopTimeoutSeconds",
      "stopTimeout = 30",
    ),
    expected: "aws_ecs_task_definition.consumer.container_definitions: Pulumi",
  },
  {
    what: "the backlog metric math",
    edit: replace("service_autoscaling.tf", 'expression  = "m1 / m2"', 'expression  = "m1 / (m2 + 1)"'),
    expected: "aws_appautoscaling_policy.backlog.target_tracking_scaling_policy_configuration: Pulumi",
  },
  {
    what: "a mail action in the task role",
    edit: replace(
      "service_iam.tf",
      'Action   = ["ses:SendEmail"]',
      'Action   = ["ses:SendEmail", "ses:SendRawEmail"]',
    ),
    expected: "aws_iam_role_policy.task.policy: Pulumi",
  },
  {
    what: "the circuit breaker's rollback",
    edit: replace("service.tf", "rollback = true", "rollback = false"),
    expected: "aws_ecs_service.consumer.deployment_circuit_breaker: Pulumi",
  },
  {
    what: "a deployment alarm left out (the handler failures)",
    edit: replace(
      "service.tf",
      "alarm_names = [aws_cloudwatch_metric_alarm.dead_letters[0].alarm_name, aws_cloudwatch_metric_alarm.handler_failures[0].alarm_name]",
      "alarm_names = [aws_cloudwatch_metric_alarm.dead_letters[0].alarm_name]",
    ),
    expected:
      'aws_ecs_service.consumer.alarms: Pulumi [{"alarm_names":["registrations-consumer-dead-letters","registrations-consumer-handler-failures"],"enable":true,"rollback":true}] ≠ Terraform [{"alarm_names":["registrations-consumer-dead-letters"],"enable":true,"rollback":true}]',
  },
  {
    what: "the failure share's threshold",
    edit: replace("service_alarms.tf", "threshold           = 50", "threshold           = 40"),
    expected: "aws_cloudwatch_metric_alarm.handler_failures.threshold: Pulumi 50 ≠ Terraform 40",
  },
  {
    what: "the EMF metric the failure share reads",
    edit: replace(
      "service_alarms.tf",
      'metric_name = "MessagesFailed"',
      'metric_name = "MessagesDeadLettered"',
    ),
    expected: "aws_cloudwatch_metric_alarm.handler_failures.metric_query: Pulumi",
  },
  {
    what: "the oldest-message alarm's threshold",
    edit: replace(
      "service_alarms.tf",
      "threshold           = local.service.latencyGoalSeconds",
      "threshold           = 600",
    ),
    expected: "aws_cloudwatch_metric_alarm.oldest_message.threshold: Pulumi 120 ≠ Terraform 600",
  },
];

/** Edits of the function's files, each showing as its own difference (one shared copy). */
const lambdaMutations: { what: string; edit: (dir: string) => void; expected: string }[] = [
  {
    what: "the runtime",
    edit: replace("lambda.tf", 'runtime          = "nodejs22.x"', 'runtime          = "nodejs20.x"'),
    expected: 'aws_lambda_function.consumer.runtime: Pulumi "nodejs22.x" ≠ Terraform "nodejs20.x"',
  },
  {
    what: "the invocation's send rate (the per-task formula instead of the function's)",
    edit: replace(
      "lambda.tf",
      "MAIL_RATE_PER_SECOND               = tostring(local.function_send_rate)",
      "MAIL_RATE_PER_SECOND               = tostring(local.mail_rate_per_task)",
    ),
    expected: "aws_lambda_function.consumer.environment: Pulumi",
  },
  {
    what: "the maximum concurrency",
    edit: replace(
      "lambda.tf",
      "maximum_concurrency = local.function_concurrency",
      "maximum_concurrency = local.function_concurrency + 1",
    ),
    expected: "aws_lambda_event_source_mapping.consumer.scaling_config: Pulumi",
  },
  {
    what: "partial batch responses left out",
    edit: replace(
      "lambda.tf",
      'function_response_types = ["ReportBatchItemFailures"]',
      "function_response_types = []",
    ),
    expected: "aws_lambda_event_source_mapping.consumer.function_response_types: Pulumi",
  },
  {
    what: "the batch size",
    edit: replace(
      "lambda.tf",
      "batch_size                         = local.lambda.functionBatchSize",
      "batch_size                         = 5",
    ),
    expected: "aws_lambda_event_source_mapping.consumer.batch_size: Pulumi 10 ≠ Terraform 5",
  },
  {
    what: "a log action in the function's role",
    edit: replace(
      "lambda.tf",
      'Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]',
      'Action   = ["logs:PutLogEvents"]',
    ),
    expected: "aws_iam_role_policy.function.policy: Pulumi",
  },
  {
    what: "the metric of the errors alarm",
    edit: replace(
      "lambda_alarms.tf",
      'metric_name         = "Errors"',
      'metric_name         = "Invocations"',
    ),
    expected:
      'aws_cloudwatch_metric_alarm.function_errors.metric_name: Pulumi "Errors" ≠ Terraform "Invocations"',
  },
  {
    what: "the window of the paused alarm",
    edit: replace("lambda_alarms.tf", "evaluation_periods  = 15", "evaluation_periods  = 20"),
    expected: "aws_cloudwatch_metric_alarm.function_paused.evaluation_periods: Pulumi 15 ≠ Terraform 20",
  },
];

/** Edits of email.tf and the SES statements, planned in one more copy with the SES scenario. */
const sesScenario = "SES email with a KMS key";
const sesMutations: { what: string; edit: (dir: string) => void; expected: string }[] = [
  {
    what: "the event types sent to the topic",
    edit: replace(
      "email.tf",
      'matching_event_types = ["BOUNCE", "COMPLAINT"]',
      'matching_event_types = ["BOUNCE"]',
    ),
    expected: "aws_sesv2_configuration_set_event_destination.bounces.event_destination: Pulumi",
  },
  {
    what: "the source the bounce queue admits (the configuration set instead of the topic)",
    edit: replace(
      "email.tf",
      'Condition = { ArnEquals = { "aws:SourceArn" = aws_sns_topic.ses_events[0].arn } }',
      'Condition = { ArnEquals = { "aws:SourceArn" = aws_sesv2_configuration_set.mail[0].arn } }',
    ),
    expected: "module.bounces.aws_sqs_queue_policy.main.policy: Pulumi",
  },
  {
    what: "raw delivery of the subscription",
    edit: replace("email.tf", "raw_message_delivery = false", "raw_message_delivery = true"),
    expected: "aws_sns_topic_subscription.bounces.raw_message_delivery: Pulumi false ≠ Terraform true",
  },
  {
    what: "an SES action in the consumer policy",
    edit: replace(
      "iam.tf",
      '["ses:SendEmail", "ses:SendRawEmail"]',
      '["ses:SendEmail", "ses:SendBulkEmail"]',
    ),
    expected: "aws_iam_policy.consumer.policy: Pulumi",
  },
];

/** One config override each on the Pulumi side, compared with the unchanged Terraform plan. */
const pulumiMutations: [string, Record<string, unknown>, string][] = [
  ["the redrive count", { maxReceiveCount: 4 }, "aws_sqs_queue_redrive_policy.main.redrive_policy"],
  ["the retention", { messageRetentionSeconds: 3600 }, "aws_sqs_queue.main.message_retention_seconds"],
  [
    "the encryption",
    { kmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:alias/other` },
    "aws_sqs_queue.main.kms_master_key_id",
  ],
  ["the region", { region: "sa-east-1" }, "provider region"],
  [
    "point-in-time recovery on the table",
    { pointInTimeRecovery: false },
    "aws_dynamodb_table.sent_emails.point_in_time_recovery",
  ],
  ["the access policies (a resource set)", { createAccessPolicies: false }, "declared by Terraform only"],
];

/** The data file with one value changed, as a test's copy would hold it. */
const editedSettings: Settings = parseSettings(
  {
    ...settings,
    queues: { ...settings.queues, visibilityTimeoutSeconds: settings.queues.visibilityTimeoutSeconds + 15 },
  },
  "an edited copy",
);

let run = 0;
const pulumiRuns: Record<string, PulumiRun> = {};
let plan: Plan;

describe("Pulumi.yaml", () => {
  const project = parseYaml(readFileSync(join(projectRoot, "Pulumi.yaml"), "utf8"));
  const types = { string: "string", number: "integer", boolean: "boolean" } as const;

  it("declares every setting of the data file as a config key of its type, without a value", () => {
    for (const section of Object.values(settings)) {
      for (const [key, value] of Object.entries(section)) {
        const declared = project.config[key];
        expect(declared, `Pulumi.yaml declares ${key} (${SETTINGS_FILE})`).toBeDefined();
        // A null default is a text setting that is off until set (pipeline.githubRepository…).
        expect(declared.type, key).toBe(
          value === null ? "string" : types[typeof value as keyof typeof types],
        );
        expect(declared, `${key}: the value lives in ${SETTINGS_FILE}`).not.toHaveProperty("default");
      }
    }
  });

  it("has no key twice across the data file's sections (config keys are flat)", () => {
    const keys = Object.values(settings).flatMap((section) => Object.keys(section));
    expect(keys.length).toBe(new Set(keys).size);
  });
});

describe.skipIf(!terraform)("Terraform ↔ Pulumi parity, through terraform plan", () => {
  beforeAll(async () => {
    const cases: Record<string, PlanCase> = {};
    for (const [name, config] of Object.entries(scenarios)) {
      pulumiRuns[name] = await pulumiModel(config, resources, `parity${run++}`);
      cases[name] = { config, queues: pulumiRuns[name].queues };
    }
    cases.mutated = {
      config: scenarios[mutatedScenario] ?? {},
      queues: pulumiRuns[mutatedScenario]?.queues ?? {},
      edit: (dir) => {
        for (const mutation of terraformMutations) mutation.edit(dir);
      },
    };
    for (const [name, config] of Object.entries(serviceScenarios)) {
      pulumiRuns[name] = await pulumiModel(config, resources, `parity${run++}`);
      cases[name] = { config, queues: pulumiRuns[name].queues, module: "offline", edit: offlineProvider };
    }
    cases.serviceMutated = {
      config: serviceScenarios[serviceMutated] ?? {},
      queues: pulumiRuns[serviceMutated]?.queues ?? {},
      edit: (dir) => {
        offlineProvider(dir);
        for (const mutation of serviceMutations) mutation.edit(dir);
      },
    };
    for (const [name, config] of Object.entries(lambdaScenarios)) {
      pulumiRuns[name] = await pulumiModel(config, resources, `parity${run++}`);
      cases[name] = { config, queues: pulumiRuns[name].queues, module: "offline", edit: offlineProvider };
    }
    cases.lambdaMutated = {
      config: lambdaScenarios[lambdaMutated] ?? {},
      queues: pulumiRuns[lambdaMutated]?.queues ?? {},
      edit: (dir) => {
        offlineProvider(dir);
        for (const mutation of lambdaMutations) mutation.edit(dir);
      },
    };
    cases["mutated SES"] = {
      config: scenarios[sesScenario] ?? {},
      queues: pulumiRuns[sesScenario]?.queues ?? {},
      edit: (dir) => {
        for (const mutation of sesMutations) mutation.edit(dir);
      },
    };
    pulumiRuns.existingProvider = await pulumiModel(existingProvider, resources, `existing${run++}`);
    cases.existingProvider = { config: existingProvider, queues: pulumiRuns.existingProvider.queues };
    pulumiRuns.edited = await pulumiModel({ endpoint }, resources, `edited${run++}`, editedSettings);
    cases.edited = {
      config: { endpoint },
      queues: pulumiRuns.edited.queues,
      edit: (dir) => writeFileSync(join(dir, "settings.json"), JSON.stringify(editedSettings, null, 2)),
    };
    plan = await planAll(cases, { terraformVersion: terraform ?? "", pluginMirror });
    const { init, plan: planning, show } = plan.seconds;
    console.info(
      `terraform: ${Object.keys(cases).length} configurations in one plan: init ${init.toFixed(1)} s (0 = cached), plan ${planning.toFixed(1)} s, show -json ${show.toFixed(1)} s`,
    );
  }, 300_000);

  const pulumiSide = (name: string): Model => {
    const found = pulumiRuns[name];
    if (!found) throw new Error(`no Pulumi run ${name}`);
    return found.model;
  };

  it.each(Object.keys(scenarios))("agree on resources, values and references: %s", (name) => {
    const terraformSide = terraformModel(plan, name);
    expect(differences(pulumiSide(name), terraformSide)).toEqual([]);
    // Not vacuous: the documents are known values here, not unknowns skipped.
    const redrive =
      terraformSide.resources["module.registrations.aws_sqs_queue_redrive_policy.main"]?.values
        .redrive_policy;
    expect(redrive).toMatchObject({
      maxReceiveCount: scenarios[name]?.maxReceiveCount ?? settings.queues.maxReceiveCount,
    });
    expect(
      terraformSide.resources["module.registrations.aws_sqs_queue_policy.main"]?.references.queue_url,
    ).toEqual(["module.registrations.aws_sqs_queue.main.url"]);
    // The state holds the queues where stacks applied before modules/queue-pair have them: the
    // `moved` blocks move them into the module, never replace them.
    const call = plan.calls[name];
    const moved = (
      plan.json.resource_changes as {
        address: string;
        previous_address?: string;
        change: { actions: string[] };
      }[]
    ).find((c) => c.address === `module.${call}.module.registrations.aws_sqs_queue.main`);
    expect(moved?.previous_address).toBe(`module.${call}.aws_sqs_queue.main`);
    expect(moved?.change.actions).not.toContain("create");
  });

  it.each(Object.keys(serviceScenarios))("agree on the consumer fleet too: %s", (name) => {
    const terraformSide = terraformModel(plan, name);
    expect(differences(pulumiSide(name), terraformSide)).toEqual([]);
    // Not vacuous: the fleet is there on both sides, with known values where the plan has them.
    const fleet = Object.keys(terraformSide.resources).filter((a) =>
      /aws_(ecs|ecr|appautoscaling|sns)_/.test(a),
    );
    expect(fleet.length).toBeGreaterThanOrEqual(8);
    const task = terraformSide.resources["aws_ecs_task_definition.consumer"]?.values.container_definitions;
    expect(task).toEqual([expect.objectContaining({ stopTimeout: settings.service.stopTimeoutSeconds })]);
    expect(terraformSide.resources["aws_ecs_service.consumer"]?.references.task_definition).toEqual([
      "aws_ecs_task_definition.consumer.arn",
    ]);
    // The deployment alarms are compared too (a dynamic block, read from the plan).
    expect(terraformSide.resources["aws_ecs_service.consumer"]?.values.alarms).toEqual([
      {
        alarm_names: [
          `${settings.service.serviceName}-dead-letters`,
          `${settings.service.serviceName}-handler-failures`,
        ],
        enable: true,
        rollback: true,
      },
    ]);
  });

  it.each(Object.keys(lambdaScenarios))("agree on the consumer function too: %s", (name) => {
    const terraformSide = terraformModel(plan, name);
    expect(differences(pulumiSide(name), terraformSide)).toEqual([]);
    // Not vacuous: the function, its mapping and its alarms are there, with known values.
    const fn = terraformSide.resources["aws_lambda_function.consumer"];
    expect(fn?.values).toMatchObject({ runtime: "nodejs22.x", architectures: ["arm64"] });
    expect(fn?.values.source_code_hash).toBe(
      pulumiSide(name).resources["aws_lambda_function.consumer"]?.values.source_code_hash,
    );
    expect(fn?.references.role).toEqual(["aws_iam_role.function.arn"]);
    const mapping = terraformSide.resources["aws_lambda_event_source_mapping.consumer"];
    expect(mapping?.values.function_response_types).toEqual(["ReportBatchItemFailures"]);
    expect(mapping?.references.event_source_arn).toEqual(["module.registrations.aws_sqs_queue.main.arn"]);
    expect(mapping?.references.function_name).toEqual(["aws_lambda_function.consumer.arn"]);
    for (const alarm of ["function_errors", "function_throttles", "function_paused", "dead_letters"]) {
      expect(terraformSide.resources[`aws_cloudwatch_metric_alarm.${alarm}`], alarm).toBeDefined();
    }
    expect(
      Object.keys(terraformSide.resources).filter((a) => /aws_(ecs|ecr|appautoscaling)_/.test(a)),
    ).toEqual([]);
  });

  it("plans the function at exactly the shortest timeout derived.ts allows, with the invocation's rate", () => {
    const terraformSide = terraformModel(plan, lambdaMutated);
    expect(terraformSide.resources["aws_lambda_function.consumer"]?.values.timeout).toBe(
      lambdaMinimumTimeout,
    );
    const [environment] = (terraformSide.resources["aws_lambda_function.consumer"]?.values.environment ??
      []) as { variables: Record<string, string> }[];
    // One sender: Lambda's floor of 2 invocations, each with half the quota.
    expect(environment?.variables.MAIL_RATE_PER_SECOND).toBe(String(lambdaMail.accountSendRatePerSecond / 2));
    expect(environment?.variables.SES_CONFIGURATION_SET).toBe(settings.email.configurationSetName);
    const [scaling] = (terraformSide.resources["aws_lambda_event_source_mapping.consumer"]?.values
      .scaling_config ?? []) as { maximum_concurrency: number }[];
    expect(scaling?.maximum_concurrency).toBe(2);
  });

  it("compares the fleet's mail wiring as known values: the task role's SES statements, its environment", () => {
    const terraformSide = terraformModel(plan, fleetWithMail);
    const policy = terraformSide.resources["aws_iam_role_policy.task"]?.values.policy as {
      Statement: { Sid: string; Resource: string[] }[];
    };
    expect(policy.Statement.find((st) => st.Sid === "SendWelcomeEmails")?.Resource).toEqual([
      `arn:aws:ses:eu-west-1:${ACCOUNT}:identity/example.com`,
      `arn:aws:ses:eu-west-1:${ACCOUNT}:configuration-set/${settings.email.configurationSetName}`,
    ]);
    expect(policy.Statement.map((st) => st.Sid)).toContain("DeadLetterSesEvents");
    const [container] = (terraformSide.resources["aws_ecs_task_definition.consumer"]?.values
      .container_definitions ?? []) as { environment: { name: string; value: string }[] }[];
    expect(container?.environment).toEqual(
      expect.arrayContaining([
        {
          name: "BOUNCE_QUEUE_URL",
          value: `https://sqs.eu-west-1.amazonaws.com/${ACCOUNT}/${settings.email.bounceQueueName}`,
        },
        { name: "SES_CONFIGURATION_SET", value: settings.email.configurationSetName },
      ]),
    );
  });

  it("compares the SES documents as known values: consumer, topic and bounce-queue policies", () => {
    const terraformSide = terraformModel(plan, "SES email with a KMS key");
    const consumer = terraformSide.resources["aws_iam_policy.consumer"]?.values.policy as {
      Statement: { Sid: string; Resource: string[] }[];
    };
    expect(consumer.Statement.find((s) => s.Sid === "SendWelcomeEmails")?.Resource).toEqual([
      `arn:aws:ses:us-east-1:${ACCOUNT}:identity/mail.example.com`,
      `arn:aws:ses:us-east-1:${ACCOUNT}:configuration-set/welcome`,
    ]);
    expect(
      JSON.stringify(terraformSide.resources["module.bounces.aws_sqs_queue_policy.main"]?.values.policy),
    ).toContain(`arn:aws:sns:us-east-1:${ACCOUNT}:welcome-events`);
    expect(
      JSON.stringify(terraformSide.resources["aws_sns_topic_policy.ses_events"]?.values.policy),
    ).toContain(`arn:aws:ses:us-east-1:${ACCOUNT}:configuration-set/welcome`);
    // The queue-only default declares nothing of SES.
    const defaults = Object.keys(terraformModel(plan, "defaults").resources);
    expect(defaults.filter((address) => /ses|sns|bounces/.test(address))).toEqual([]);
  });

  it("declares every setting as a variable that defaults to null, and the same outputs", () => {
    const module = plan.json.configuration.root_module.module_calls[plan.calls.defaults ?? ""].module;
    for (const section of Object.values(settings)) {
      for (const key of Object.keys(section)) {
        const variable = module.variables[toSnakeCase(key)];
        expect(variable, `variables.tf declares ${toSnakeCase(key)}`).toBeDefined();
        expect(
          variable.default ?? null,
          `${toSnakeCase(key)}: the value lives in ${SETTINGS_FILE}`,
        ).toBeNull();
        expect(variable.description, toSnakeCase(key)).toBeTruthy();
      }
    }
    const pulumiOutputs = [
      ...stackOutputNames.filter((name) => !localOnlyOutputNames.has(name)),
      "producerPolicyArn",
      "consumerPolicyArn",
      "producerRoleArn",
      "consumerRoleArn",
      "operatorPolicyArn",
      "operatorRoleArn",
      "mailDnsRecords",
      "ecrPushRoleArn",
      "infraPlanRoleArn",
      "infraDeployRoleArn",
    ];
    expect(Object.keys(module.outputs).sort()).toEqual(pulumiOutputs.map(toSnakeCase).sort());
    const source = readFileSync(join(projectRoot, "infra-pulumi", "index.ts"), "utf8");
    for (const name of pulumiOutputs) expect(source).toContain(`  ${name},`);
  });

  it("agree on the pipeline roles' trust with an existing OIDC provider, value for value", () => {
    const terraformSide = terraformModel(plan, "existingProvider");
    const trust = terraformSide.resources["aws_iam_role.deploy"]?.values.assume_role_policy;
    expect(JSON.stringify(trust)).toContain("repo:octo-org/sqs-messaging:environment:production");
    // Terraform's expression names the provider resource it would create (count 0 here), a branch
    // not taken, which terraformModel drops; Pulumi's value names none. So no difference at all.
    expect(differences(pulumiSide("existingProvider"), terraformSide)).toEqual([]);
    const references = terraformSide.resources["aws_iam_role.deploy"]?.references ?? {};
    expect(Object.values(references).flat()).not.toContain("aws_iam_openid_connect_provider.github.arn");
  });

  describe("fails when one value changes", () => {
    it.each(terraformMutations)("on the Terraform side: $what", ({ expected }) => {
      const found = differences(pulumiSide(mutatedScenario), terraformModel(plan, "mutated"));
      expect(found.join("\n")).toContain(expected);
    });

    it.each(serviceMutations)("on the Terraform side of the fleet: $what", ({ expected }) => {
      const found = differences(pulumiSide(serviceMutated), terraformModel(plan, "serviceMutated"));
      expect(found.join("\n")).toContain(expected);
    });

    it.each([
      [
        "the most consumer tasks (the autoscaling maximum)",
        { maxConsumerTasks: 7 },
        "aws_appautoscaling_target.consumer.max_capacity",
      ],
      [
        "scale-to-zero (a resource set)",
        { scaleToZero: true },
        "aws_appautoscaling_policy.wake: declared by Pulumi only",
      ],
    ])("on the Pulumi side of the fleet: %s", async (_, change, expected) => {
      const changed = await pulumiModel({ ...prodLikeConfig, ...change }, resources, `changed${run++}`);
      const found = differences(changed.model, terraformModel(plan, serviceMutated));
      expect(found.join("\n")).toContain(expected);
    });

    it.each(lambdaMutations)("on the Terraform side of the function: $what", ({ expected }) => {
      const found = differences(pulumiSide(lambdaMutated), terraformModel(plan, "lambdaMutated"));
      expect(found.join("\n")).toContain(expected);
    });

    it.each([
      ["the function's memory", { functionMemoryMib: 1024 }, "aws_lambda_function.consumer.memory_size"],
      [
        "the batching window",
        { functionBatchingWindowSeconds: 5 },
        "aws_lambda_event_source_mapping.consumer.maximum_batching_window_in_seconds",
      ],
      ["the alarms (a resource set)", { createAlarms: false }, "declared by Terraform only"],
    ])("on the Pulumi side of the function: %s", async (_, change, expected) => {
      const changed = await pulumiModel(
        { ...lambdaScenarios[lambdaMutated], ...change },
        resources,
        `changed${run++}`,
      );
      const found = differences(changed.model, terraformModel(plan, lambdaMutated));
      expect(found.join("\n")).toContain(expected);
    });

    it.each(sesMutations)("on the Terraform side, SES: $what", ({ expected }) => {
      const found = differences(pulumiSide(sesScenario), terraformModel(plan, "mutated SES"));
      expect(found.join("\n")).toContain(expected);
    });

    it.each(pulumiMutations)("on the Pulumi side: %s", async (_, change, expected) => {
      const changed = await pulumiModel({ endpoint, ...change }, resources, `changed${run++}`);
      const found = differences(changed.model, terraformModel(plan, "defaults"));
      expect(found.join("\n")).toContain(expected);
    });
  });

  it("carries a queue setting from the table to both programs: a FIFO pair's deduplicationScope", () => {
    const fifo = "FIFO with a KMS key";
    for (const queue of [
      "module.registrations.aws_sqs_queue.main",
      "module.registrations.aws_sqs_queue.dead_letter",
    ]) {
      expect(terraformModel(plan, fifo).resources[queue]?.values.deduplication_scope, queue).toBe(
        "messageGroup",
      );
      expect(pulumiSide(fifo).resources[queue]?.values.deduplication_scope, queue).toBe("messageGroup");
    }
    // A standard pair has none: SQS refuses the attribute there.
    expect(
      pulumiSide("defaults").resources["module.registrations.aws_sqs_queue.main"]?.values,
    ).not.toHaveProperty("deduplication_scope");
  });

  it("sees one value changed in the data file in the local stack, the Pulumi inputs and the Terraform plan", async () => {
    const wanted = editedSettings.queues.visibilityTimeoutSeconds;
    expect(wanted).not.toBe(settings.queues.visibilityTimeoutSeconds);

    const terraformSide = terraformModel(plan, "edited");
    for (const queue of [
      "module.registrations.aws_sqs_queue.main",
      "module.registrations.aws_sqs_queue.dead_letter",
    ]) {
      expect(terraformSide.resources[queue]?.values.visibility_timeout_seconds, queue).toBe(wanted);
      expect(pulumiSide("edited").resources[queue]?.values.visibility_timeout_seconds, queue).toBe(wanted);
    }
    expect(differences(pulumiSide("edited"), terraformSide)).toEqual([]);

    const stack = await startLocalStack({ port: 0, settings: editedSettings.queues });
    try {
      const client = createSqsClient(stack.outputs);
      for (const QueueUrl of [stack.outputs.queueUrl, stack.outputs.deadLetterQueueUrl]) {
        const { Attributes } = await client.send(
          new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["VisibilityTimeout"] }),
        );
        expect(Attributes?.VisibilityTimeout, QueueUrl).toBe(String(wanted));
      }
      client.destroy();
    } finally {
      await stack.stop();
    }
  });
});
