/**
 * The bootstrap program (`cd infra-pulumi/bootstrap && pulumi login --local && pulumi up`): the
 * state bucket and the secrets key every other stack needs, so its own state cannot live in that
 * bucket — keep it in a local backend (or commit nothing and re-import). Region and bucket name
 * come from the settings data file (stack.region, pipeline.stateBucketName); a stack's
 * `stateBucketName` / `aws:region` config overrides them.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { settings } from "../../src/config/settings.js";
import { StateBackend } from "./state-backend.js";

const config = new pulumi.Config();
const bucketName = config.get("stateBucketName") ?? settings.pipeline.stateBucketName;
if (!bucketName) {
  throw new Error(
    "No state bucket name: set pipeline.stateBucketName in infra-terraform/settings.json, or `pulumi config set stateBucketName <globally unique name>`.",
  );
}
const provider = new aws.Provider("bootstrap-aws", {
  region: config.get("region") ?? settings.stack.region,
  defaultTags: { tags: { project: "sqs-messaging", "managed-by": "pulumi", part: "bootstrap" } },
});
const backend = new StateBackend("state", { bucketName }, { provider });

export const stateBucketName = backend.bucket.bucket;
export const secretsKeyArn = backend.secretsKey.arn;
export const secretsProvider = pulumi.interpolate`awskms://${backend.secretsKeyAlias.name}?region=${backend.bucket.region}`;
export const backendUrl = pulumi.interpolate`s3://${backend.bucket.bucket}?region=${backend.bucket.region}`;
