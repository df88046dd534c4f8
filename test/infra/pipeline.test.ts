/**
 * The pipeline part of the Pulumi program under mocks: off by default, checked with the rest of
 * the configuration, the push role alone without a state bucket, an existing provider reused,
 * and the roles' ARNs among the stack outputs. (Both programs: test/infra/parity.test.ts; the
 * documents simulated: test/infra/iam-simulation.test.ts.)
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { InfraConfigError, readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import {
  ACCOUNT,
  installMocks,
  type RecordedResource,
  registered,
  resolvedValue,
  setStackConfig,
} from "../support/pulumi-mocks.js";

let resources: RecordedResource[];
let run = 0;
beforeAll(() => {
  resources = installMocks({});
});

const declare = async (config: Record<string, unknown>) => {
  setStackConfig(config);
  const name = `pipeline${run++}`;
  const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
  await registered(
    infra.queues.queue,
    infra.pipeline?.oidcProvider,
    infra.pipeline?.ecrPushRole,
    infra.pipeline?.planRole,
    infra.pipeline?.deployRole,
    ...(infra.pipeline?.rolePolicies ?? []),
  );
  return {
    infra,
    mine: resources.filter((r) => r.name.startsWith(`${name}-`)).map((r) => r.name.slice(name.length + 1)),
  };
};

describe("pipeline in the Pulumi program", () => {
  it("is off without githubRepository", async () => {
    const { infra, mine } = await declare({});
    expect(infra.pipeline).toBeUndefined();
    expect(mine.filter((n) => /oidc|push|plan|deploy/.test(n))).toEqual([]);
  });

  it("makes the provider and the push role alone without a state bucket", async () => {
    const { infra, mine } = await declare({ githubRepository: "octo-org/sqs-messaging" });
    expect(mine.filter((n) => /oidc|push|plan|deploy/.test(n)).sort()).toEqual(
      ["ecr-push-policy", "ecr-push-role", "github-oidc"].sort(),
    );
    expect(await resolvedValue(infra.outputs.ecrPushRoleArn)).toMatch(/^arn:aws:iam::\d{12}:role\//);
    expect(infra.outputs.infraDeployRoleArn).toBeUndefined();
  });

  it("reuses the account's existing provider, and lets the deploy role assume the stack's deployer", async () => {
    const provider = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
    const deployer = `arn:aws:iam::${ACCOUNT}:role/deployer`;
    const { infra, mine } = await declare({
      githubRepository: "octo-org/sqs-messaging",
      githubOidcProviderArn: provider,
      stateBucketName: "octo-org-pulumi-state",
      assumeRoleArn: deployer,
    });
    expect(mine).not.toContain("github-oidc");
    const trust = JSON.parse((await resolvedValue(infra.pipeline?.deployRole?.assumeRolePolicy)) ?? "{}");
    expect(trust.Statement[0].Principal).toEqual({ Federated: provider });
    const policy = resources.find(
      (r) => r.name.endsWith("-deploy-policy") && r.inputs.policy.includes(deployer),
    );
    expect(JSON.parse(policy?.inputs.policy).Statement).toContainEqual(
      expect.objectContaining({ Sid: "AssumeDeployer", Resource: [deployer] }),
    );
  });

  it("rejects a repository that is not owner/name with the key's name, before any resource", () => {
    setStackConfig({ githubRepository: "just-a-name", stateBucketName: "Not_A_Bucket" });
    const read = () => readInfraConfig(new pulumi.Config("sqs-messaging"));
    expect(read).toThrow(InfraConfigError);
    expect(read).toThrow(/sqs-messaging:githubRepository: githubRepository must be owner\/name/);
    expect(read).toThrow(/sqs-messaging:stateBucketName/);
  });
});
