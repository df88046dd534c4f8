/**
 * The SES part of the Pulumi program under mocks: opt-in by `mailDomain`; the identity,
 * configuration set, event destination, topic and bounce pair; the exact IAM and resource policies
 * (no `*` in any Allow); the outputs the consumer and the DNS owner read.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { InfraConfigError, readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure } from "../../infra-pulumi/program.js";
import { settings } from "../../src/config/settings.js";
import {
  ACCOUNT,
  installMocks,
  type RecordedResource,
  registered,
  resolvedValue,
  setStackConfig,
} from "../support/pulumi-mocks.js";

const resources = installMocks({});

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: unknown;
}

async function build(config: Record<string, unknown>, name: string) {
  setStackConfig(config);
  const infra = createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
  await registered(
    infra.access?.consumerPolicy,
    infra.mail?.topicPolicy,
    infra.mail?.subscription,
    infra.mail?.eventDestination,
    infra.mail?.mailFrom,
    infra.mail?.bounceQueues.queuePolicy,
    infra.mail?.bounceQueues.deadLetterQueuePolicy,
    infra.mail?.bounceQueues.redrivePolicy,
  );
  const find = (suffix: string): RecordedResource => {
    const found = resources.find((r) => r.name === `${name}-${suffix}`);
    if (!found) throw new Error(`no ${name}-${suffix}`);
    return found;
  };
  const statements = (suffix: string): Statement[] => JSON.parse(find(suffix).inputs.policy).Statement;
  return { infra, find, statements };
}

const region = "eu-west-1";
const arn = {
  identity: `arn:aws:ses:${region}:${ACCOUNT}:identity/mail.example.com`,
  configurationSet: `arn:aws:ses:${region}:${ACCOUNT}:configuration-set/${settings.email.configurationSetName}`,
  topic: `arn:aws:sns:${region}:${ACCOUNT}:${settings.email.configurationSetName}-events`,
  bounceQueue: `arn:aws:sqs:${region}:${ACCOUNT}:${settings.email.bounceQueueName}`,
  bounceDlq: `arn:aws:sqs:${region}:${ACCOUNT}:${settings.email.bounceQueueName}-dlq`,
};

describe("SES email (Pulumi, mocks)", () => {
  it("declares nothing of SES in the queue-only default stack", async () => {
    const { infra } = await build({}, "plain");
    expect(infra.mail).toBeUndefined();
    expect(infra.outputs.bounceQueueUrl).toBeUndefined();
    expect(infra.outputs.mailDnsRecords).toBeUndefined();
    const names = resources.filter((r) => r.name.startsWith("plain-")).map((r) => r.type);
    expect(names.filter((type) => /ses|sns/.test(type))).toEqual([]);
  });

  it("declares the identity with Easy DKIM, MAIL FROM, a TLS-requiring configuration set and its event destination", async () => {
    const { find } = await build({ region, mailDomain: "mail.example.com" }, "mail");
    expect(find("mail-identity").inputs).toMatchObject({
      emailIdentity: "mail.example.com",
      configurationSetName: settings.email.configurationSetName,
      dkimSigningAttributes: { nextSigningKeyLength: "RSA_2048_BIT" },
    });
    expect(find("mail-mail-from").inputs.mailFromDomain).toBe(
      `${settings.email.mailFromSubdomain}.mail.example.com`,
    );
    expect(find("mail-configuration-set").inputs.deliveryOptions).toEqual({ tlsPolicy: "REQUIRE" });
    expect(find("mail-event-destination").inputs.eventDestination).toEqual({
      enabled: true,
      matchingEventTypes: ["BOUNCE", "COMPLAINT"],
      snsDestination: { topicArn: arn.topic },
    });
    expect(find("mail-subscription").inputs).toMatchObject({
      topic: arn.topic,
      protocol: "sqs",
      endpoint: arn.bounceQueue,
      rawMessageDelivery: false,
    });
    // Encrypted at rest like the other queues, standard (SNS delivers to standard queues only).
    for (const queue of ["mail-bounces-queue", "mail-bounces-dlq"]) {
      expect(find(queue).inputs, queue).toMatchObject({ sqsManagedSseEnabled: true, fifoQueue: false });
    }
    expect(find("mail-bounces-queue").inputs.maxMessageSize).toBe(
      settings.queues.deadLetterMaximumMessageSizeBytes,
    );
  });

  it("lets only the configuration set publish to the topic, and only the topic send to the bounce queue, over TLS", async () => {
    const { statements } = await build({ region, mailDomain: "mail.example.com" }, "policies");
    expect(statements("mail-topic-policy")).toEqual([
      {
        Sid: "AllowSesConfigurationSet",
        Effect: "Allow",
        Principal: { Service: "ses.amazonaws.com" },
        Action: "sns:Publish",
        Resource: arn.topic,
        Condition: { ArnEquals: { "aws:SourceArn": arn.configurationSet } },
      },
    ]);
    expect(statements("mail-bounces-queue-policy")).toEqual([
      {
        Sid: "AllowSesEventsTopic",
        Effect: "Allow",
        Principal: { Service: "sns.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: arn.bounceQueue,
        Condition: { ArnEquals: { "aws:SourceArn": arn.topic } },
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "sqs:*",
        Resource: arn.bounceQueue,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    expect(statements("mail-bounces-dlq-policy").map((s) => s.Sid)).toEqual(["DenyInsecureTransport"]);
  });

  it("lets the consumer send through the identity and configuration set only, and consume the bounce pair", async () => {
    const { statements } = await build(
      { region, mailDomain: "mail.example.com", consumerPrincipals: [`arn:aws:iam::${ACCOUNT}:role/worker`] },
      "iam",
    );
    const consumer = statements("consumer");
    const bySid = Object.fromEntries(consumer.map((s) => [s.Sid, s]));
    expect(bySid.SendWelcomeEmails).toEqual({
      Sid: "SendWelcomeEmails",
      Effect: "Allow",
      Action: ["ses:SendEmail", "ses:SendRawEmail"],
      Resource: [arn.identity, arn.configurationSet],
    });
    expect(bySid.ConsumeSesEvents).toEqual({
      Sid: "ConsumeSesEvents",
      Effect: "Allow",
      Action: [
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "sqs:ReceiveMessage",
      ],
      Resource: [arn.bounceQueue],
    });
    expect(bySid.DeadLetterSesEvents).toEqual({
      Sid: "DeadLetterSesEvents",
      Effect: "Allow",
      Action: ["sqs:GetQueueUrl", "sqs:SendMessage"],
      Resource: [arn.bounceDlq],
    });
    for (const statement of consumer.filter((s) => s.Effect === "Allow")) {
      expect(JSON.stringify([statement.Action, statement.Resource]), statement.Sid).not.toContain("*");
    }
  });

  it("exports the bounce queue, configuration set, domain and the DNS records for its owner", async () => {
    const { infra } = await build({ region, mailDomain: "mail.example.com" }, "outputs");
    expect(await resolvedValue(infra.outputs.bounceQueueUrl)).toBe(
      `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${settings.email.bounceQueueName}`,
    );
    expect(await resolvedValue(infra.outputs.sesConfigurationSetName)).toBe(
      settings.email.configurationSetName,
    );
    expect(await resolvedValue(infra.outputs.mailDomain)).toBe("mail.example.com");
    // Each task's share of the account's rate, from the same settings the consumer defaults to.
    expect(await resolvedValue(infra.outputs.mailRatePerSecond)).toBe(
      settings.email.accountSendRatePerSecond / settings.email.maxConsumerTasks,
    );
    const records = await resolvedValue(infra.outputs.mailDnsRecords);
    expect(records).toEqual([
      { name: "tokena._domainkey.mail.example.com", type: "CNAME", value: "tokena.dkim.amazonses.com" },
      { name: "tokenb._domainkey.mail.example.com", type: "CNAME", value: "tokenb.dkim.amazonses.com" },
      { name: "tokenc._domainkey.mail.example.com", type: "CNAME", value: "tokenc.dkim.amazonses.com" },
      { name: "bounce.mail.example.com", type: "MX", value: `10 feedback-smtp.${region}.amazonses.com` },
      { name: "bounce.mail.example.com", type: "TXT", value: "v=spf1 include:amazonses.com ~all" },
      { name: "_dmarc.mail.example.com", type: "TXT", value: "v=DMARC1; p=none" },
    ]);
  });

  it("rejects a bad domain, set name or rate with one sentence each", () => {
    setStackConfig({ mailDomain: "Not A Domain", configurationSetName: "a b", maxConsumerTasks: 0 });
    try {
      readInfraConfig(new pulumi.Config("sqs-messaging"));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InfraConfigError);
      const problems = (error as InfraConfigError).problems.join("\n");
      expect(problems).toContain("sqs-messaging:mailDomain");
      expect(problems).toContain("sqs-messaging:configurationSetName");
      expect(problems).toContain("sqs-messaging:maxConsumerTasks");
    }
  });
});
