/**
 * Where the stacks keep their state: the S3 bucket of Pulumi's self-managed backend
 * (and of Terraform's S3 backend) — versioned, encrypted with KMS (the AWS-managed S3 key, with an
 * S3 bucket key: no key policy to keep, no KMS grant for the pipeline roles), public access
 * blocked, objects owned by the bucket owner, TLS only — and the KMS key of Pulumi's stack
 * secrets, rotated yearly, under the alias the stacks name. Both are kept when this stack is
 * destroyed: losing them loses every other stack.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SECRETS_KEY_ALIAS, tlsOnlyBucketPolicy } from "./policies.js";

export interface StateBackendArgs {
  readonly bucketName: string;
}

export class StateBackend extends pulumi.ComponentResource {
  readonly bucket: aws.s3.Bucket;
  readonly versioning: aws.s3.BucketVersioning;
  readonly encryption: aws.s3.BucketServerSideEncryptionConfiguration;
  readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  readonly ownership: aws.s3.BucketOwnershipControls;
  readonly policy: aws.s3.BucketPolicy;
  readonly secretsKey: aws.kms.Key;
  readonly secretsKeyAlias: aws.kms.Alias;

  constructor(name: string, args: StateBackendArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:bootstrap:StateBackend", name, {}, options);
    const child = { parent: this };
    const kept = { parent: this, retainOnDelete: true };
    this.bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: args.bucketName, forceDestroy: false }, kept);
    const bucket = this.bucket.id;
    this.versioning = new aws.s3.BucketVersioning(
      `${name}-versioning`,
      { bucket, versioningConfiguration: { status: "Enabled" } },
      child,
    );
    this.encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
      },
      child,
    );
    this.publicAccessBlock = new aws.s3.BucketPublicAccessBlock(
      `${name}-public-access`,
      {
        bucket,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      child,
    );
    this.ownership = new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } },
      child,
    );
    this.policy = new aws.s3.BucketPolicy(
      `${name}-policy`,
      { bucket, policy: JSON.stringify(tlsOnlyBucketPolicy(args.bucketName)) },
      // A bucket policy is refused while the public access block is being written.
      { ...child, dependsOn: [this.publicAccessBlock] },
    );
    this.secretsKey = new aws.kms.Key(
      `${name}-secrets-key`,
      {
        description: "Pulumi stack secrets of sqs-messaging (awskms:// secrets provider).",
        enableKeyRotation: true,
        deletionWindowInDays: 30,
      },
      kept,
    );
    this.secretsKeyAlias = new aws.kms.Alias(
      `${name}-secrets-alias`,
      { name: SECRETS_KEY_ALIAS, targetKeyId: this.secretsKey.keyId },
      child,
    );
    this.registerOutputs({ stateBucketName: this.bucket.bucket, secretsKeyArn: this.secretsKey.arn });
  }
}
