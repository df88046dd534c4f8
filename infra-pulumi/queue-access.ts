import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
  assumeRolePolicy,
  consumerPolicy,
  type MailArns,
  operatorPolicy,
  producerPolicy,
} from "./policies.js";

export interface QueueAccessArgs {
  readonly queueArn: pulumi.Input<string>;
  readonly deadLetterQueueArn: pulumi.Input<string>;
  /** The sent-email table the consumer records in, when the stack has one. */
  readonly tableArn?: pulumi.Input<string>;
  /** The SES identity and configuration set it sends through, and the bounce pair (email.ts). */
  readonly mail?: { readonly [K in keyof MailArns]: pulumi.Input<string> };
  readonly kmsKeyArn?: string;
  /** The queues' region: the operator's one unscoped permission (CloudWatch) is held to it. */
  readonly region: pulumi.Input<string>;
  /** Principals that may assume a producer role; no role when empty. */
  readonly producerPrincipals?: readonly string[];
  readonly consumerPrincipals?: readonly string[];
  readonly operatorPrincipals?: readonly string[];
}

/**
 * Least-privilege access to a queue pair: a producer and a consumer managed policy (exact
 * actions, the queue ARNs as the only resources), and optional roles for configured principals.
 */
export class QueueAccess extends pulumi.ComponentResource {
  readonly producerPolicy: aws.iam.Policy;
  readonly consumerPolicy: aws.iam.Policy;
  readonly operatorPolicy: aws.iam.Policy;
  readonly producerRole?: aws.iam.Role;
  readonly consumerRole?: aws.iam.Role;
  readonly operatorRole?: aws.iam.Role;

  constructor(name: string, args: QueueAccessArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:QueueAccess", name, {}, options);
    const child = { parent: this };
    this.producerPolicy = new aws.iam.Policy(
      `${name}-producer`,
      {
        description: "Send user registrations to the queue.",
        policy: pulumi
          .output(args.queueArn)
          .apply((arn) => JSON.stringify(producerPolicy(arn, args.kmsKeyArn))),
      },
      child,
    );
    this.consumerPolicy = new aws.iam.Policy(
      `${name}-consumer`,
      {
        description: "Receive, delete and dead-letter user registrations.",
        policy: pulumi
          .all([args.queueArn, args.deadLetterQueueArn, args.tableArn, args.mail])
          .apply(([queue, dlq, table, mail]) =>
            JSON.stringify(consumerPolicy(queue, dlq, args.kmsKeyArn, table, mail)),
          ),
      },
      child,
    );
    this.operatorPolicy = new aws.iam.Policy(
      `${name}-operator`,
      {
        description: "Operate the queues: status, and dead-letter list, redrive and purge.",
        policy: pulumi
          .all([args.queueArn, args.deadLetterQueueArn, args.region])
          .apply(([queue, dlq, region]) =>
            JSON.stringify(operatorPolicy(queue, dlq, region, args.kmsKeyArn)),
          ),
      },
      child,
    );
    const role = (kind: string, principals: readonly string[] | undefined, policy: aws.iam.Policy) => {
      if (!principals || principals.length === 0) return undefined;
      const created = new aws.iam.Role(
        `${name}-${kind}-role`,
        {
          assumeRolePolicy: JSON.stringify(assumeRolePolicy(principals)),
          description: `The ${kind} of user registrations.`,
        },
        child,
      );
      new aws.iam.RolePolicyAttachment(
        `${name}-${kind}-role-policy`,
        { role: created.name, policyArn: policy.arn },
        child,
      );
      return created;
    };
    const producerRole = role("producer", args.producerPrincipals, this.producerPolicy);
    const consumerRole = role("consumer", args.consumerPrincipals, this.consumerPolicy);
    const operatorRole = role("operator", args.operatorPrincipals, this.operatorPolicy);
    if (producerRole) this.producerRole = producerRole;
    if (consumerRole) this.consumerRole = consumerRole;
    if (operatorRole) this.operatorRole = operatorRole;
    this.registerOutputs({
      producerPolicyArn: this.producerPolicy.arn,
      consumerPolicyArn: this.consumerPolicy.arn,
      operatorPolicyArn: this.operatorPolicy.arn,
    });
  }
}
