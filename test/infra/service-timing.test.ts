/**
 * ECS sends SIGTERM, waits the task's stopTimeout, then SIGKILLs. The consumer stops within its
 * shutdown deadline plus about a second (src/cli/consume.ts): the stop timeout must outlast that
 * with a margin, or ECS kills consumers mid-delete on every deployment and scale-in. This fails
 * when either side moves.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { maxTasks, taskSendRate } from "../../infra-pulumi/service/sizing.js";
import { settings } from "../../src/config/settings.js";
import { DEFAULT_SES_RATE_PER_SECOND, MAIL_SENDING } from "../../src/consumer/mail/rate.js";
import { settle } from "../../src/consumer/runtime/options.js";
import { runCli } from "../support/cli.js";

/** What the consumer adds after its deadline (receive grace + flush, "plus about a second"). */
const AFTER_DEADLINE_SECONDS = 1;
/** Headroom for a loaded task (CPU throttled at 0.25 vCPU, slow last deletes). */
const MARGIN_SECONDS = 10;

describe("the task's stop timeout and the consumer's shutdown deadline", () => {
  it("gives the consumer its whole deadline plus a margin before ECS kills it", async () => {
    // The runtime's own default, as it settles its options.
    const libraryDeadlineMs = settle({
      client: {} as SQSClient,
      queueUrl: "http://127.0.0.1:1/000000000000/q",
      handler: async () => {},
    }).shutdownTimeoutMs;
    expect(libraryDeadlineMs).toBeGreaterThan(0);

    // The container runs the CLI without --shutdown-timeout: its default is the deadline that counts.
    const help = await runCli("consume", ["--help"]);
    const cliDefault = /--shutdown-timeout <seconds>[\s\S]*?\(default: (\d+)\)/.exec(help.stdout)?.[1];
    expect(cliDefault, help.stdout).toBeDefined();
    const deadlineSeconds = Math.max(Number(cliDefault), libraryDeadlineMs / 1000);

    const stop = settings.service.stopTimeoutSeconds;
    expect(stop).toBeLessThanOrEqual(120); // Fargate's maximum
    expect(stop).toBeGreaterThanOrEqual(deadlineSeconds + AFTER_DEADLINE_SECONDS + MARGIN_SECONDS);
  }, 30_000);
});

describe("the fleet's size and the consumer's default send rate", () => {
  it("come from the one mail quota: the fleet's task cap is the lone consumer's SES default", () => {
    // A lone `--mailer ses` consumer takes quota ÷ most tasks; a task gets the same as MAIL_RATE_PER_SECOND.
    expect(maxTasks(settings.email)).toBe(MAIL_SENDING.maxTasks);
    expect(taskSendRate(settings.email)).toBe(DEFAULT_SES_RATE_PER_SECOND);
    expect(taskSendRate(settings.email) * maxTasks(settings.email)).toBeLessThanOrEqual(
      settings.email.accountSendRatePerSecond,
    );
  });
});
