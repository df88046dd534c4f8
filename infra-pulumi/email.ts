/**
 * Email through Amazon SES; infra-terraform/email.tf declares the same (a test compares
 * the two plans). A domain identity with Easy DKIM and a custom MAIL FROM subdomain (so SPF aligns
 * with the domain), a configuration set that requires TLS to the receiving server, and its bounce
 * and complaint events published to an SNS topic only that configuration set may publish to. The
 * topic delivers them in SNS's JSON envelope (not raw: the envelope names the topic; the bounce
 * handler reads both) to the bounce queue, which only that topic may send to, and which has its
 * own dead-letter queue, so unreadable events never mix with the registrations' poison messages.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { bounceQueueSettings } from "../src/config/bounce-queue.js";
import type { QueueSettings } from "../src/config/queue-settings.js";
import type { Settings } from "../src/config/settings.js";
import { sesEventsTopicPolicy } from "./policies.js";
import { QueuePair } from "./queue-pair.js";

export interface MailDeliveryArgs {
  /** The `email` settings, with a non-empty `mailDomain`. */
  readonly settings: Settings["email"];
  /** The registrations' queue settings: the bounce pair takes its timeouts and redrive count. */
  readonly queue: QueueSettings;
  /** Customer-managed KMS key for the topic and the bounce pair; SSE-SQS (and no topic key) when absent. */
  readonly kmsKeyArn?: string;
  /** The region of SES (its MAIL FROM MX host is regional). */
  readonly region: pulumi.Input<string>;
}

/** One DNS record the domain's owner must publish. */
export interface DnsRecord {
  readonly name: string;
  readonly type: "CNAME" | "MX" | "TXT";
  readonly value: string;
}

/** The records the domain's owner publishes: Easy DKIM's three CNAMEs, MAIL FROM, a first DMARC. */
export function mailDnsRecords(
  domain: string,
  mailFromDomain: string,
  region: string,
  dkimTokens: readonly string[],
): DnsRecord[] {
  return [
    ...dkimTokens.map((token) => ({
      name: `${token}._domainkey.${domain}`,
      type: "CNAME" as const,
      value: `${token}.dkim.amazonses.com`,
    })),
    { name: mailFromDomain, type: "MX", value: `10 feedback-smtp.${region}.amazonses.com` },
    { name: mailFromDomain, type: "TXT", value: "v=spf1 include:amazonses.com ~all" },
    { name: `_dmarc.${domain}`, type: "TXT", value: "v=DMARC1; p=none" },
  ];
}

export class MailDelivery extends pulumi.ComponentResource {
  readonly configurationSet: aws.sesv2.ConfigurationSet;
  readonly identity: aws.sesv2.EmailIdentity;
  readonly mailFrom: aws.sesv2.EmailIdentityMailFromAttributes;
  readonly topic: aws.sns.Topic;
  readonly topicPolicy: aws.sns.TopicPolicy;
  readonly eventDestination: aws.sesv2.ConfigurationSetEventDestination;
  readonly bounceQueues: QueuePair;
  readonly subscription: aws.sns.TopicSubscription;
  readonly dnsRecords: pulumi.Output<DnsRecord[]>;

  constructor(name: string, args: MailDeliveryArgs, options?: pulumi.ComponentResourceOptions) {
    super("sqs-messaging:index:MailDelivery", name, {}, options);
    const s = args.settings;
    if (s.mailDomain === "") throw new Error("MailDelivery needs a mailDomain (settings email.mailDomain).");
    const child = { parent: this };

    this.configurationSet = new aws.sesv2.ConfigurationSet(
      `${name}-configuration-set`,
      {
        configurationSetName: s.configurationSetName,
        // Welcome emails carry personal data: never in clear text between mail servers.
        deliveryOptions: { tlsPolicy: "REQUIRE" },
        reputationOptions: { reputationMetricsEnabled: true },
      },
      child,
    );
    this.identity = new aws.sesv2.EmailIdentity(
      `${name}-identity`,
      {
        emailIdentity: s.mailDomain,
        configurationSetName: this.configurationSet.configurationSetName,
        // Easy DKIM: SES holds the key and gives three CNAME tokens (dnsRecords).
        dkimSigningAttributes: { nextSigningKeyLength: "RSA_2048_BIT" },
      },
      child,
    );
    this.mailFrom = new aws.sesv2.EmailIdentityMailFromAttributes(
      `${name}-mail-from`,
      {
        emailIdentity: this.identity.emailIdentity,
        mailFromDomain: `${s.mailFromSubdomain}.${s.mailDomain}`,
        behaviorOnMxFailure: "USE_DEFAULT_VALUE",
      },
      child,
    );
    // SES cannot use an AWS-managed key (its key policy cannot name SES): the topic is encrypted
    // with the stack's customer-managed key when there is one; events stay in it milliseconds.
    this.topic = new aws.sns.Topic(
      `${name}-topic`,
      {
        name: `${s.configurationSetName}-events`,
        ...(args.kmsKeyArn ? { kmsMasterKeyId: args.kmsKeyArn } : {}),
      },
      child,
    );
    this.topicPolicy = new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      {
        arn: this.topic.arn,
        policy: pulumi
          .all([this.topic.arn, this.configurationSet.arn])
          .apply(([topic, configurationSet]) =>
            JSON.stringify(sesEventsTopicPolicy(topic, configurationSet)),
          ),
      },
      child,
    );
    this.eventDestination = new aws.sesv2.ConfigurationSetEventDestination(
      `${name}-event-destination`,
      {
        configurationSetName: this.configurationSet.configurationSetName,
        eventDestinationName: "bounces-and-complaints",
        eventDestination: {
          enabled: true,
          matchingEventTypes: ["BOUNCE", "COMPLAINT"],
          snsDestination: { topicArn: this.topic.arn },
        },
      },
      child,
    );
    this.bounceQueues = new QueuePair(
      `${name}-bounces`,
      {
        settings: bounceQueueSettings(s, args.queue),
        ...(args.kmsKeyArn ? { kmsKeyArn: args.kmsKeyArn } : {}),
        subscribedTopicArn: this.topic.arn,
      },
      child,
    );
    this.subscription = new aws.sns.TopicSubscription(
      `${name}-subscription`,
      {
        topic: this.topic.arn,
        protocol: "sqs",
        endpoint: this.bounceQueues.queue.arn,
        rawMessageDelivery: false,
      },
      child,
    );
    this.dnsRecords = pulumi
      .all([this.identity.dkimSigningAttributes, this.mailFrom.mailFromDomain, args.region])
      .apply(([dkim, mailFromDomain, region]) =>
        mailDnsRecords(
          s.mailDomain,
          mailFromDomain ?? `${s.mailFromSubdomain}.${s.mailDomain}`,
          region,
          dkim?.tokens ?? [],
        ),
      );
    this.registerOutputs({
      identityArn: this.identity.arn,
      configurationSetName: this.configurationSet.configurationSetName,
      bounceQueueUrl: this.bounceQueues.queue.url,
      dnsRecords: this.dnsRecords,
    });
  }
}
