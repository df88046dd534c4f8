/**
 * The consumer as an AWS Lambda function: its log group, its role, the function, and the SQS
 * event source mapping that feeds it.
 *
 * - Function: arm64 (Graviton, ~20 % cheaper a GB-second than x86), nodejs22.x (the newest Node
 *   runtime both the Pulumi and the Terraform provider accept), handler `index.handler` of the zip
 *   `npm run build:lambda` writes; its environment names the queue, table, mailer and the secrets
 *   it reads itself (environment.ts). Its source hash is the zip's, so a new bundle is a new
 *   deployment in both programs.
 * - Log group: `/aws/lambda/<name>`, made before the function (else Lambda makes one that keeps
 *   logs forever), with the service's retention and the same (CloudWatch's default) encryption.
 * - Event source mapping: the batch and batching window of the settings; partial batch responses
 *   (`ReportBatchItemFailures`: only the failed messages come back); a maximum concurrency so that
 *   every invocation's send cap together stays within the account's mail quota
 *   (src/config/derived.ts).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { FunctionConfig } from "./config.js";
import {
  FUNCTION_ARCHITECTURE,
  FUNCTION_HANDLER,
  FUNCTION_RUNTIME,
  functionEnvironment,
} from "./environment.js";
import { functionPolicy, lambdaTrustPolicy } from "./policies.js";

/** The stack's mail part, when the function sends through SES with it. */
export interface FunctionMail {
  readonly identityArn: pulumi.Input<string>;
  readonly configurationSetArn: pulumi.Input<string>;
  readonly configurationSetName: pulumi.Input<string>;
}

export interface ConsumerFunctionArgs {
  readonly settings: FunctionConfig;
  readonly queueUrl: pulumi.Input<string>;
  readonly queueArn: pulumi.Input<string>;
  readonly deadLetterQueueArn: pulumi.Input<string>;
  readonly tableName: pulumi.Input<string>;
  readonly tableArn: pulumi.Input<string>;
  readonly kmsKeyArn?: string | undefined;
  readonly mail?: FunctionMail | undefined;
}

/** The partial batch response: only the messages the handler names come back. */
export const FUNCTION_RESPONSE_TYPES = ["ReportBatchItemFailures"];

/** Base64 of the zip's SHA-256, as Terraform's filebase64sha256 computes it. */
export function bundleHash(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("base64");
}

export class ConsumerFunction extends pulumi.ComponentResource {
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly role: aws.iam.Role;
  readonly rolePolicy: aws.iam.RolePolicy;
  readonly function: aws.lambda.Function;
  readonly eventSource: aws.lambda.EventSourceMapping;

  constructor(name: string, args: ConsumerFunctionArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:ConsumerFunction", name, {}, options);
    const child = { parent: this };
    const s = args.settings;
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-function-logs`,
      { name: `/aws/lambda/${s.functionName}`, retentionInDays: s.logRetentionDays },
      child,
    );
    const mail = args.mail ? pulumi.output(args.mail) : pulumi.output(undefined);
    this.role = new aws.iam.Role(
      `${name}-function-role`,
      {
        assumeRolePolicy: JSON.stringify(lambdaTrustPolicy()),
        description: "The consumer function, its event source mapping and its logs: queue, table, mail.",
      },
      child,
    );
    const secretArns = [s.digestKeySecretArn, ...(s.mailSecretArn ? [s.mailSecretArn] : [])];
    this.rolePolicy = new aws.iam.RolePolicy(
      `${name}-function-policy`,
      {
        name: "consume-registrations",
        role: this.role.name,
        policy: pulumi
          .all([args.queueArn, args.deadLetterQueueArn, args.tableArn, this.logGroup.arn, mail])
          .apply(([queueArn, deadLetterQueueArn, tableArn, logGroupArn, mailArns]) =>
            JSON.stringify(
              functionPolicy({
                queueArn,
                deadLetterQueueArn,
                tableArn,
                logGroupArn,
                secretArns,
                kmsKeyArn: args.kmsKeyArn,
                ...(mailArns
                  ? {
                      ses: {
                        identityArn: mailArns.identityArn,
                        configurationSetArn: mailArns.configurationSetArn,
                      },
                    }
                  : s.sesIdentityArn
                    ? { ses: { identityArn: s.sesIdentityArn } }
                    : {}),
              }),
            ),
          ),
      },
      child,
    );
    this.function = new aws.lambda.Function(
      `${name}-function`,
      {
        name: s.functionName,
        role: this.role.arn,
        runtime: FUNCTION_RUNTIME,
        handler: FUNCTION_HANDLER,
        architectures: [FUNCTION_ARCHITECTURE],
        memorySize: s.functionMemoryMib,
        timeout: s.functionTimeoutSeconds,
        code: new pulumi.asset.FileArchive(s.bundlePath),
        sourceCodeHash: bundleHash(s.bundlePath),
        loggingConfig: { logFormat: "Text", logGroup: this.logGroup.name },
        environment: {
          variables: pulumi.all([args.queueUrl, args.tableName, mail]).apply(([queueUrl, tableName, m]) =>
            functionEnvironment({
              queueUrl,
              tableName,
              mailer: s.mailer,
              mailFrom: s.mailFrom,
              mailRatePerSecond: s.mailRatePerSecond,
              digestKeySecretArn: s.digestKeySecretArn,
              mailSecretArn: s.mailSecretArn,
              sesConfigurationSet: m?.configurationSetName,
            }),
          ),
        },
      },
      // Its first cold start reads the secrets and writes logs with the role's policy.
      { parent: this, dependsOn: [this.rolePolicy] },
    );
    this.eventSource = new aws.lambda.EventSourceMapping(
      `${name}-event-source`,
      {
        eventSourceArn: args.queueArn,
        functionName: this.function.arn,
        batchSize: s.functionBatchSize,
        maximumBatchingWindowInSeconds: s.functionBatchingWindowSeconds,
        functionResponseTypes: FUNCTION_RESPONSE_TYPES,
        scalingConfig: { maximumConcurrency: s.maximumConcurrency },
      },
      // AWS checks the role's SQS permissions when the mapping is created.
      { parent: this, dependsOn: [this.rolePolicy] },
    );
    this.registerOutputs({ functionName: this.function.name });
  }
}
