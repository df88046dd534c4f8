/**
 * Terraform applied for real on the embedded SQS, counted at the queue. Skipped (visibly) without
 * the Terraform binary.
 *
 * - `npm run tf:local`: apply → produce → consume through `terraform output -json` → destroy.
 * - Adopting the original system: the original's Terraform (test/fixtures/original-terraform,
 *   with the emulator's endpoint and no assumed role: the only changes an offline run needs)
 *   creates `projeto-sqs`; 50 registrations wait in it; `infra:adopt --to terraform --plan` writes
 *   the import and plans it through the replace check; the apply keeps the URL and all 50 and adds
 *   the redrive; the original's plan after the hand-over forgets the queue and deletes nothing; the
 *   project's consumer mails the 50.
 *
 * Both spend most of their minutes waiting on the AWS provider (it re-reads a queue for 25 s after
 * each change and 45 s after a delete), not computing: they run side by side in one file, each
 * with its own stack and folders, so that they hold one of the suite's workers instead of two.
 */
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetQueueAttributesCommand, GetQueueUrlCommand } from "@aws-sdk/client-sqs";
import { describe, it, type TestContext } from "vitest";
import { localOutputsPath, projectRoot } from "../../src/config/paths.js";
import { startLocalStack, writeOutputs } from "../../src/local/stack.js";
import { Terraform } from "../../src/local/terraform.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { cleanEnv, runCli } from "../support/cli.js";
import { copyModule, pluginMirror, terraform } from "../support/terraform.js";

const TOTAL = 50;

/**
 * What a test opened, closed in reverse when it finishes (pass or fail). Concurrent tests take
 * their hooks and `expect` from their own context: the global ones cannot tell them apart.
 */
function cleanupsOf({ onTestFinished }: TestContext): (() => Promise<void> | void)[] {
  const cleanups: (() => Promise<void> | void)[] = [];
  onTestFinished(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  return cleanups;
}

describe.skipIf(!terraform).concurrent("Terraform applied on the embedded SQS", () => {
  it("applies, serves produce/consume through terraform outputs, and destroys", async (context) => {
    const { expect } = context;
    const cleanups = cleanupsOf(context);
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

  it("imports projeto-sqs in place: 50 messages kept, redrive added, the original forgets it, the consumer mails the 50", async (context) => {
    const { expect } = context;
    const cleanups = cleanupsOf(context);
    const stack = await startLocalStack({ port: 0 });
    cleanups.push(() => stack.stop());
    const endpoint = stack.emulator.endpoint;
    const stateDir = mkdtempSync(join(tmpdir(), "adopt-state-"));
    await writeOutputs(localOutputsPath(stateDir), stack.outputs);
    const env = cleanEnv(pluginMirror ? { TF_PLUGIN_MIRROR: pluginMirror } : {});

    // The original system, applied by its own Terraform.
    const original = mkdtempSync(join(tmpdir(), "original-terraform-"));
    cpSync(join(projectRoot, "test", "fixtures", "original-terraform"), original, { recursive: true });
    writeFileSync(join(original, "emulator.tfvars"), `endpoint = "${endpoint}"\nassume_role_arn = null\n`);
    const old = new Terraform({ dir: original, pluginMirror, output: "pipe" });
    const module = copyModule();
    const tf = new Terraform({ dir: module, pluginMirror, output: "pipe" });
    cleanups.push(async () => {
      await old.dispose();
      await tf.dispose();
      rmSync(original, { recursive: true, force: true });
      rmSync(module, { recursive: true, force: true });
    });
    const started = performance.now();
    const lap = (what: string) =>
      console.info(`${what}: ${((performance.now() - started) / 1000).toFixed(1)} s since the start`);
    const ok = async (cli: Terraform, args: string[]) => {
      const result = await cli.run([...args, "-no-color"]); // TF_INPUT=0 is set by Terraform
      expect(result.code, `terraform ${args.join(" ")}:\n${result.stderr}`).toBe(0);
      return result;
    };
    await ok(old, ["init"]);
    await ok(old, ["apply", "-auto-approve", "-var-file=emulator.tfvars"]);
    const url = JSON.parse((await ok(old, ["output", "-json"])).stdout).sqs_queue_url.value as string;
    lap("the original applied");

    const client = createSqsClient({ endpoint, region: "us-west-2" });
    cleanups.push(() => client.destroy());
    const attributes = async () =>
      (await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] })))
        .Attributes ?? {};
    expect(await attributes()).toMatchObject({
      DelaySeconds: "90",
      MaximumMessageSize: "2048",
      MessageRetentionPeriod: "86400",
      ReceiveMessageWaitTimeSeconds: "10",
    });

    const produced = await runCli("produce", ["--queue-url", url, "--count", String(TOTAL), "--json"], {
      env,
    });
    expect(produced.code, produced.stderr).toBe(0);
    expect(JSON.parse(produced.stdout)).toMatchObject({ sent: TOTAL });

    // The adoption: the project's Terraform on the emulator (no IAM, no DynamoDB there).
    writeFileSync(
      join(module, "emulator.tfvars"),
      `endpoint = "${endpoint}"\ncreate_access_policies = false\ncreate_sent_emails_table = false\n`,
    );
    const adopted = await runCli(
      "adopt",
      [
        "--terraform-dir",
        original,
        "--to",
        "terraform",
        "--target-dir",
        module,
        "--plan",
        "--var-file",
        join(module, "emulator.tfvars"),
      ],
      { env },
    );
    expect(adopted.code, adopted.stderr).toBe(0);
    expect(adopted.stdout).toContain("plan checked");
    lap("infra:adopt --plan done");

    // The checked plan, through the project's own replace check, and its import.
    const plan = JSON.parse((await ok(tf, ["show", "-json", "adopt.tfplan"])).stdout);
    const planFile = join(module, "adopt.plan.json");
    writeFileSync(planFile, JSON.stringify(plan));
    const checked = await runCli("replace-check", [planFile], { env });
    expect(checked.code, checked.stderr).toBe(0);
    // biome-ignore lint/suspicious/noExplicitAny: `terraform show -json` of a plan.
    const changes = plan.resource_changes as any[];
    const queueChange = changes.find((c) => c.address === "module.registrations.aws_sqs_queue.main");
    expect(queueChange.change.importing).toEqual({ id: url });
    expect(queueChange.change.actions).toEqual(["update"]);
    expect(changes.filter((c) => c.change.actions.includes("delete"))).toEqual([]);

    await ok(tf, ["apply", "adopt.tfplan"]);
    lap("the adoption applied");

    // The same queue (same URL), the 50 still in it, the redrive to the new dead-letter queue.
    const after = await client.send(new GetQueueUrlCommand({ QueueName: "projeto-sqs" }));
    expect(after.QueueUrl).toBe(url);
    const now = await attributes();
    expect(JSON.parse(now.RedrivePolicy ?? "{}")).toMatchObject({
      deadLetterTargetArn: expect.stringMatching(/:projeto-sqs-dlq$/),
    });
    expect(Number(now.ApproximateNumberOfMessages) + Number(now.ApproximateNumberOfMessagesDelayed)).toBe(
      TOTAL,
    );
    expect(now.MaximumMessageSize).not.toBe("2048"); // moved to the project's value

    // The hand-over (the original's folder) and the consumer (the module's outputs) only read the
    // queue: side by side, each waiting on its own Terraform or child process.
    const handingOver = (async () => {
      // The hand-over: the original's resource block (and its output) replaced by the removed block.
      const removed = /removed \{[\s\S]*?\n\}/.exec(adopted.stdout)?.[0];
      expect(removed).toBeDefined();
      rmSync(join(original, "main.tf"));
      writeFileSync(join(original, "handover.tf"), `${removed}\n`);
      await ok(old, ["plan", "-out=handover.tfplan", "-var-file=emulator.tfvars"]);
      const handover = JSON.parse((await ok(old, ["show", "-json", "handover.tfplan"])).stdout);
      const handoverFile = join(original, "handover.plan.json");
      writeFileSync(handoverFile, JSON.stringify(handover));
      const handoverChecked = await runCli("replace-check", [handoverFile], { env });
      expect(handoverChecked.code, handoverChecked.stderr).toBe(0);
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      const forgotten = (handover.resource_changes as any[]).map((c) => [c.address, c.change.actions]);
      expect(forgotten).toEqual([["aws_sqs_queue.this", ["forget"]]]);
    })();
    const consuming = (async () => {
      // The project's consumer, finding the queue through infra-terraform's outputs, mails the 50.
      // The original's delay (90 s) holds some back for a while: it runs until it has taken 50
      // (fauxqs's counts of delayed messages go stale, so they are no condition to wait on).
      const outbox = mkdtempSync(join(tmpdir(), "adopt-outbox-"));
      const consumed = await runCli(
        "consume",
        [
          "--source",
          "terraform",
          "--terraform-dir",
          module,
          "--max-messages",
          String(TOTAL),
          "--outbox",
          outbox,
          "--state-dir",
          stateDir,
          "--json",
        ],
        { env },
      );
      expect(consumed.code, consumed.stderr).toBe(0);
      expect(JSON.parse(consumed.stdout)).toMatchObject({ processed: TOTAL, deadLettered: 0 });
      expect(readdirSync(outbox).filter((f) => f.endsWith(".eml"))).toHaveLength(TOTAL);
    })();
    // Both settle before the stack stops, whichever fails.
    for (const result of await Promise.allSettled([handingOver, consuming])) {
      if (result.status === "rejected") throw result.reason;
    }
    lap("consumed");
  }, 600_000);
});
