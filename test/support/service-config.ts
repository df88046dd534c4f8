/** Stack configurations of the consumer fleet, shared by the Pulumi and parity tests. */
import { settings } from "../../src/config/settings.js";
import { ACCOUNT } from "./pulumi-mocks.js";

export const SERVICE_REGION = "eu-west-1";
export const serviceImage = (region = SERVICE_REGION) =>
  `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${settings.service.repositoryName}@sha256:${"a".repeat(64)}`;
export const digestKeySecretArn = `arn:aws:secretsmanager:${SERVICE_REGION}:${ACCOUNT}:secret:registrations/digest-key-AbCdEf`;
export const smtpSecretArn = `arn:aws:ssm:${SERVICE_REGION}:${ACCOUNT}:parameter/registrations/smtp-url`;
export const sesIdentityArn = `arn:aws:ses:${SERVICE_REGION}:${ACCOUNT}:identity/example.com`;

/** A production-like stack: the service on, SES, alarms mailed to on-call. */
export const prodLikeConfig: Record<string, unknown> = {
  region: SERVICE_REGION,
  createService: true,
  serviceImage: serviceImage(),
  serviceSubnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
  serviceSecurityGroupIds: ["sg-0123456789abcdef0"],
  serviceDigestKeySecretArn: digestKeySecretArn,
  serviceSesIdentityArn: sesIdentityArn,
  serviceMailFrom: "Cadastro <no-reply@example.com>",
  alarmEmail: "on-call@example.com",
};

/** The same fleet with SMTP (a secret), scale-to-zero, a public IP and no alarm email. */
export const smtpScaleToZeroConfig: Record<string, unknown> = {
  region: SERVICE_REGION,
  createService: true,
  serviceImage: serviceImage(),
  serviceSubnetIds: ["subnet-0123456789abcdef0"],
  serviceSecurityGroupIds: ["sg-0123456789abcdef0"],
  serviceDigestKeySecretArn: digestKeySecretArn,
  serviceMailer: "smtp",
  serviceMailSecretArn: smtpSecretArn,
  serviceMailFrom: "Cadastro <no-reply@example.com>",
  scaleToZero: true,
  assignPublicIp: true,
};

/**
 * The production-like fleet with the stack's own mail part (settings `email`): the tasks send as
 * its identity (no serviceSesIdentityArn) and consume its bounce queue.
 */
export const fleetWithMailConfig: Record<string, unknown> = Object.fromEntries(
  Object.entries({ ...prodLikeConfig, mailDomain: "example.com" }).filter(
    ([key]) => key !== "serviceSesIdentityArn",
  ),
);

/**
 * The consumer on Lambda instead of Fargate (settings `lambda`): the same secrets, mailer and
 * sender as the fleet, no image and no network; the bundle is a placeholder zip
 * (test/support/lambda-bundle.ts).
 */
export const lambdaConfig = (bundlePath: string): Record<string, unknown> => ({
  region: SERVICE_REGION,
  createFunction: true,
  functionBundlePath: bundlePath,
  serviceDigestKeySecretArn: digestKeySecretArn,
  serviceSesIdentityArn: sesIdentityArn,
  serviceMailFrom: "Cadastro <no-reply@example.com>",
  alarmEmail: "on-call@example.com",
});
