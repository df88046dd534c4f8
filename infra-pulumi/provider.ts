import * as aws from "@pulumi/aws";
import type { InfraConfig } from "./config.js";

/** Dummy keys for an emulator endpoint: it accepts any, and they never reach AWS. */
const EMULATOR_KEYS = { accessKey: "local", secretKey: "local" };

/**
 * The one AWS provider every resource uses (default providers are disabled in Pulumi.yaml, so
 * nothing can escape the assumed role by accident).
 */
export function createProvider(name: string, config: InfraConfig): aws.Provider {
  return new aws.Provider(name, {
    region: config.region,
    ...(config.assumeRole
      ? {
          assumeRoles: [
            {
              roleArn: config.assumeRole.roleArn,
              sessionName: config.assumeRole.sessionName,
              ...(config.assumeRole.externalId ? { externalId: config.assumeRole.externalId } : {}),
            },
          ],
        }
      : {}),
    defaultTags: { tags: config.defaultTags },
    ...(config.endpoint
      ? {
          endpoints: [{ sqs: config.endpoint }],
          ...EMULATOR_KEYS,
          skipCredentialsValidation: true,
          skipRequestingAccountId: true,
          skipMetadataApiCheck: true,
          skipRegionValidation: true,
        }
      : {}),
  });
}
