/**
 * The state bucket's policy, as plain data (the bootstrap programs render it; a test reads it).
 * Deny every request without TLS, to every principal; it grants nothing.
 */
import type { PolicyDocument } from "../policies.js";

/** The alias Pulumi stacks name in `--secrets-provider awskms://alias/…` (docs/pipeline.md). */
export const SECRETS_KEY_ALIAS = "alias/sqs-messaging-pulumi";

export function tlsOnlyBucketPolicy(bucketName: string): PolicyDocument {
  const bucket = `arn:aws:s3:::${bucketName}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucket, `${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}
