/**
 * The consumer service's configuration: the `service` section of the data file, each
 * key overridable by a config key of the same name, plus what only a stack can know (the image
 * digest, the network, the secrets). Checked in full with the rest of the stack's config; every
 * problem is one sentence naming the key and the fix.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../../src/config/settings.js";
import { overlaySection } from "../config-overlay.js";
import { fargateMemoryChoices, LOG_RETENTION_DAYS, maxTasks } from "./sizing.js";

export type ServiceSettings = Settings["service"];

/** The mail quota the fleet shares (settings `email`): its size and each task's cap derive from it. */
export type MailSending = Pick<Settings["email"], "accountSendRatePerSecond" | "maxConsumerTasks">;

export interface ServiceConfig extends ServiceSettings, MailSending {
  /** `<account>.dkr.ecr.<region>.amazonaws.com/<repositoryName>@sha256:<digest>`. */
  readonly image: string;
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** Secrets Manager secret or SSM parameter ARN holding REGISTRATION_DIGEST_KEY. */
  readonly digestKeySecretArn: string;
  /** … holding SMTP_URL (required with the smtp mailer). */
  readonly mailSecretArn?: string;
  /**
   * The SES identity the task may send as: required with the ses mailer when the stack has no mail
   * part of its own, refused when it has one (the task then sends as that part's identity).
   */
  readonly sesIdentityArn?: string;
  /** MAIL_FROM of the welcome emails. */
  readonly mailFrom: string;
  /** An address subscribed to the alarm topic (it must confirm the subscription). */
  readonly alarmEmail?: string;
}

/**
 * The config key of the consumer image (by digest): the one the app pipeline sets on each release
 * and docs/deploy.md tells a person to set (test/unit/deploy-keys.test.ts ties them to this name).
 */
export const IMAGE_KEY = "serviceImage";

/** The stack-only keys (no default in the data file), as declared in Pulumi.yaml. */
export const SERVICE_STACK_KEYS = [
  IMAGE_KEY,
  "serviceSubnetIds",
  "serviceSecurityGroupIds",
  "serviceDigestKeySecretArn",
  "serviceMailSecretArn",
  "serviceSesIdentityArn",
  "serviceMailFrom",
  "alarmEmail",
] as const;

const DIGEST = /@sha256:[a-f0-9]{64}$/;
const ECR_IMAGE =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\/([a-z0-9][a-z0-9._/-]*)@sha256:[a-f0-9]{64}$/;
const SECRET_ARN =
  /^arn:aws[a-z-]*:(secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+|ssm:[a-z0-9-]+:\d{12}:parameter\/[\w/.-]+)$/;
const SES_IDENTITY_ARN = /^arn:aws[a-z-]*:ses:[a-z0-9-]+:\d{12}:identity\/[\w.@+-]+$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export interface ServiceContext {
  readonly region: string;
  readonly endpoint?: string | undefined;
  readonly hasTable: boolean;
  readonly mailSending: MailSending;
  /** The stack's own mail part (settings `email.mailDomain`), "" when off. */
  readonly mailDomain: string;
  /** The consumer runs as a function instead (settings `lambda.createFunction`). */
  readonly functionOn?: boolean;
}

/**
 * Reads the service section; `undefined` when the service is off. Problems are pushed onto
 * `problems` (the caller throws them all at once).
 */
export function readServiceConfig(
  config: pulumi.Config,
  defaults: ServiceSettings,
  context: ServiceContext,
  problems: string[],
): ServiceConfig | undefined {
  const key = (name: string) => `${config.name}:${name}`;
  const s = overlaySection(config, defaults, problems).value;
  if (!s.createService) {
    // The function (infra-pulumi/lambda/) reads the consumer's keys itself, and refuses the rest.
    if (context.functionOn) return undefined;
    const stray = SERVICE_STACK_KEYS.filter((name) => config.get(name) !== undefined);
    if (stray.length > 0) {
      problems.push(
        `${stray.map(key).join(", ")} ${stray.length === 1 ? "is" : "are"} set but ${key("createService")} is false: set it to true, or remove ${stray.length === 1 ? "it" : "them"}.`,
      );
    }
    return undefined;
  }
  const before = problems.length;
  if (!(["smtp", "ses"] as string[]).includes(s.serviceMailer)) {
    problems.push(
      `${key("serviceMailer")} "${s.serviceMailer}" is refused for the service: ${(s.serviceMailer as string) === "outbox" ? "the outbox writes files nobody sends from a task; " : ""}use ses or smtp.`,
    );
  }
  for (const name of ["minTasks", "latencyGoalSeconds", "imagesToKeep"] as const) {
    if (!Number.isInteger(s[name]) || s[name] < 1)
      problems.push(`${key(name)} must be a whole number ≥ 1, got ${s[name]}.`);
  }
  if (context.endpoint !== undefined) {
    problems.push(
      `${key("createService")} is true on an emulator stack (${key("endpoint")} is set): the emulator has no ECS; turn one of them off.`,
    );
  }
  if (!context.hasTable) {
    problems.push(
      `${key("createService")} needs the shared sent-email table (${key("createSentEmailsTable")} true): a fleet with one SQLite file per task would send duplicate emails.`,
    );
  }

  const image = config.get(IMAGE_KEY);
  if (image === undefined) {
    problems.push(
      `${key(IMAGE_KEY)} is required with the service: <account>.dkr.ecr.${context.region}.amazonaws.com/${s.repositoryName}@sha256:<digest> (docker push prints the digest).`,
    );
  } else if (!DIGEST.test(image)) {
    problems.push(
      `${key(IMAGE_KEY)} "${image}" has no digest: a tag can be moved, a digest cannot; use <repository>@sha256:<digest> (docker push or \`aws ecr describe-images\` prints it).`,
    );
  } else {
    const match = ECR_IMAGE.exec(image);
    if (!match || match[2] !== context.region || match[4] !== s.repositoryName) {
      problems.push(
        `${key(IMAGE_KEY)} "${image}" is not in this stack's repository: the execution role pulls only from <account>.dkr.ecr.${context.region}.amazonaws.com/${s.repositoryName}.`,
      );
    }
  }

  const list = (name: string, pattern: RegExp, example: string): string[] => {
    const value = config.getObject<unknown[]>(name) ?? [];
    if (value.length === 0) problems.push(`${key(name)} is required with the service (e.g. ["${example}"]).`);
    return value.filter((item, i): item is string => {
      const ok = typeof item === "string" && pattern.test(item);
      if (!ok) problems.push(`${key(name)}[${i}] ${JSON.stringify(item)} is not like ${example}.`);
      return ok;
    });
  };
  const subnetIds = list("serviceSubnetIds", SUBNET, "subnet-0123456789abcdef0");
  const securityGroupIds = list("serviceSecurityGroupIds", SECURITY_GROUP, "sg-0123456789abcdef0");

  const consumerKeys = readConsumerKeys(config, s.serviceMailer, context.mailDomain, "the service", problems);
  const { digestKeySecretArn, mailSecretArn, sesIdentityArn, mailFrom, alarmEmail } = consumerKeys;

  if (!fargateMemoryChoices(s.taskCpu).includes(s.taskMemoryMib)) {
    const choices = fargateMemoryChoices(s.taskCpu);
    problems.push(
      choices.length === 0
        ? `${key("taskCpu")} ${s.taskCpu} is not a Fargate CPU size: 256, 512, 1024, 2048 or 4096.`
        : `${key("taskMemoryMib")} ${s.taskMemoryMib} does not go with ${s.taskCpu} CPU units on Fargate: ${choices.join(", ")}.`,
    );
  }
  if (!LOG_RETENTION_DAYS.includes(s.logRetentionDays)) {
    problems.push(
      `${key("logRetentionDays")} ${s.logRetentionDays} is not one of ${LOG_RETENTION_DAYS.join(", ")}.`,
    );
  }
  const { accountSendRatePerSecond, maxConsumerTasks } = context.mailSending;
  if (maxTasks(context.mailSending) < s.minTasks) {
    problems.push(
      `${key("maxConsumerTasks")} ${maxConsumerTasks} is fewer than ${key("minTasks")} ${s.minTasks}: raise the most tasks (each then sends less of the account's ${accountSendRatePerSecond}/s) or lower the minimum.`,
    );
  }
  if (s.stopTimeoutSeconds < 2 || s.stopTimeoutSeconds > 120) {
    problems.push(`${key("stopTimeoutSeconds")} ${s.stopTimeoutSeconds}: Fargate accepts 2 to 120.`);
  }
  if (problems.length > before || !image || !digestKeySecretArn || !mailFrom) return undefined;
  return {
    ...s,
    accountSendRatePerSecond,
    maxConsumerTasks,
    image,
    subnetIds,
    securityGroupIds,
    digestKeySecretArn,
    ...(mailSecretArn ? { mailSecretArn } : {}),
    ...(sesIdentityArn && s.serviceMailer === "ses" ? { sesIdentityArn } : {}),
    mailFrom,
    ...(alarmEmail ? { alarmEmail } : {}),
  };
}

/** The consumer's keys that either compute (tasks or function) needs: its secrets, mail and alarms. */
export interface ConsumerKeys {
  readonly digestKeySecretArn?: string | undefined;
  readonly mailSecretArn?: string | undefined;
  readonly sesIdentityArn?: string | undefined;
  readonly mailFrom?: string | undefined;
  readonly alarmEmail?: string | undefined;
}

/**
 * Reads and checks the consumer's stack keys (serviceDigestKeySecretArn, serviceMailSecretArn,
 * serviceSesIdentityArn, serviceMailFrom, alarmEmail) for `what` runs it. `secretsManagerOnly`:
 * the function reads its secrets itself, from Secrets Manager (ECS also resolves SSM parameters).
 */
export function readConsumerKeys(
  config: pulumi.Config,
  mailer: string,
  mailDomain: string,
  what: "the service" | "the function",
  problems: string[],
  secretsManagerOnly = false,
): ConsumerKeys {
  const key = (name: string) => `${config.name}:${name}`;
  const s = { serviceMailer: mailer };
  const context = { mailDomain };
  const secret = (name: string, required: string | undefined): string | undefined => {
    const value = config.get(name);
    if (value === undefined) {
      if (required) problems.push(`${key(name)} is required ${required}.`);
      return undefined;
    }
    if (!SECRET_ARN.test(value)) {
      problems.push(
        `${key(name)} "${value}" is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>) or an SSM parameter ARN.`,
      );
    }
    return value;
  };
  const digestKeySecretArn = secret(
    "serviceDigestKeySecretArn",
    `with ${what}: every ${what === "the service" ? "task" : "invocation"} must key digests with the same REGISTRATION_DIGEST_KEY (a key per task breaks idempotency)`,
  );
  const mailSecretArn = secret(
    "serviceMailSecretArn",
    s.serviceMailer === "smtp" ? "with serviceMailer smtp: the secret holding SMTP_URL" : undefined,
  );
  if (s.serviceMailer === "ses" && mailSecretArn !== undefined) {
    problems.push(
      `${key("serviceMailSecretArn")} is for the smtp mailer; ses uses the ${what === "the service" ? "task" : "function's"} role: remove it.`,
    );
  }
  const sesIdentityArn = config.get("serviceSesIdentityArn");
  if (s.serviceMailer !== "smtp" && context.mailDomain !== "") {
    // One identity, one source: the mail part's ARN is only known once it exists, so a second,
    // hand-written one could only repeat it or contradict it.
    if (sesIdentityArn !== undefined) {
      problems.push(
        `${key("serviceSesIdentityArn")} is set but ${key("mailDomain")} "${context.mailDomain}" gives the stack its own SES identity, which ${what === "the service" ? "the tasks send" : "the function sends"} as: remove it.`,
      );
    }
  } else if (s.serviceMailer !== "smtp") {
    if (sesIdentityArn === undefined) {
      problems.push(
        `${key("serviceSesIdentityArn")} is required with serviceMailer ses (or set ${key("mailDomain")} for the stack's own identity): ${what === "the service" ? "the task" : "the function"} may send only as that identity (arn:aws:ses:<region>:<account>:identity/<domain>).`,
      );
    } else if (!SES_IDENTITY_ARN.test(sesIdentityArn)) {
      problems.push(`${key("serviceSesIdentityArn")} "${sesIdentityArn}" is not an SES identity ARN.`);
    }
  } else if (sesIdentityArn !== undefined) {
    problems.push(
      `${key("serviceSesIdentityArn")} is for the ses mailer: remove it, or set serviceMailer ses.`,
    );
  }
  const mailFrom = config.get("serviceMailFrom");
  if (mailFrom === undefined) {
    problems.push(
      `${key("serviceMailFrom")} is required with ${what} (e.g. "Cadastro <no-reply@example.com>").`,
    );
  }
  const alarmEmail = config.get("alarmEmail");
  if (alarmEmail !== undefined && !EMAIL.test(alarmEmail)) {
    problems.push(`${key("alarmEmail")} "${alarmEmail}" is not an email address.`);
  }

  if (secretsManagerOnly) {
    for (const [name, value] of [
      ["serviceDigestKeySecretArn", digestKeySecretArn],
      ["serviceMailSecretArn", mailSecretArn],
    ] as const) {
      if (value !== undefined && !value.includes(":secretsmanager:")) {
        problems.push(
          `${key(name)} "${value}" is an SSM parameter: ${what} reads its secrets from Secrets Manager; store it there and use the secret's ARN.`,
        );
      }
    }
  }
  return { digestKeySecretArn, mailSecretArn, sesIdentityArn, mailFrom, alarmEmail };
}
