/**
 * The program's configuration: read once from the stack config, checked in full before any
 * resource is declared. Every problem is one sentence naming the config key and the fix.
 */
import * as pulumi from "@pulumi/pulumi";
import { ADOPT_CONFIG_KEY, type Adoption, adoptionSchema } from "../src/config/adoption.js";
import { type QueueSettings, queueSettingsProblems } from "../src/config/queue-settings.js";
import {
  emailSettingsSchema,
  pipelineSettingsSchema,
  type Settings,
  settings,
} from "../src/config/settings.js";
import { type Row, settingsTable } from "../src/config/settings-table.js";
import { overlaySection } from "./config-overlay.js";
import { type FunctionConfig, readFunctionConfig } from "./lambda/config.js";
import type { PipelineConfig } from "./pipeline.js";
import { readServiceConfig, type ServiceConfig } from "./service/config.js";

export interface AssumeRoleConfig {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly externalId?: pulumi.Output<string>;
}

export interface InfraConfig {
  readonly region: string;
  readonly assumeRole?: AssumeRoleConfig;
  readonly defaultTags: Record<string, string>;
  /** SQS endpoint override (a local emulator); adds the provider's skip flags. */
  readonly endpoint?: string;
  readonly queue: QueueSettings;
  /** The sent-email table (settings `table`); absent when not created here. */
  readonly table?: Settings["table"];
  /** Email through SES (settings `email`); absent when `mailDomain` is empty (no SES resources). */
  readonly email?: Settings["email"];
  /** Customer-managed KMS key for encryption at rest; SQS-managed keys when absent. */
  readonly kmsKeyArn?: string;
  /** Create the producer and consumer IAM policies (an emulator has no IAM). */
  readonly createAccessPolicies: boolean;
  /** Principals allowed to assume a producer / consumer role; no role is made when empty. */
  readonly producerPrincipals: readonly string[];
  readonly consumerPrincipals: readonly string[];
  /** Principals allowed to assume the operator role (status, dlq); no role is made when empty. */
  readonly operatorPrincipals: readonly string[];
  /** The consumer fleet on ECS Fargate (settings `service`); absent unless `createService`. */
  readonly service?: ServiceConfig;
  /** The consumer as a Lambda function (settings `lambda`); absent unless `createFunction`. */
  readonly consumerFunction?: FunctionConfig;
  /** GitHub Actions' OIDC provider and roles (settings `pipeline`); absent without a repository. */
  readonly pipeline?: PipelineConfig;
  /** Resources that take over existing ones (`npm run infra:adopt`, docs/migration.md). */
  readonly adopt?: Adoption;
}

export class InfraConfigError extends Error {
  override readonly name = "InfraConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}`);
  }
}

/** What an email setting must be, for the one-sentence problems: the table's hint. */
function emailRule(name: string): string | undefined {
  const row = (settingsTable.email as Record<string, Row | undefined>)[name];
  return row?.hint ? `use ${row.hint}` : undefined;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const PRINCIPAL_ARN = /^arn:aws[a-z-]*:(iam|sts)::\d{12}:[\w+=,.@/:-]+$/;
const KMS_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[\w/-]+$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/**
 * Reads the stack config. Each shared setting is a config key of the same name (declared in
 * Pulumi.yaml without a value); when a stack does not set it, `defaults` (the data file) decides.
 */
export function readInfraConfig(config = new pulumi.Config(), defaults: Settings = settings): InfraConfig {
  const problems: string[] = [];
  const key = (name: string) => `${config.name}:${name}`;

  const region = config.get("region") ?? defaults.stack.region;
  if (!REGION.test(region))
    problems.push(`${key("region")} "${region}" is not an AWS region (e.g. eu-west-1).`);

  let assumeRole: AssumeRoleConfig | undefined;
  const roleArn = config.get("assumeRoleArn");
  const sessionName = config.get("assumeRoleSessionName") ?? defaults.stack.assumeRoleSessionName;
  if (roleArn !== undefined) {
    if (!ROLE_ARN.test(roleArn)) {
      problems.push(
        `${key("assumeRoleArn")} "${roleArn}" is not an IAM role ARN: use arn:aws:iam::<12-digit account>:role/<name>.`,
      );
    }
    if (!SESSION_NAME.test(sessionName)) {
      problems.push(
        `${key("assumeRoleSessionName")} "${sessionName}" must be 2–64 characters of letters, digits and +=,.@_-.`,
      );
    }
    const externalId = config.getSecret("assumeRoleExternalId");
    assumeRole = { roleArn, sessionName, ...(externalId ? { externalId } : {}) };
  } else if (config.get("assumeRoleExternalId") !== undefined) {
    problems.push(
      `${key("assumeRoleExternalId")} is set without ${key("assumeRoleArn")}: set the role too, or remove it.`,
    );
  }

  const tags = config.getObject<Record<string, unknown>>("defaultTags") ?? {};
  const defaultTags: Record<string, string> = { project: "sqs-messaging", "managed-by": "pulumi" };
  for (const [name, value] of Object.entries(tags)) {
    if (typeof value !== "string") problems.push(`${key("defaultTags")}.${name} must be a string.`);
    else defaultTags[name] = value;
  }

  const endpoint = config.get("endpoint");
  if (endpoint !== undefined && !URL.canParse(endpoint)) {
    problems.push(`${key("endpoint")} "${endpoint}" is not a URL (e.g. http://127.0.0.1:4566).`);
  }

  const queue: QueueSettings = overlaySection(config, defaults.queues, problems).value;
  problems.push(...queueSettingsProblems(queue).map((p) => `${config.name}:${p}`));

  const kmsKeyArn = config.get("kmsKeyArn");
  if (kmsKeyArn !== undefined && !KMS_ARN.test(kmsKeyArn)) {
    problems.push(`${key("kmsKeyArn")} "${kmsKeyArn}" is not a KMS key or alias ARN.`);
  }

  const principals = (name: string): string[] => {
    const list = config.getObject<unknown[]>(name) ?? [];
    return list.filter((arn, i): arn is string => {
      const ok = typeof arn === "string" && PRINCIPAL_ARN.test(arn);
      if (!ok) problems.push(`${key(name)}[${i}] ${JSON.stringify(arn)} is not an IAM principal ARN.`);
      return ok;
    });
  };
  const producerPrincipals = principals("producerPrincipals");
  const consumerPrincipals = principals("consumerPrincipals");
  const operatorPrincipals = principals("operatorPrincipals");
  const createAccessPolicies =
    config.getBoolean("createAccessPolicies") ?? defaults.stack.createAccessPolicies;
  if (
    !createAccessPolicies &&
    producerPrincipals.length + consumerPrincipals.length + operatorPrincipals.length > 0
  ) {
    problems.push(
      `${key("producerPrincipals")} / ${key("consumerPrincipals")} / ${key("operatorPrincipals")} need the access policies: remove them or set ${key("createAccessPolicies")} to true.`,
    );
  }

  const tableSettings = overlaySection(config, defaults.table, problems).value;
  if (!/^[\w.-]{3,255}$/.test(tableSettings.sentEmailsTableName)) {
    problems.push(
      `${key("sentEmailsTableName")} "${tableSettings.sentEmailsTableName}" must be 3–255 characters of letters, digits, _, - and . (DynamoDB rule).`,
    );
  }

  const { value: emailInput, overrides: emailOverrides } = overlaySection(config, defaults.email, problems);
  const emailParsed = emailSettingsSchema.safeParse(emailInput);
  if (!emailParsed.success) {
    for (const issue of emailParsed.error.issues) {
      problems.push(
        `${key(String(issue.path[0]))} ${JSON.stringify((emailOverrides as Record<string, unknown>)[String(issue.path[0])] ?? (defaults.email as Record<string, unknown>)[String(issue.path[0])])} is not valid: ${emailRule(String(issue.path[0])) ?? issue.message}.`,
      );
    }
  }
  const email = emailParsed.success && emailParsed.data.mailDomain !== "" ? emailParsed.data : undefined;

  const serviceSettings = overlaySection(config, defaults.service, []).value;
  const lambdaSettings = overlaySection(config, defaults.lambda, []).value;
  const bothComputes = serviceSettings.createService && lambdaSettings.createFunction;
  if (bothComputes) {
    problems.push(
      `${key("createService")} and ${key("createFunction")} are both true: a stack runs one consumer compute (Fargate or Lambda, docs/infrastructure.md); set one of them to false.`,
    );
  }
  const mailSending = emailParsed.success ? emailParsed.data : defaults.email;
  const mailDomain = emailParsed.success ? emailParsed.data.mailDomain : "";
  const consumerFunction = bothComputes
    ? undefined
    : readFunctionConfig(
        config,
        defaults.lambda,
        {
          endpoint,
          hasTable: tableSettings.createSentEmailsTable,
          fifo: queue.fifo,
          visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
          mailSending,
          mailDomain,
          service: serviceSettings,
        },
        problems,
      );
  const service = readServiceConfig(
    config,
    defaults.service,
    {
      functionOn: lambdaSettings.createFunction,
      region,
      endpoint,
      hasTable: tableSettings.createSentEmailsTable,
      // The fleet's size and each task's send cap come from the mail quota (settings `email`).
      mailSending: emailParsed.success ? emailParsed.data : defaults.email,
      // With the mail part on, an ses fleet sends through it and consumes its bounces.
      mailDomain: emailParsed.success ? emailParsed.data.mailDomain : "",
    },
    problems,
  );
  const pipelineInput = overlaySection(config, defaults.pipeline, problems).value;
  const pipelineParsed = pipelineSettingsSchema.safeParse(pipelineInput);
  if (!pipelineParsed.success) {
    for (const issue of pipelineParsed.error.issues) {
      problems.push(`${key(String(issue.path[0]))}: ${String(issue.path[0])} ${issue.message}.`);
    }
  }
  const pipelineSettings = pipelineParsed.success ? pipelineParsed.data : undefined;

  let adopt: Adoption | undefined;
  try {
    const raw = config.getObject<unknown>(ADOPT_CONFIG_KEY);
    if (raw !== undefined) {
      const parsed = adoptionSchema.safeParse(raw);
      if (parsed.success) adopt = parsed.data;
      else
        problems.push(
          `${key(ADOPT_CONFIG_KEY)} is not an adoption map (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}): write it with \`npm run infra:adopt\`, or remove it (docs/migration.md).`,
        );
    }
  } catch (error) {
    problems.push(`${key(ADOPT_CONFIG_KEY)}: ${(error as Error).message.split("\n")[0]}`);
  }

  if (problems.length > 0) throw new InfraConfigError(problems);
  return {
    region,
    ...(assumeRole ? { assumeRole } : {}),
    defaultTags,
    ...(endpoint ? { endpoint } : {}),
    queue,
    ...(tableSettings.createSentEmailsTable ? { table: tableSettings } : {}),
    ...(email ? { email } : {}),
    ...(kmsKeyArn ? { kmsKeyArn } : {}),
    createAccessPolicies,
    producerPrincipals,
    consumerPrincipals,
    operatorPrincipals,
    ...(service ? { service } : {}),
    ...(consumerFunction ? { consumerFunction } : {}),
    ...(pipelineSettings?.githubRepository
      ? {
          pipeline: {
            ...pipelineSettings,
            githubRepository: pipelineSettings.githubRepository,
            // The service's repository, whether this stack runs the service or not.
            repositoryName: config.get("repositoryName") ?? defaults.service.repositoryName,
          },
        }
      : {}),
    ...(adopt ? { adopt } : {}),
  };
}
