/** The real entry point with a bad configuration: it fails before declaring any resource. */
import { expect, it } from "vitest";
import { installMocks } from "../support/pulumi-mocks.js";

it("rejects a malformed role ARN and an out-of-range timeout before any resource is declared", async () => {
  const resources = installMocks({ assumeRoleArn: "arn:aws:iam::1:user/x", receiveWaitTimeSeconds: 30 });
  await expect(import("../../infra-pulumi/index.js")).rejects.toThrow(
    /Invalid stack configuration:\n {2}- sqs-messaging:assumeRoleArn .* is not an IAM role ARN.*\n {2}- sqs-messaging:receiveWaitTimeSeconds is 30/s,
  );
  expect(resources).toEqual([]);
});
