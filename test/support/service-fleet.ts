/**
 * The consumer fleet's Pulumi program under mocks, shared by the tests of each service component:
 * building a stack from its config, waiting until every fleet resource has registered, and finding
 * a recorded resource by its derived name.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll } from "vitest";
import { readInfraConfig } from "../../infra-pulumi/config.js";
import { createInfrastructure, type Infrastructure } from "../../infra-pulumi/program.js";
import { type RecordedResource, registered, setStackConfig } from "./pulumi-mocks.js";
import { prodLikeConfig } from "./service-config.js";

export function build(config: Record<string, unknown>, name: string): Infrastructure {
  setStackConfig(config);
  return createInfrastructure(readInfraConfig(new pulumi.Config("sqs-messaging")), name);
}

/** Waits for every resource of a fleet (and the queue pair under it) to register. */
export async function settle(infra: Infrastructure): Promise<void> {
  const f = infra.fleet;
  await registered(
    infra.queues.queue,
    infra.table?.table,
    f?.service.repository,
    f?.service.lifecyclePolicy,
    f?.service.cluster,
    f?.service.logGroup,
    f?.service.taskRole,
    f?.service.taskRolePolicy,
    f?.service.executionRole,
    f?.service.executionRolePolicy,
    f?.service.taskDefinition,
    f?.service.service,
    f?.autoscaling.target,
    f?.autoscaling.backlogPolicy,
    f?.autoscaling.wakePolicy,
    f?.autoscaling.wakeAlarm,
    f?.alarms?.topic,
    f?.alarms?.emailSubscription,
    f?.alarms?.deadLetters,
    f?.alarms?.oldestMessage,
    f?.alarms?.runningBelowDesired,
    f?.alarms?.consumerPaused,
    f?.alarms?.handlerFailures,
  );
}

/** Finds the resource `${name}-${suffix}` among those the mocks recorded. */
export const recordedOf =
  (resources: RecordedResource[]) =>
  (name: string) =>
  (suffix: string): RecordedResource => {
    const found = resources.find((r) => r.name === `${name}-${suffix}`);
    if (!found) throw new Error(`no ${name}-${suffix}; have ${resources.map((r) => r.name).join(", ")}`);
    return found;
  };

/**
 * The prod-like fleet a component's test file reads: built once before the file's tests, its
 * resources found by suffix (`find("task-policy")` is `prod-task-policy`).
 */
export function prodLikeFleet(resources: RecordedResource[]): {
  readonly find: (suffix: string) => RecordedResource;
  readonly infra: Infrastructure;
} {
  let infra: Infrastructure | undefined;
  beforeAll(async () => {
    infra = build(prodLikeConfig, "prod");
    await settle(infra);
  });
  return {
    find: recordedOf(resources)("prod"),
    get infra() {
      if (!infra) throw new Error("the prod-like fleet is built in beforeAll, before the tests");
      return infra;
    },
  };
}
