# The pipeline from GitHub Actions, the same as infra-pulumi/pipeline.ts and its documents
# in infra-pulumi/pipeline-policies.ts (the parity test compares the plans): GitHub's OIDC provider
# (or the account's existing one), and roles only this repository's workflows can assume, by the
# token's audience and subject — ECR push (main), plan (any ref, pull requests; read-only), deploy
# (the protected environment). Off while pipeline.githubRepository is null.
#
# The ECR repository is in the roles' own account, the one of the OIDC provider they trust; it is
# read from that ARN, so planning needs no STS call.

locals {
  pipeline_on    = local.pipeline.githubRepository != null
  pipeline_state = local.pipeline_on && local.pipeline.stateBucketName != null
  github_claim   = "token.actions.githubusercontent.com"
  github_repo    = local.pipeline.githubRepository
  github_account = !local.pipeline_on ? null : split(":", local.pipeline.githubOidcProviderArn != null ? local.pipeline.githubOidcProviderArn : aws_iam_openid_connect_provider.github[0].arn)[4]
  state_bucket   = "arn:aws:s3:::${coalesce(local.pipeline.stateBucketName, "none")}"
  secrets_statements = local.pipeline.secretsKeyArn == null ? [] : [{
    Sid      = "StackSecrets"
    Effect   = "Allow"
    Action   = ["kms:Decrypt"]
    Resource = [local.pipeline.secretsKeyArn]
  }]
}

# AWS no longer checks thumbprints for GitHub's issuer (its CA is trusted): none is pinned.
resource "aws_iam_openid_connect_provider" "github" {
  count          = local.pipeline_on && local.pipeline.githubOidcProviderArn == null ? 1 : 0
  url            = "https://token.actions.githubusercontent.com"
  client_id_list = ["sts.amazonaws.com"]
}

resource "aws_iam_role" "ecr_push" {
  count       = local.pipeline_on ? 1 : 0
  name_prefix = "sqs-messaging-ecr-push-"
  description = "GitHub Actions (main): push the consumer image to its ECR repository."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsOfThisRepository"
      Effect    = "Allow"
      Principal = { Federated = local.pipeline.githubOidcProviderArn != null ? local.pipeline.githubOidcProviderArn : aws_iam_openid_connect_provider.github[0].arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_claim}:aud" = "sts.amazonaws.com"
          "${local.github_claim}:sub" = ["repo:${local.github_repo}:ref:refs/heads/main"]
        }
      }
    }]
  })
}

# ecr:GetAuthorizationToken takes no resource: its "*" is the pipeline roles' one wildcard.
resource "aws_iam_role_policy" "ecr_push" {
  count = length(aws_iam_role.ecr_push)
  role  = aws_iam_role.ecr_push[0].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "LogInToEcr", Effect = "Allow", Action = ["ecr:GetAuthorizationToken"], Resource = "*" },
      {
        Sid    = "PushConsumerImage"
        Effect = "Allow"
        Action = [
          "ecr:BatchCheckLayerAvailability",
          "ecr:BatchGetImage",
          "ecr:CompleteLayerUpload",
          "ecr:InitiateLayerUpload",
          "ecr:PutImage",
          "ecr:UploadLayerPart",
        ]
        Resource = ["arn:aws:ecr:${local.stack.region}:${local.github_account}:repository/${local.service.repositoryName}"]
      },
    ]
  })
}

resource "aws_iam_role" "plan" {
  count       = local.pipeline_state ? 1 : 0
  name_prefix = "sqs-messaging-plan-"
  description = "GitHub Actions (any ref, pull requests): read-only plan and preview."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsOfThisRepository"
      Effect    = "Allow"
      Principal = { Federated = local.pipeline.githubOidcProviderArn != null ? local.pipeline.githubOidcProviderArn : aws_iam_openid_connect_provider.github[0].arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = { "${local.github_claim}:aud" = "sts.amazonaws.com" }
        StringLike   = { "${local.github_claim}:sub" = ["repo:${local.github_repo}:ref:*", "repo:${local.github_repo}:pull_request"] }
      }
    }]
  })
}

# Read the state and take its lock, decrypt stack secrets, read the stack's queues and table.
resource "aws_iam_role_policy" "plan" {
  count = length(aws_iam_role.plan)
  role  = aws_iam_role.plan[0].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        { Sid = "ListState", Effect = "Allow", Action = ["s3:ListBucket"], Resource = [local.state_bucket] },
        { Sid = "ReadState", Effect = "Allow", Action = ["s3:GetObject"], Resource = ["${local.state_bucket}/.pulumi/*"] },
        { Sid = "TakeStateLocks", Effect = "Allow", Action = ["s3:DeleteObject", "s3:PutObject"], Resource = ["${local.state_bucket}/.pulumi/locks/*"] },
      ],
      local.secrets_statements,
      [{
        Sid      = "ReadQueues"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueAttributes", "sqs:ListQueueTags"]
        Resource = [module.registrations.arn, module.registrations.dead_letter_arn]
      }],
      length(aws_dynamodb_table.sent_emails) == 0 ? [] : [{
        Sid      = "ReadTable"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:DescribeTimeToLive", "dynamodb:ListTagsOfResource"]
        Resource = [aws_dynamodb_table.sent_emails[0].arn]
      }],
    )
  })
}

resource "aws_iam_role" "deploy" {
  count       = local.pipeline_state ? 1 : 0
  name_prefix = "sqs-messaging-deploy-"
  description = "GitHub Actions (environment ${local.pipeline.deployEnvironment}): deploy."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "GitHubActionsOfThisRepository"
      Effect    = "Allow"
      Principal = { Federated = local.pipeline.githubOidcProviderArn != null ? local.pipeline.githubOidcProviderArn : aws_iam_openid_connect_provider.github[0].arn }
      Action    = "sts:AssumeRoleWithWebIdentity"
      Condition = {
        StringEquals = {
          "${local.github_claim}:aud" = "sts.amazonaws.com"
          "${local.github_claim}:sub" = ["repo:${local.github_repo}:environment:${local.pipeline.deployEnvironment}"]
        }
      }
    }]
  })
}

# Write the state, encrypt stack secrets, assume the stack's deployer role (assume_role_arn),
# which holds the rights to change resources: none here.
resource "aws_iam_role_policy" "deploy" {
  count = length(aws_iam_role.deploy)
  role  = aws_iam_role.deploy[0].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        { Sid = "ListState", Effect = "Allow", Action = ["s3:ListBucket"], Resource = [local.state_bucket] },
        { Sid = "ReadState", Effect = "Allow", Action = ["s3:GetObject"], Resource = ["${local.state_bucket}/.pulumi/*"] },
        { Sid = "WriteState", Effect = "Allow", Action = ["s3:DeleteObject", "s3:PutObject"], Resource = ["${local.state_bucket}/.pulumi/*"] },
      ],
      [for statement in local.secrets_statements : merge(statement, { Action = ["kms:Decrypt", "kms:Encrypt"] })],
      var.assume_role_arn == null ? [] : [{
        Sid      = "AssumeDeployer"
        Effect   = "Allow"
        Action   = ["sts:AssumeRole", "sts:TagSession"]
        Resource = [var.assume_role_arn]
      }],
    )
  })
}
