/**
 * The sent-email table shared by every consumer: key `id` (string), on-demand billing
 * (a consumer's traffic follows the queue's, with no capacity to plan), TTL on the store's expiry
 * attribute (epoch seconds), point-in-time recovery, encryption at rest with the AWS-managed key,
 * deletion protection. Kept when the stack is destroyed (`retainOnDelete`): losing it would send
 * every registration still in a queue a second email. Not `protect`, which would make
 * `pulumi destroy` of the rest of the stack fail.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { KEY_ATTRIBUTE, TTL_ATTRIBUTE } from "../src/contract/sent-email-table.js";

export interface SentEmailsTableArgs {
  readonly tableName: string;
  readonly pointInTimeRecovery: boolean;
  readonly deletionProtection: boolean;
}

export class SentEmailsTable extends pulumi.ComponentResource {
  readonly table: aws.dynamodb.Table;

  constructor(name: string, args: SentEmailsTableArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:SentEmailsTable", name, {}, options);
    this.table = new aws.dynamodb.Table(
      `${name}-table`,
      {
        name: args.tableName,
        billingMode: "PAY_PER_REQUEST",
        hashKey: KEY_ATTRIBUTE,
        attributes: [{ name: KEY_ATTRIBUTE, type: "S" }],
        ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
        pointInTimeRecovery: { enabled: args.pointInTimeRecovery },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: args.deletionProtection,
      },
      { parent: this, retainOnDelete: true },
    );
    this.registerOutputs({ tableName: this.table.name, tableArn: this.table.arn });
  }
}
