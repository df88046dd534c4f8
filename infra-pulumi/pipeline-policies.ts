/**
 * The pipeline roles' documents, as plain data: who may assume each role (GitHub's
 * OIDC token for this repository only, by audience and subject) and what each may do. The
 * Pulumi program renders them (infra-pulumi/pipeline.ts), Terraform writes the same documents
 * (infra-terraform/pipeline.tf; the parity test compares the plans), and
 * test/infra/iam-simulation.test.ts evaluates them. No Pulumi import.
 *
 * Account ids: the ECR repository is in the roles' own account, the one of the OIDC provider
 * they trust (arn:aws:iam::<account>:oidc-provider/…); it is read from that ARN, so planning
 * needs no STS call.
 */
import type { PolicyDocument, PolicyStatement } from "./policies.js";

export const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";
/** What aws-actions/configure-aws-credentials asks GitHub to put in the token's `aud`. */
export const GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com";
const CLAIM = "token.actions.githubusercontent.com";

/** The account of an IAM ARN (arn:partition:iam::account:…). */
export function accountOf(arn: string): string {
  return arn.split(":")[4] ?? "";
}

/** The `sub` claims each role admits (GitHub's formats: ref, pull_request, environment). */
export function pipelineSubjects(repository: string, deployEnvironment: string) {
  return {
    /** The main branch only: the image pushed is the one main built. */
    ecrPush: { operator: "StringEquals", subjects: [`repo:${repository}:ref:refs/heads/main`] },
    /** Any branch or tag of this repository, and its pull requests: read-only. */
    plan: {
      operator: "StringLike",
      subjects: [`repo:${repository}:ref:*`, `repo:${repository}:pull_request`],
    },
    /** Only jobs that run in the protected environment (required reviewers). */
    deploy: { operator: "StringEquals", subjects: [`repo:${repository}:environment:${deployEnvironment}`] },
  } as const;
}

/** Trust: GitHub's token from this repository, for STS, with one of the subjects. */
export function githubTrustPolicy(
  providerArn: string,
  subject: { operator: "StringEquals" | "StringLike"; subjects: readonly string[] },
): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "GitHubActionsOfThisRepository",
        Effect: "Allow",
        Principal: { Federated: providerArn },
        Action: "sts:AssumeRoleWithWebIdentity",
        // One StringEquals block when the subjects are exact (a second one would replace it).
        Condition:
          subject.operator === "StringEquals"
            ? {
                StringEquals: {
                  [`${CLAIM}:aud`]: GITHUB_OIDC_AUDIENCE,
                  [`${CLAIM}:sub`]: [...subject.subjects],
                },
              }
            : {
                StringEquals: { [`${CLAIM}:aud`]: GITHUB_OIDC_AUDIENCE },
                StringLike: { [`${CLAIM}:sub`]: [...subject.subjects] },
              },
      },
    ],
  };
}

export function ecrRepositoryArn(region: string, account: string, name: string): string {
  return `arn:aws:ecr:${region}:${account}:repository/${name}`;
}

/** What `docker push` (and buildx's manifest checks) call on the repository. */
export const ECR_PUSH_ACTIONS = [
  "ecr:BatchCheckLayerAvailability",
  "ecr:BatchGetImage",
  "ecr:CompleteLayerUpload",
  "ecr:InitiateLayerUpload",
  "ecr:PutImage",
  "ecr:UploadLayerPart",
];

/**
 * Push to the one repository. `ecr:GetAuthorizationToken` takes no resource (the Service
 * Authorization Reference lists none): its `"*"` is the one wildcard of the pipeline roles. The
 * token it returns is useless without the repository actions below.
 */
export function ecrPushPolicy(region: string, account: string, repositoryName: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "LogInToEcr", Effect: "Allow", Action: ["ecr:GetAuthorizationToken"], Resource: "*" },
      {
        Sid: "PushConsumerImage",
        Effect: "Allow",
        Action: ECR_PUSH_ACTIONS,
        Resource: [ecrRepositoryArn(region, account, repositoryName)],
      },
    ],
  };
}

/**
 * Pulumi's S3 backend keeps everything under `.pulumi/` (stacks, history, backups, locks with
 * generated names): object keys below these prefixes are the only path patterns in an Allow.
 */
export const STATE_PREFIX = ".pulumi/";
export const LOCK_PREFIX = ".pulumi/locks/";

export interface StateAccess {
  readonly bucket: string;
  readonly secretsKeyArn?: string | undefined;
}

function stateStatements(state: StateAccess, write: boolean): PolicyStatement[] {
  const bucketArn = `arn:aws:s3:::${state.bucket}`;
  return [
    { Sid: "ListState", Effect: "Allow", Action: ["s3:ListBucket"], Resource: [bucketArn] },
    {
      Sid: "ReadState",
      Effect: "Allow",
      Action: ["s3:GetObject"],
      Resource: [`${bucketArn}/${STATE_PREFIX}*`],
    },
    write
      ? {
          Sid: "WriteState",
          Effect: "Allow",
          Action: ["s3:DeleteObject", "s3:PutObject"],
          Resource: [`${bucketArn}/${STATE_PREFIX}*`],
        }
      : {
          Sid: "TakeStateLocks",
          Effect: "Allow",
          Action: ["s3:DeleteObject", "s3:PutObject"],
          Resource: [`${bucketArn}/${LOCK_PREFIX}*`],
        },
    ...(state.secretsKeyArn
      ? [
          {
            Sid: "StackSecrets",
            Effect: "Allow" as const,
            Action: write ? ["kms:Decrypt", "kms:Encrypt"] : ["kms:Decrypt"],
            Resource: [state.secretsKeyArn],
          },
        ]
      : []),
  ];
}

/** The stack's stateful resources, for a plan's refresh. */
export interface PlannedResources {
  readonly queueArns: readonly string[];
  readonly tableArn?: string | undefined;
}

export const PLAN_QUEUE_ACTIONS = ["sqs:GetQueueAttributes", "sqs:ListQueueTags"];
export const PLAN_TABLE_ACTIONS = [
  "dynamodb:DescribeContinuousBackups",
  "dynamodb:DescribeTable",
  "dynamodb:DescribeTimeToLive",
  "dynamodb:ListTagsOfResource",
];

/** Plan/preview: read the state (and take its lock), decrypt stack secrets, read the stack. */
export function planPolicy(state: StateAccess, resources: PlannedResources): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      ...stateStatements(state, false),
      { Sid: "ReadQueues", Effect: "Allow", Action: PLAN_QUEUE_ACTIONS, Resource: [...resources.queueArns] },
      ...(resources.tableArn
        ? [
            {
              Sid: "ReadTable",
              Effect: "Allow" as const,
              Action: PLAN_TABLE_ACTIONS,
              Resource: [resources.tableArn],
            },
          ]
        : []),
    ],
  };
}

/**
 * Deploy: write the state, encrypt stack secrets, and assume the stack's deployer role (its
 * `assumeRoleArn`), which holds the permissions to change resources; no resource rights here.
 */
export function deployPolicy(state: StateAccess, deployerRoleArn?: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      ...stateStatements(state, true),
      ...(deployerRoleArn
        ? [
            {
              Sid: "AssumeDeployer",
              Effect: "Allow" as const,
              Action: ["sts:AssumeRole", "sts:TagSession"],
              Resource: [deployerRoleArn],
            },
          ]
        : []),
    ],
  };
}
