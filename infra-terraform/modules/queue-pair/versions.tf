terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.x and 6.x: the arguments used here exist in both.
      version = ">= 5.0, < 7.0"
    }
  }
}
