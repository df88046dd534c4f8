import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { projectRoot } from "../../src/config/paths.js";
import { QueueResolutionError } from "../../src/errors.js";
import type { StackOutputs } from "../../src/stack/outputs.js";
import { fromQueueUrl, type ResolveOptions, resolveQueue } from "../../src/stack/resolve.js";
import { fakeCli } from "../support/fake-cli.js";

const outputs: StackOutputs = {
  queueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations",
  queueArn: "arn:aws:sqs:eu-west-1:123456789012:user-registrations",
  deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/user-registrations-dlq",
  deadLetterQueueArn: "arn:aws:sqs:eu-west-1:123456789012:user-registrations-dlq",
  region: "eu-west-1",
};

/** What `terraform output -json` prints for the same outputs. */
function terraformJson(values: Record<string, unknown>): string {
  const entries = Object.entries(values).map(([name, value]) => [
    name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
    { sensitive: false, type: "string", value },
  ]);
  return JSON.stringify(Object.fromEntries(entries));
}

let stateDir: string;
let savedPath: string | undefined;

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "resolve-"));
  savedPath = process.env.PATH;
});
afterEach(() => {
  process.env.PATH = savedPath;
});

function options(overrides: Partial<ResolveOptions> = {}): ResolveOptions {
  return { source: "local", stateDir, projectRoot, ...overrides };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(QueueResolutionError);
    return error as Error;
  }
  throw new Error("expected a rejection");
}

describe("queue resolution", () => {
  it("lets an explicit queue URL win over every source", async () => {
    const location = await resolveQueue(options({ queueUrl: outputs.queueUrl, source: "pulumi" }));
    expect(location).toEqual({ queueUrl: outputs.queueUrl, region: "eu-west-1", source: "queue-url" });
  });

  it("treats a loopback queue URL as the local emulator", () => {
    expect(fromQueueUrl("http://127.0.0.1:4566/000000000000/q")).toEqual({
      queueUrl: "http://127.0.0.1:4566/000000000000/q",
      endpoint: "http://127.0.0.1:4566",
      source: "queue-url",
    });
    expect(() => fromQueueUrl("not a url")).toThrow(/is not a URL/);
  });

  describe("local", () => {
    it("reads the outputs the local stack wrote", async () => {
      const local = { ...outputs, endpoint: "http://127.0.0.1:4566" };
      await writeFile(join(stateDir, "outputs.json"), JSON.stringify(local));
      expect(await resolveQueue(options())).toEqual({
        queueUrl: local.queueUrl,
        deadLetterQueueUrl: local.deadLetterQueueUrl,
        region: "eu-west-1",
        endpoint: "http://127.0.0.1:4566",
        source: "local",
      });
    });

    it("says to run `npm run local` when there is no local stack", async () => {
      const error = await rejection(resolveQueue(options()));
      expect(error.message).toContain("No local stack found");
      expect(error.message).toContain("npm run local");
    });

    it("names the missing outputs and the ones that exist", async () => {
      await writeFile(
        join(stateDir, "outputs.json"),
        JSON.stringify({ queueUrl: outputs.queueUrl, region: "x" }),
      );
      const error = await rejection(resolveQueue(options()));
      expect(error.message).toContain('has no output "queueArn", "deadLetterQueueUrl", "deadLetterQueueArn"');
      expect(error.message).toContain("it has: queueUrl, region");
    });
  });

  describe("pulumi", () => {
    it("runs `pulumi stack output --json --show-secrets --stack NAME` from the project root", async () => {
      const pulumi = await fakeCli("pulumi", {
        stdout: JSON.stringify({ ...outputs, producerPolicyArn: "arn:x" }),
      });
      process.env.PATH = `${pulumi.dir}${delimiter}${savedPath}`;
      const location = await resolveQueue(options({ source: "pulumi", stack: "dev" }));
      expect(location).toMatchObject({ queueUrl: outputs.queueUrl, region: "eu-west-1", source: "pulumi" });
      expect(await pulumi.calls()).toEqual([
        { cwd: projectRoot, args: ["stack", "output", "--json", "--show-secrets", "--stack", "dev"] },
      ]);
    });

    it("uses the selected stack when none is named", async () => {
      const pulumi = await fakeCli("pulumi", { stdout: JSON.stringify(outputs) });
      process.env.PATH = `${pulumi.dir}${delimiter}${savedPath}`;
      await resolveQueue(options({ source: "pulumi" }));
      expect((await pulumi.calls())[0]?.args).toEqual(["stack", "output", "--json", "--show-secrets"]);
    });

    it("says how to install Pulumi or bypass it when the CLI is missing", async () => {
      process.env.PATH = await mkdtemp(join(tmpdir(), "empty-path-"));
      const error = await rejection(resolveQueue(options({ source: "pulumi", stack: "dev" })));
      expect(error.message).toContain("The Pulumi CLI is not installed");
      expect(error.message).toContain("SQS_QUEUE_URL");
    });

    it("passes on Pulumi's own complaint and the fix when the stack does not exist", async () => {
      const pulumi = await fakeCli("pulumi", {
        stderr: "error: no stack named 'prod' found\n",
        exitCode: 255,
      });
      process.env.PATH = `${pulumi.dir}${delimiter}${savedPath}`;
      const error = await rejection(resolveQueue(options({ source: "pulumi", stack: "prod" })));
      expect(error.message).toContain("no stack named 'prod' found");
      expect(error.message).toContain("pulumi up");
    });

    it("lists the outputs a stack has when the queue is not among them", async () => {
      const pulumi = await fakeCli("pulumi", { stdout: JSON.stringify({ bucketName: "b" }) });
      process.env.PATH = `${pulumi.dir}${delimiter}${savedPath}`;
      const error = await rejection(resolveQueue(options({ source: "pulumi", stack: "dev" })));
      expect(error.message).toContain('Pulumi stack "dev" has no output "queueUrl"');
      expect(error.message).toContain("it has: bucketName");
    });
  });

  describe("terraform", () => {
    it("runs `terraform -chdir=infra-terraform output -json` and maps snake_case names", async () => {
      const terraform = await fakeCli("terraform", { stdout: terraformJson({ ...outputs, endpoint: null }) });
      process.env.PATH = `${terraform.dir}${delimiter}${savedPath}`;
      const location = await resolveQueue(options({ source: "terraform" }));
      expect(location).toEqual({
        queueUrl: outputs.queueUrl,
        deadLetterQueueUrl: outputs.deadLetterQueueUrl,
        region: "eu-west-1",
        source: "terraform",
      });
      expect(await terraform.calls()).toEqual([
        { cwd: projectRoot, args: ["-chdir=infra-terraform", "output", "-json"] },
      ]);
    });

    it("runs in another working directory when one is given", async () => {
      const terraform = await fakeCli("terraform", { stdout: terraformJson(outputs) });
      process.env.PATH = `${terraform.dir}${delimiter}${savedPath}`;
      await resolveQueue(options({ source: "terraform", terraformDir: "/tmp/elsewhere" }));
      expect((await terraform.calls())[0]?.args).toEqual(["-chdir=/tmp/elsewhere", "output", "-json"]);
    });

    it("says to apply first when the state has no outputs", async () => {
      const terraform = await fakeCli("terraform", { stdout: "{}\n" });
      process.env.PATH = `${terraform.dir}${delimiter}${savedPath}`;
      const error = await rejection(resolveQueue(options({ source: "terraform" })));
      expect(error.message).toContain("has no outputs");
      expect(error.message).toContain("terraform -chdir=infra-terraform apply");
    });

    it("names missing outputs in Terraform's snake_case", async () => {
      const terraform = await fakeCli("terraform", { stdout: terraformJson({ queueUrl: outputs.queueUrl }) });
      process.env.PATH = `${terraform.dir}${delimiter}${savedPath}`;
      const error = await rejection(resolveQueue(options({ source: "terraform" })));
      expect(error.message).toContain('"queue_arn"');
      expect(error.message).toContain("it has: queue_url");
    });

    it("says how to install Terraform when it is missing", async () => {
      process.env.PATH = await mkdtemp(join(tmpdir(), "empty-path-"));
      const error = await rejection(resolveQueue(options({ source: "terraform" })));
      expect(error.message).toContain("Terraform is not installed");
    });
  });
});
