/**
 * The adoption map of a Pulumi stack (config key `adopt`, written by `npm run infra:adopt`): which
 * resources of the program take over a resource that already exists, by the id Pulumi imports it
 * with, and, for step 1 of an adoption, the live values the resource must be declared with. One
 * schema, read by the Pulumi program (infra-pulumi/config.ts) and written by src/ops/adopt.ts.
 *
 * Why two steps: Pulumi refuses an import whose inputs differ from the live resource. Step 1
 * declares the adopted queue with its live attributes (`inputs`), so the import is exact; step 2
 * (`pulumi config rm adopt`) drops the map, and the next `pulumi up` moves the queue to the
 * project's values as an in-place update (an import id on a resource already in the state is
 * not needed any more).
 */
import { z } from "zod";

/** The config key (in the project's namespace: `sqs-messaging:adopt`). */
export const ADOPT_CONFIG_KEY = "adopt";

/** Queue attributes step 1 may declare with their live values (Pulumi input names). */
export const liveQueueInputsSchema = z
  .strictObject({
    delaySeconds: z.number().int(),
    maxMessageSize: z.number().int(),
    messageRetentionSeconds: z.number().int(),
    receiveWaitTimeSeconds: z.number().int(),
    visibilityTimeoutSeconds: z.number().int(),
    sqsManagedSseEnabled: z.boolean().optional(),
    kmsMasterKeyId: z.string().optional(),
    kmsDataKeyReusePeriodSeconds: z.number().int().optional(),
    fifoQueue: z.boolean(),
    contentBasedDeduplication: z.boolean(),
  })
  .partial();

export type LiveQueueInputs = z.infer<typeof liveQueueInputsSchema>;

export const adoptedResourceSchema = z.strictObject({
  /** The id Pulumi imports the resource with (a queue's is its URL). */
  id: z.string().min(1),
  /** Step 1 only: live values that replace the program's own inputs for the import. */
  inputs: liveQueueInputsSchema.optional(),
});

/** Logical resource name (`registrations-queue`) → how it is adopted. */
export const adoptionSchema = z.record(z.string().min(1), adoptedResourceSchema);

export type Adoption = z.infer<typeof adoptionSchema>;
export type AdoptedResource = z.infer<typeof adoptedResourceSchema>;

/**
 * Properties step 1 leaves to step 2. The provider's default tags are the project's, not the
 * original's (its tags are provider defaults too, invisible to the resource's own inputs); Pulumi
 * would otherwise refuse the import over them. Step 2 writes the project's tags in place.
 */
export const STEP_ONE_IGNORED = ["tags", "tagsAll"] as const;
