/** The SES outputs reach the consumer: resolved from the stack, and the default sender. */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONSUMER_SETTINGS } from "../../src/cli/consume-flags.js";
import { projectRoot } from "../../src/config/paths.js";
import { DEFAULT_MAIL_FROM, defaultMailFrom } from "../../src/consumer/mail/mailer.js";
import { writeOutputs } from "../../src/local/stack.js";
import { loadConsumerConfig } from "../../src/stack/consumer-config.js";

describe("SES stack outputs", () => {
  it("are resolved into the consumer's configuration: bounce queue, configuration set, domain, per-task rate", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "mail-outputs-"));
    const endpoint = "http://127.0.0.1:4566";
    await writeOutputs(join(stateDir, "outputs.json"), {
      queueUrl: `${endpoint}/000000000000/q`,
      queueArn: "arn:aws:sqs:us-east-1:000000000000:q",
      deadLetterQueueUrl: `${endpoint}/000000000000/q-dlq`,
      deadLetterQueueArn: "arn:aws:sqs:us-east-1:000000000000:q-dlq",
      region: "us-east-1",
      endpoint,
      bounceQueueUrl: `${endpoint}/000000000000/q-ses-events`,
      sesConfigurationSetName: "welcome",
      mailDomain: "mail.example.com",
      mailRatePerSecond: 3.5,
    });
    const config = await loadConsumerConfig(
      { source: "local", stateDir, mailer: "ses" },
      {},
      CONSUMER_SETTINGS,
      projectRoot,
    );
    expect(config.queue.bounceQueueUrl).toBe(`${endpoint}/000000000000/q-ses-events`);
    expect(config.mail).toMatchObject({
      sesConfigurationSet: "welcome",
      senderDomain: "mail.example.com",
      ratePerSecond: 3.5,
    });
  });

  it("a stack with an SES domain sends from it by default", () => {
    expect(defaultMailFrom("mail.example.com")).toBe("Cadastro <no-reply@mail.example.com>");
    expect(defaultMailFrom(undefined)).toBe(DEFAULT_MAIL_FROM);
  });
});
