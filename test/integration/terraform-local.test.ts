/**
 * `terraform apply` for real, on the embedded SQS: apply → produce → consume through
 * `terraform output -json` → destroy. Skipped (visibly) without the Terraform binary.
 */
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { localOutputsPath } from "../../src/config/paths.js";
import { startLocalStack, writeOutputs } from "../../src/local/stack.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { copyModule, pluginMirror, terraform } from "../support/terraform.js";

describe.skipIf(!terraform)("npm run tf:local on the embedded SQS", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("applies, serves produce/consume through terraform outputs, and destroys", async () => {
    const stack = await startLocalStack({ port: 0 });
    cleanups.push(() => stack.stop());
    const stateDir = await mkdtemp(join(tmpdir(), "tf-local-state-"));
    await writeOutputs(localOutputsPath(stateDir), stack.outputs);
    const module = copyModule();
    const common = ["--state-dir", stateDir, "--terraform-dir", module];
    const env = cleanEnv(pluginMirror ? { TF_PLUGIN_MIRROR: pluginMirror } : {});

    const applied = await runCli("tf-local", ["apply", ...common], { env });
    expect(applied.code, applied.stderr).toBe(0);
    const seconds = Number(/took ([\d.]+) s/.exec(applied.stdout)?.[1]);
    console.info(`terraform apply on the emulator took ${seconds} s`);
    expect(seconds).toBeGreaterThan(0);
    // The next steps it prints carry the folders given here, so they find this stack.
    expect(applied.stdout).toContain(
      `npm run produce -- --source terraform --state-dir ${stateDir} --terraform-dir ${module} --count 10`,
    );

    const source = ["--source", "terraform", "--terraform-dir", module, "--json"];
    const produced = await runCli("produce", ["--count", "25", ...source], { env });
    expect(produced.code, produced.stderr).toBe(0);
    expect(JSON.parse(produced.stdout)).toMatchObject({
      sent: 25,
      queueUrl: `${stack.emulator.endpoint}/000000000000/user-registrations-terraform`,
    });
    const outbox = await mkdtemp(join(tmpdir(), "tf-outbox-"));
    const consumed = await runCli(
      "consume",
      ["--until-empty", "--outbox", outbox, "--state-dir", stateDir, ...source],
      {
        env,
      },
    );
    expect(consumed.code, consumed.stderr).toBe(0);
    expect(JSON.parse(consumed.stdout)).toMatchObject({ processed: 25, deadLettered: 0 });
    expect((await readdir(outbox)).filter((f) => f.endsWith(".eml"))).toHaveLength(25);

    const destroyed = await runCli("tf-local", ["destroy", ...common], { env });
    expect(destroyed.code, destroyed.stderr).toBe(0);
    console.info(destroyed.stdout.trim().split("\n").at(-1));
    const client = createSqsClient(stack.outputs);
    await expect(
      client.send(new GetQueueUrlCommand({ QueueName: "user-registrations-terraform" })),
    ).rejects.toThrow(/NonExistentQueue|does not exist/);
    client.destroy();
  }, 300_000);
});
