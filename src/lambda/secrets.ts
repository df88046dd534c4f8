/**
 * The function's two secrets (the digest key, the SMTP URL), read from Secrets Manager by ARN.
 * The caller reads them once per container (src/lambda/index.ts): every invocation after the first
 * reuses them, and a rotated secret reaches the function with its next cold start.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { ConfigurationError } from "../errors.js";

/** The secret's string value; one line naming the variable and the fix when it cannot be read. */
export async function readSecret(
  client: Pick<SecretsManagerClient, "send">,
  arn: string,
  variable: string,
): Promise<string> {
  let value: string | undefined;
  try {
    ({ SecretString: value } = await client.send(new GetSecretValueCommand({ SecretId: arn })));
  } catch (error) {
    const name = error instanceof Error ? error.name : "Error";
    throw new ConfigurationError(
      `Could not read the secret ${variable}=${arn} (${name}): grant the function's role secretsmanager:GetSecretValue on it (and kms:Decrypt on its key), or fix the ARN.`,
      { cause: error },
    );
  }
  if (!value) {
    throw new ConfigurationError(
      `The secret ${variable}=${arn} has no string value: store the value as a string (not binary).`,
    );
  }
  return value.trim();
}
