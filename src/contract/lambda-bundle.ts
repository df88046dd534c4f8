/**
 * The function's deployment package as the infrastructure sees it, defined once: the build
 * (src/lambda/bundle.ts) writes it, both programs deploy it (infra-pulumi/lambda/, Terraform's
 * lambda.tf through the parity test), docs/lambda.md describes it. Plain data: importing this
 * loads neither esbuild nor the handler.
 */
export const LAMBDA_BUNDLE = {
  entry: "src/lambda/index.ts",
  folder: "dist/lambda",
  module: "index.mjs",
  zip: "function.zip",
  handler: "index.handler",
  /** Lambda's Node runtime both providers accept (the Terraform provider in the mirror stops at 22). */
  runtime: "nodejs22.x",
  architecture: "arm64",
} as const;
