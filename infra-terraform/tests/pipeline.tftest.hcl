# The pipeline roles with a mocked AWS provider (`terraform test`, offline): who may assume each
# role. The same documents are compared with the Pulumi program's by the parity test and
# evaluated by an IAM simulator in test/infra/iam-simulation.test.ts.

mock_provider "aws" {
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-east-1:123456789012:mocked"
      url = "https://sqs.us-east-1.amazonaws.com/123456789012/mocked"
    }
  }
  mock_resource "aws_iam_policy" {
    defaults = {
      arn = "arn:aws:iam::123456789012:policy/mocked"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::123456789012:role/mocked"
    }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
  }
}

variables {
  # No table: its prevent_destroy would refuse the test's own cleanup (see queues.tftest.hcl).
  create_sent_emails_table = false
  github_repository        = "octo-org/sqs-messaging"
  state_bucket_name        = "octo-org-pulumi-state"
}

run "pipeline_off_by_default" {
  command = plan
  variables {
    github_repository = null
  }
  assert {
    condition     = length(aws_iam_role.ecr_push) == 0 && length(aws_iam_role.plan) == 0 && length(aws_iam_role.deploy) == 0 && length(aws_iam_openid_connect_provider.github) == 0
    error_message = "without github_repository there must be no pipeline role and no OIDC provider"
  }
}

run "pipeline_roles" {
  command = apply

  assert {
    condition     = aws_iam_openid_connect_provider.github[0].url == "https://token.actions.githubusercontent.com" && aws_iam_openid_connect_provider.github[0].client_id_list == toset(["sts.amazonaws.com"])
    error_message = "the provider must be GitHub's, for STS"
  }
  assert {
    condition     = jsondecode(aws_iam_role.ecr_push[0].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == ["repo:octo-org/sqs-messaging:ref:refs/heads/main"]
    error_message = "the push role must trust the main branch only"
  }
  assert {
    condition     = jsondecode(aws_iam_role.deploy[0].assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == ["repo:octo-org/sqs-messaging:environment:production"]
    error_message = "the deploy role must trust the production environment only"
  }
  assert {
    condition     = alltrue([for role in [aws_iam_role.ecr_push[0], aws_iam_role.plan[0], aws_iam_role.deploy[0]] : jsondecode(role.assume_role_policy).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"])
    error_message = "every pipeline role must require GitHub's STS audience"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.ecr_push[0].policy).Statement[1].Resource == ["arn:aws:ecr:us-east-1:123456789012:repository/sqs-messaging-consumer"]
    error_message = "the push role must push to the one repository, in the provider's account"
  }
}

run "existing_provider" {
  command = plan
  variables {
    github_oidc_provider_arn = "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
  }
  assert {
    condition     = length(aws_iam_openid_connect_provider.github) == 0
    error_message = "an existing provider must not be created again"
  }
  assert {
    condition     = jsondecode(aws_iam_role.plan[0].assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com"
    error_message = "the roles must trust the existing provider"
  }
}
