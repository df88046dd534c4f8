/**
 * The pipeline from GitHub Actions: the GitHub OIDC provider (or the account's existing
 * one), and three roles only this repository's workflows can assume — push the consumer image
 * (main), plan/preview (read-only, any ref or pull request), deploy (the protected environment).
 * The documents: pipeline-policies.ts. Terraform declares the same in infra-terraform/pipeline.tf.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Settings } from "../src/config/settings.js";
import {
  accountOf,
  deployPolicy,
  ecrPushPolicy,
  GITHUB_OIDC_AUDIENCE,
  GITHUB_OIDC_URL,
  githubTrustPolicy,
  pipelineSubjects,
  planPolicy,
} from "./pipeline-policies.js";
import type { PolicyDocument } from "./policies.js";

/** The `pipeline` settings with a repository: the pipeline roles are on. */
export type PipelineConfig = Settings["pipeline"] & {
  readonly githubRepository: string;
  /** The consumer's ECR repository (settings `service.repositoryName`): the push role's one target. */
  readonly repositoryName: string;
};

export interface PipelineArgs {
  readonly settings: PipelineConfig;
  readonly region: string;
  readonly queueArns: pulumi.Input<string>[];
  readonly tableArn?: pulumi.Input<string>;
  /** The stack's deployer role (config assumeRoleArn), which the deploy role may assume. */
  readonly deployerRoleArn?: string;
}

export class Pipeline extends pulumi.ComponentResource {
  /** Created here unless the settings name the account's existing provider. */
  readonly oidcProvider?: aws.iam.OpenIdConnectProvider;
  readonly providerArn: pulumi.Output<string>;
  readonly ecrPushRole: aws.iam.Role;
  /** Made when the state bucket is known (the bootstrap program's). */
  readonly planRole?: aws.iam.Role;
  readonly deployRole?: aws.iam.Role;
  /** Each role's inline policy (registered once the role's name resolves). */
  readonly rolePolicies: aws.iam.RolePolicy[] = [];

  constructor(name: string, args: PipelineArgs, options?: pulumi.ComponentResourceOptions) {
    // Stacks deployed before the rename hold this component as `Delivery`: the alias keeps its
    // roles in place instead of replacing them.
    super(
      "sqs-messaging:index:Pipeline",
      name,
      {},
      {
        ...options,
        aliases: [...(options?.aliases ?? []), { type: "sqs-messaging:index:Delivery" }],
      },
    );
    const child = { parent: this };
    const s = args.settings;
    if (s.githubOidcProviderArn) {
      this.providerArn = pulumi.output(s.githubOidcProviderArn);
    } else {
      // AWS no longer checks thumbprints for GitHub's issuer (its CA is trusted): none is pinned.
      this.oidcProvider = new aws.iam.OpenIdConnectProvider(
        `${name}-github-oidc`,
        { url: GITHUB_OIDC_URL, clientIdLists: [GITHUB_OIDC_AUDIENCE] },
        child,
      );
      this.providerArn = this.oidcProvider.arn;
    }
    const subjects = pipelineSubjects(s.githubRepository, s.deployEnvironment);
    const role = (
      kind: string,
      description: string,
      subject: (typeof subjects)[keyof typeof subjects],
      policy: pulumi.Input<PolicyDocument>,
    ) => {
      const created = new aws.iam.Role(
        `${name}-${kind}-role`,
        {
          description,
          assumeRolePolicy: this.providerArn.apply((arn) => JSON.stringify(githubTrustPolicy(arn, subject))),
        },
        child,
      );
      const rolePolicy = new aws.iam.RolePolicy(
        `${name}-${kind}-policy`,
        { role: created.name, policy: pulumi.output(policy).apply((document) => JSON.stringify(document)) },
        child,
      );
      this.rolePolicies.push(rolePolicy);
      return created;
    };
    this.ecrPushRole = role(
      "ecr-push",
      "GitHub Actions (main): push the consumer image to its ECR repository.",
      subjects.ecrPush,
      this.providerArn.apply((arn) => ecrPushPolicy(args.region, accountOf(arn), s.repositoryName)),
    );
    if (s.stateBucketName) {
      const state = { bucket: s.stateBucketName, secretsKeyArn: s.secretsKeyArn ?? undefined };
      this.planRole = role(
        "plan",
        "GitHub Actions (any ref, pull requests): read-only plan and preview.",
        subjects.plan,
        pulumi
          .all([pulumi.all(args.queueArns), args.tableArn])
          .apply(([queueArns, tableArn]) => planPolicy(state, { queueArns, tableArn })),
      );
      this.deployRole = role(
        "deploy",
        `GitHub Actions (environment ${s.deployEnvironment}): deploy.`,
        subjects.deploy,
        deployPolicy(state, args.deployerRoleArn),
      );
    }
    this.registerOutputs({
      ecrPushRoleArn: this.ecrPushRole.arn,
      infraPlanRoleArn: this.planRole?.arn,
      infraDeployRoleArn: this.deployRole?.arn,
    });
  }
}
