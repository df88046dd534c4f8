# A role the configured principals may assume, with one of the stack's policies attached: the
# producer, consumer and operator roles are three calls of this module (iam.tf).

variable "part" {
  type        = string
  description = "producer, consumer or operator: the role's name prefix and description."
}

variable "principals" {
  type        = list(string)
  description = "IAM principal ARNs allowed to assume the role."
}

variable "policy_arn" {
  type        = string
  description = "The policy the role carries."
}

resource "aws_iam_role" "this" {
  name_prefix = "sqs-messaging-${var.part}-"
  description = "The ${var.part} of user registrations."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AllowConfiguredPrincipals"
      Effect    = "Allow"
      Principal = { AWS = var.principals }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = var.policy_arn
}

output "arn" {
  description = "ARN of the role."
  value       = aws_iam_role.this.arn
}
