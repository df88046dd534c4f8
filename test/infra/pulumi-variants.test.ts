/** The Pulumi program's variants under mocks: local emulator, FIFO, KMS, and rejected config. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { InfraConfigError, readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { defaultQueueSettings } from "../../src/config/queue-settings.js";
import {
  ACCOUNT,
  decoded,
  installMocks,
  type RecordedResource,
  registered,
  resolvedValue,
  setStackConfig,
} from "../support/pulumi-mocks.js";

const resources = installMocks({});

function build(config: Record<string, unknown>, name: string) {
  setStackConfig(config);
  const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
  const find = (suffix: string): RecordedResource => {
    const found = resources.find((r) => r.name === `${name}-${suffix}`);
    if (!found) throw new Error(`no ${name}-${suffix}`);
    return found;
  };
  return { resources, infra, find };
}

describe("Pulumi program variants (mocks)", () => {
  it("targets a local emulator: endpoint, skip flags, dummy keys, no IAM, endpoint output", async () => {
    const { infra, find } = build(
      { endpoint: "http://127.0.0.1:4566", createAccessPolicies: false, region: "us-east-1" },
      "local",
    );
    expect(await resolvedValue(infra.outputs.endpoint)).toBe("http://127.0.0.1:4566");
    await registered(
      infra.queues.queuePolicy,
      infra.queues.deadLetterQueuePolicy,
      infra.queues.redriveAllowPolicy,
    );
    const provider = find("aws").inputs;
    expect(decoded(provider.endpoints)).toEqual([{ sqs: "http://127.0.0.1:4566" }]);
    for (const flag of [
      "skipCredentialsValidation",
      "skipRequestingAccountId",
      "skipMetadataApiCheck",
      "skipRegionValidation",
    ]) {
      expect(String(provider[flag]), flag).toBe("true");
    }
    expect(decoded(provider.accessKey)).toBe("local");
    expect(infra.access).toBeUndefined();
    expect(resources.filter((r) => r.name.startsWith("local-") && r.type.startsWith("aws:iam"))).toEqual([]);
    expect(infra.outputs.producerPolicyArn).toBeUndefined();
  });

  it("builds a FIFO pair: both names end in .fifo, content-based deduplication as configured", async () => {
    const { infra, find } = build(
      {
        fifo: true,
        contentBasedDeduplication: true,
        queueName: "signups.fifo",
        deadLetterQueueName: "signups-dlq.fifo",
      },
      "fifo",
    );
    await registered(infra.queues.queue, infra.queues.deadLetterQueue);
    for (const suffix of ["queue", "dlq"]) {
      expect(find(suffix).inputs).toMatchObject({ fifoQueue: true, contentBasedDeduplication: true });
    }
    expect(find("queue").inputs.name).toBe("signups.fifo");
    expect(find("dlq").inputs.name).toBe("signups-dlq.fifo");
  });

  it("encrypts with a customer-managed KMS key when configured, and grants its use", async () => {
    const key = `arn:aws:kms:us-east-1:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;
    const { infra, find } = build({ kmsKeyArn: key }, "kms");
    await registered(infra.queues.queue, infra.access?.producerPolicy, infra.access?.consumerPolicy);
    expect(find("queue").inputs).toMatchObject({
      kmsMasterKeyId: key,
      kmsDataKeyReusePeriodSeconds: defaultQueueSettings.kmsDataKeyReusePeriodSeconds,
    });
    expect(find("queue").inputs).not.toHaveProperty("sqsManagedSseEnabled");
    const producer = JSON.parse(find("producer").inputs.policy);
    expect(producer.Statement[1]).toEqual({
      Sid: "UseQueueKey",
      Effect: "Allow",
      Action: ["kms:Decrypt", "kms:GenerateDataKey"],
      Resource: [key],
    });
  });
});

describe("stack configuration checks", () => {
  it.each([
    [
      { assumeRoleArn: "arn:aws:iam::123:role/x" },
      'sqs-messaging:assumeRoleArn "arn:aws:iam::123:role/x" is not an IAM role ARN',
    ],
    [{ assumeRoleArn: "deployer" }, "use arn:aws:iam::<12-digit account>:role/<name>"],
    [{ fifo: true }, 'sqs-messaging:queueName "user-registrations" must end in ".fifo"'],
    [{ fifo: true, queueName: "a.fifo" }, 'deadLetterQueueName "user-registrations-dlq" must end in ".fifo"'],
    [
      { visibilityTimeoutSeconds: 50_000 },
      "sqs-messaging:visibilityTimeoutSeconds is 50000; AWS accepts a whole number from 0 to 43200",
    ],
    [{ maxReceiveCount: "many" }, "sqs-messaging:maxReceiveCount"],
    [{ region: "mars-1" }, 'sqs-messaging:region "mars-1" is not an AWS region'],
    [{ endpoint: "localhost 4566" }, "is not a URL"],
    [{ kmsKeyArn: "my-key" }, "is not a KMS key or alias ARN"],
    [{ assumeRoleExternalId: "x" }, "is set without sqs-messaging:assumeRoleArn"],
    [{ producerPrincipals: ["*"] }, 'sqs-messaging:producerPrincipals[0] "*" is not an IAM principal ARN'],
    [
      { createAccessPolicies: false, consumerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/w`] },
      "need the access policies",
    ],
  ])("rejects %j with a message naming the key", (config, message) => {
    setStackConfig(config);
    expect(() => readInfraConfig(new pulumi.Config("sqs-messaging"))).toThrow(InfraConfigError);
    expect(() => readInfraConfig(new pulumi.Config("sqs-messaging"))).toThrow(message);
  });

  it("lists every problem at once", () => {
    setStackConfig({ region: "x", maxReceiveCount: 0, assumeRoleArn: "nope" });
    try {
      readInfraConfig(new pulumi.Config("sqs-messaging"));
      expect.unreachable();
    } catch (error) {
      expect((error as InfraConfigError).problems).toHaveLength(3);
    }
  });
});
