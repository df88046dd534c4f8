/**
 * The fleet's configuration checks (service/config.ts): every rejected combination, and the sentence that
 * names it.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { settings } from "../../src/config/settings.js";
import { ACCOUNT, installMocks, setStackConfig } from "../support/pulumi-mocks.js";
import { prodLikeConfig, SERVICE_REGION } from "../support/service-config.js";

installMocks({});
const s = { ...settings.service, ...settings.email };

describe("the fleet's configuration checks", () => {
  const tagged = `${ACCOUNT}.dkr.ecr.${SERVICE_REGION}.amazonaws.com/${s.repositoryName}:latest`;
  it.each([
    [{ serviceImage: tagged }, `serviceImage "${tagged}" has no digest`],
    [
      { serviceImage: `docker.io/library/node@sha256:${"b".repeat(64)}` },
      "is not in this stack's repository",
    ],
    [{ serviceImage: undefined }, "sqs-messaging:serviceImage is required with the service"],
    [{ serviceSubnetIds: [] }, "sqs-messaging:serviceSubnetIds is required"],
    [{ serviceSecurityGroupIds: ["default"] }, 'serviceSecurityGroupIds[0] "default" is not like sg-'],
    [
      { serviceDigestKeySecretArn: undefined },
      "every task must key digests with the same REGISTRATION_DIGEST_KEY",
    ],
    [{ serviceMailer: "outbox" }, "sqs-messaging:serviceMailer"],
    [{ serviceMailer: "smtp" }, "serviceMailSecretArn is required with serviceMailer smtp"],
    [{ serviceSesIdentityArn: undefined }, "serviceSesIdentityArn is required with serviceMailer ses"],
    [
      { mailDomain: "example.com" },
      'serviceSesIdentityArn is set but sqs-messaging:mailDomain "example.com" gives the stack its own SES identity',
    ],
    [
      { taskMemoryMib: 8192 },
      "taskMemoryMib 8192 does not go with 256 CPU units on Fargate: 512, 1024, 2048",
    ],
    [{ logRetentionDays: 10 }, "logRetentionDays 10 is not one of"],
    [{ minTasks: 5 }, "maxConsumerTasks 4 is fewer than sqs-messaging:minTasks 5"],
    [{ endpoint: "http://127.0.0.1:4566" }, "the emulator has no ECS"],
    [{ createSentEmailsTable: false }, "needs the shared sent-email table"],
    [{ createService: false }, "are set but sqs-messaging:createService is false"],
  ])("rejects %j", (change, message) => {
    const config: Record<string, unknown> = { ...prodLikeConfig, ...change };
    for (const [key, value] of Object.entries(change)) if (value === undefined) delete config[key];
    setStackConfig(config);
    expect(() => readInfraConfig(new pulumi.Config("sqs-messaging"))).toThrow(message);
  });
});
