terraform {
  required_version = ">= 1.10" # the S3 backend's use_lockfile (the stacks it serves need it)

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 7.0"
    }
  }
}
