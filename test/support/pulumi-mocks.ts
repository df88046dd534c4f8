/**
 * Pulumi mocks that record every resource the program declares. Install them (and the config)
 * before the program is imported: a static import would run the program first.
 */
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: provider inputs are untyped in mocks.
  readonly inputs: any;
  /** The state the mock answered with: the inputs plus computed outputs (arn, url, name). */
  // biome-ignore lint/suspicious/noExplicitAny: as untyped as the inputs.
  readonly outputs: any;
  readonly provider?: string;
  /** The `ignoreChanges` resource option, as the engine received it. */
  readonly ignoreChanges?: readonly string[];
  /** The `import` resource option's id (the engine passes it to the mock as `id`). */
  readonly importId?: string;
}

function state(type: string, name: string, inputs: Record<string, unknown>, region: string) {
  switch (type) {
    case "aws:sqs/queue:Queue": {
      const queueName = String(inputs.name);
      const url = `https://sqs.${region}.amazonaws.com/${ACCOUNT}/${queueName}`;
      return {
        id: url,
        state: { ...inputs, url, arn: `arn:aws:sqs:${region}:${ACCOUNT}:${queueName}`, region },
      };
    }
    case "aws:iam/policy:Policy":
      return { id: name, state: { ...inputs, arn: `arn:aws:iam::${ACCOUNT}:policy/${name}` } };
    case "aws:dynamodb/table:Table":
      return {
        id: String(inputs.name),
        state: { ...inputs, arn: `arn:aws:dynamodb:${region}:${ACCOUNT}:table/${String(inputs.name)}` },
      };
    case "aws:iam/openIdConnectProvider:OpenIdConnectProvider":
      return {
        id: name,
        state: {
          ...inputs,
          arn: `arn:aws:iam::${ACCOUNT}:oidc-provider/${String(inputs.url).replace("https://", "")}`,
        },
      };
    case "aws:iam/role:Role":
      return { id: name, state: { ...inputs, name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` } };
    // The consumer fleet.
    case "aws:ecr/repository:Repository": {
      const repo = String(inputs.name);
      return {
        id: repo,
        state: {
          ...inputs,
          arn: `arn:aws:ecr:${region}:${ACCOUNT}:repository/${repo}`,
          repositoryUrl: `${ACCOUNT}.dkr.ecr.${region}.amazonaws.com/${repo}`,
        },
      };
    }
    case "aws:ecs/cluster:Cluster":
      return {
        id: String(inputs.name),
        state: { ...inputs, arn: `arn:aws:ecs:${region}:${ACCOUNT}:cluster/${String(inputs.name)}` },
      };
    case "aws:cloudwatch/logGroup:LogGroup":
      return {
        id: String(inputs.name),
        state: { ...inputs, arn: `arn:aws:logs:${region}:${ACCOUNT}:log-group:${String(inputs.name)}` },
      };
    case "aws:ecs/taskDefinition:TaskDefinition":
      return {
        id: String(inputs.family),
        state: {
          ...inputs,
          revision: 1,
          arn: `arn:aws:ecs:${region}:${ACCOUNT}:task-definition/${String(inputs.family)}:1`,
        },
      };
    case "aws:ecs/service:Service":
      return {
        id: `arn:aws:ecs:${region}:${ACCOUNT}:service/${String(inputs.name)}`,
        state: { ...inputs },
      };
    case "aws:appautoscaling/policy:Policy":
      return {
        id: String(inputs.name),
        state: {
          ...inputs,
          arn: `arn:aws:autoscaling:${region}:${ACCOUNT}:scalingPolicy:00000000-0000-0000-0000-000000000000:resource/ecs/${String(inputs.resourceId)}:policyName/${String(inputs.name)}`,
        },
      };
    case "aws:cloudwatch/metricAlarm:MetricAlarm":
      return {
        id: String(inputs.name),
        state: { ...inputs, arn: `arn:aws:cloudwatch:${region}:${ACCOUNT}:alarm:${String(inputs.name)}` },
      };
    case "aws:sesv2/configurationSet:ConfigurationSet": {
      const setName = String(inputs.configurationSetName);
      return {
        id: setName,
        state: { ...inputs, arn: `arn:aws:ses:${region}:${ACCOUNT}:configuration-set/${setName}` },
      };
    }
    case "aws:sesv2/emailIdentity:EmailIdentity": {
      const identity = String(inputs.emailIdentity);
      return {
        id: identity,
        state: {
          ...inputs,
          arn: `arn:aws:ses:${region}:${ACCOUNT}:identity/${identity}`,
          dkimSigningAttributes: {
            ...(inputs.dkimSigningAttributes as object),
            tokens: ["tokena", "tokenb", "tokenc"],
          },
        },
      };
    }
    case "aws:sns/topic:Topic": {
      const arn = `arn:aws:sns:${region}:${ACCOUNT}:${String(inputs.name)}`;
      return { id: arn, state: { ...inputs, arn } };
    }
    case "aws:sns/topicSubscription:TopicSubscription":
      return { id: `${inputs.topic}:${name}`, state: { ...inputs, arn: `${inputs.topic}:${name}` } };
    // The consumer function.
    case "aws:lambda/function:Function": {
      const functionName = String(inputs.name);
      return {
        id: functionName,
        state: { ...inputs, arn: `arn:aws:lambda:${region}:${ACCOUNT}:function:${functionName}` },
      };
    }
    case "aws:lambda/eventSourceMapping:EventSourceMapping":
      return {
        id: "00000000-0000-0000-0000-000000000000",
        state: {
          ...inputs,
          arn: `arn:aws:lambda:${region}:${ACCOUNT}:event-source-mapping:00000000-0000-0000-0000-000000000000`,
        },
      };
    default:
      return { id: `${name}-id`, state: inputs };
  }
}

let region = "us-east-1";

/**
 * Replaces the stack config (keys without the project prefix). Mocks stay installed: installing
 * them again would forget resources still registering.
 */
export function setStackConfig(config: Record<string, unknown>, project = "sqs-messaging"): void {
  region = typeof config.region === "string" ? config.region : "us-east-1";
  pulumi.runtime.setAllConfig(
    Object.fromEntries(
      Object.entries(config).map(([key, value]) => [
        `${project}:${key}`,
        typeof value === "string" ? value : JSON.stringify(value),
      ]),
    ),
    config.assumeRoleExternalId ? [`${project}:assumeRoleExternalId`] : [],
  );
}

/** The parts of the engine's RegisterResourceRequest read here. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getIgnorechangesList(): string[];
}

/** Sets the stack config and installs recording mocks: once per test file. */
export function installMocks(config: Record<string, unknown>, project = "sqs-messaging"): RecordedResource[] {
  const resources: RecordedResource[] = [];
  // Resource options never reach newResource: read them off the request the engine receives.
  const ignoreChanges = new Map<string, string[]>();
  setStackConfig(config, project);
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        const answer = state(args.type, args.name, args.inputs, region);
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          outputs: answer.state,
          provider: args.provider,
          ignoreChanges: ignoreChanges.get(`${args.type}::${args.name}`) ?? [],
          ...(args.id ? { importId: args.id } : {}),
        });
        return answer;
      },
      call: (args) => args.inputs,
    },
    project,
    "test",
    false, // not a preview: outputs resolve, so apply() runs
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(request: RegisterRequest, callback: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    ignoreChanges.set(`${request.getType()}::${request.getName()}`, request.getIgnorechangesList());
    return register(request, callback);
  };
  return resources;
}

/** Pulumi's marker of a secret value in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecret(value: unknown): boolean {
  return typeof value === "object" && value !== null && SECRET_SIG in value;
}

/** A provider input as a plain value: unwrapped when secret, parsed when JSON-encoded. */
export function decoded(value: unknown): unknown {
  if (isSecret(value)) return decoded((value as { value: unknown }).value);
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The value of an Output (mocks run with preview off, so it always resolves). */
export function resolvedValue<T>(output: pulumi.Input<T> | undefined): Promise<T | undefined> {
  return new Promise((resolve) => {
    if (output === undefined) resolve(undefined);
    else pulumi.output(output).apply((value) => resolve(value as T));
  });
}

/** Resolves once every given resource has been registered with the (mock) engine. */
export async function registered(...resources: (pulumi.Resource | undefined)[]): Promise<string[]> {
  return Promise.all(
    resources.filter((r) => r !== undefined).map((r) => resolvedValue(r.urn) as Promise<string>),
  );
}
