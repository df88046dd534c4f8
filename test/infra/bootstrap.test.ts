/**
 * The state bootstrap, in both programs: the bucket versioned, SSE-KMS, public access
 * blocked, owner-enforced, TLS only (the policy simulated), kept on destroy; the secrets key
 * rotated, under the alias the stacks name. Pulumi under mocks; Terraform's own offline plan.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import type * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { SECRETS_KEY_ALIAS, tlsOnlyBucketPolicy } from "../../infra-pulumi/bootstrap/policies.js";
import { projectRoot } from "../../src/config/paths.js";
import { Terraform } from "../../src/local/terraform.js";
import { decoded, installMocks, type RecordedResource, registered } from "../support/pulumi-mocks.js";
import { pluginMirror, terraform } from "../support/terraform.js";

const BUCKET = "octo-org-sqs-messaging-state";

describe("the bootstrap program under Pulumi mocks", () => {
  let resources: RecordedResource[];
  const retained = new Map<string, boolean | undefined>();
  const input = (name: string) => {
    const found = resources.find((r) => r.name === name);
    if (!found) throw new Error(`no ${name}: ${resources.map((r) => r.name).join(", ")}`);
    return found.inputs;
  };

  beforeAll(async () => {
    resources = installMocks({}, "sqs-messaging-bootstrap");
    const { StateBackend } = await import("../../infra-pulumi/bootstrap/state-backend.js");
    const record: pulumi.ResourceTransformation = (args) => {
      retained.set(args.name, args.opts.retainOnDelete);
      return undefined;
    };
    const backend = new StateBackend("state", { bucketName: BUCKET }, { transformations: [record] });
    await registered(
      backend.bucket,
      backend.versioning,
      backend.encryption,
      backend.publicAccessBlock,
      backend.ownership,
      backend.policy,
      backend.secretsKey,
      backend.secretsKeyAlias,
    );
  });

  it("declares a versioned, KMS-encrypted, private, owner-enforced bucket, kept on destroy", () => {
    expect(input("state-bucket")).toMatchObject({ bucket: BUCKET, forceDestroy: false });
    expect(retained.get("state-bucket")).toBe(true);
    expect(decoded(input("state-versioning").versioningConfiguration)).toMatchObject({ status: "Enabled" });
    expect(decoded(input("state-encryption").rules)).toEqual([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true },
    ]);
    expect(input("state-public-access")).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(decoded(input("state-ownership").rule)).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    expect(JSON.parse(input("state-policy").policy)).toEqual(tlsOnlyBucketPolicy(BUCKET));
  });

  it("declares a rotated secrets key under the stacks' alias, kept on destroy", () => {
    expect(input("state-secrets-key")).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    expect(retained.get("state-secrets-key")).toBe(true);
    expect(input("state-secrets-alias").name).toBe(SECRETS_KEY_ALIAS);
  });
});

describe("the state bucket's policy, simulated", () => {
  it("denies any request without TLS, even to an identity allowed everything on the bucket", async () => {
    const decide = async (action: string, resource: string, secure: boolean) => {
      const result = await runSimulation(
        {
          identityPolicies: [
            {
              name: "admin",
              policy: {
                Version: "2012-10-17",
                Statement: [
                  {
                    Effect: "Allow",
                    Action: "s3:*",
                    Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`],
                  },
                ],
              },
            },
          ],
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: tlsOnlyBucketPolicy(BUCKET),
          request: {
            action,
            principal: "arn:aws:iam::123456789012:role/admin",
            resource: { accountId: "123456789012", resource },
            contextVariables: { "aws:SecureTransport": String(secure) },
          },
        },
        {},
      );
      if (result.resultType === "error") throw new Error(JSON.stringify(result.errors));
      return result.overallResult;
    };
    const object = `arn:aws:s3:::${BUCKET}/.pulumi/stacks/sqs-messaging/dev.json`;
    expect(await decide("s3:GetObject", object, false)).toBe("ExplicitlyDenied");
    expect(await decide("s3:ListBucket", `arn:aws:s3:::${BUCKET}`, false)).toBe("ExplicitlyDenied");
    expect(await decide("s3:GetObject", object, true)).toBe("Allowed");
  });
});

describe.skipIf(!terraform)("the bootstrap module, planned by Terraform offline", () => {
  // biome-ignore lint/suspicious/noExplicitAny: `terraform show -json` is a large untyped document.
  let values: Record<string, any>;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "bootstrap-plan-"));
    cpSync(join(projectRoot, "infra-terraform", "bootstrap"), join(dir, "bootstrap"), {
      recursive: true,
      filter: (source) => !/\.terraform|tfstate/.test(source),
    });
    cpSync(join(projectRoot, "infra-terraform", "settings.json"), join(dir, "settings.json"));
    // Offline: dummy keys and the skip flags, merged into the module's provider by an override.
    writeFileSync(
      join(dir, "bootstrap", "provider_override.tf"),
      `provider "aws" {
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}
`,
    );
    const cli = new Terraform({ dir: join(dir, "bootstrap"), pluginMirror, output: "pipe" });
    try {
      for (const args of [
        ["init", "-input=false", "-no-color", "-backend=false"],
        [
          "plan",
          "-refresh=false",
          "-input=false",
          "-no-color",
          "-lock=false",
          `-var=state_bucket_name=${BUCKET}`,
          "-out=plan",
        ],
      ]) {
        const result = await cli.run(args);
        if (result.code !== 0) throw new Error(`terraform ${args[0]}: ${result.stdout}\n${result.stderr}`);
      }
      const show = await cli.run(["show", "-json", "plan"]);
      const plan = JSON.parse(show.stdout);
      values = Object.fromEntries(
        (plan.planned_values.root_module.resources as { address: string; values: unknown }[]).map((r) => [
          r.address,
          r.values,
        ]),
      );
    } finally {
      await cli.dispose();
    }
  }, 240_000);

  it("plans the same bucket settings", () => {
    expect(values["aws_s3_bucket.state"]).toMatchObject({ bucket: BUCKET, force_destroy: false });
    expect(values["aws_s3_bucket_versioning.state"].versioning_configuration).toEqual([
      expect.objectContaining({ status: "Enabled" }),
    ]);
    expect(values["aws_s3_bucket_server_side_encryption_configuration.state"].rule).toEqual([
      expect.objectContaining({
        bucket_key_enabled: true,
        apply_server_side_encryption_by_default: [expect.objectContaining({ sse_algorithm: "aws:kms" })],
      }),
    ]);
    expect(values["aws_s3_bucket_public_access_block.state"]).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(values["aws_s3_bucket_ownership_controls.state"].rule).toEqual([
      { object_ownership: "BucketOwnerEnforced" },
    ]);
    // The same document as the Pulumi program's.
    expect(JSON.parse(values["aws_s3_bucket_policy.state"].policy)).toEqual(tlsOnlyBucketPolicy(BUCKET));
    expect(values["aws_kms_key.secrets"]).toMatchObject({
      enable_key_rotation: true,
      deletion_window_in_days: 30,
    });
    expect(values["aws_kms_alias.secrets"].name).toBe(SECRETS_KEY_ALIAS);
  });

  it("keeps the bucket and the key on destroy (prevent_destroy)", () => {
    const main = readFileSync(join(projectRoot, "infra-terraform", "bootstrap", "main.tf"), "utf8");
    expect(main.match(/prevent_destroy = true/g)).toHaveLength(2);
  });

  it("documents the S3 backend with S3's own lock file", () => {
    const example = readFileSync(
      join(projectRoot, "infra-terraform", "backend.s3.tfbackend.example"),
      "utf8",
    );
    expect(example).toMatch(/^use_lockfile\s*=\s*true/m);
    expect(example).toMatch(/^encrypt\s*=\s*true/m);
  });
});
