import { describe, expect, it } from "vitest";
import { REDRIVE_MARGIN_MS, recordRetentionMs } from "../../src/config/derived.js";
import { readEnvironment } from "../../src/config/env.js";
import { MAIL_SEND_TIMEOUT_DEFAULT_MS } from "../../src/config/limits.js";
import { settings } from "../../src/config/settings.js";
import { chooseStore, defaultSqlitePath } from "../../src/consumer/registrations.js";
import { claimLeaseMs, storeTiming } from "../../src/consumer/store/timing.js";
import { ConfigurationError } from "../../src/errors.js";

const DAY_MS = 24 * 3_600_000;

describe("choosing the sent-email store", () => {
  it("defaults to SQLite in the state folder when the outputs name no table", () => {
    expect(chooseStore({ stateDir: "/s" })).toEqual({ kind: "sqlite", path: defaultSqlitePath("/s") });
  });

  it("defaults to the table when the outputs name one, with its endpoint and region", () => {
    expect(
      chooseStore({
        stateDir: "/s",
        sentEmailsTableName: "t",
        dynamoDbEndpoint: "http://127.0.0.1:1",
        region: "eu-west-1",
      }),
    ).toEqual({ kind: "dynamodb", tableName: "t", endpoint: "http://127.0.0.1:1", region: "eu-west-1" });
  });

  it("refuses SQLite without an explicit path when the stack has a shared table", () => {
    expect(() => chooseStore({ kind: "sqlite", stateDir: "/tmp/x", sentEmailsTableName: "t" })).toThrow(
      ConfigurationError,
    );
    expect(() => chooseStore({ kind: "sqlite", stateDir: "/tmp/x", sentEmailsTableName: "t" })).toThrow(
      /--sent-store/,
    );
    expect(
      chooseStore({ kind: "sqlite", sqlitePath: "/data/s.sqlite", stateDir: "/s", sentEmailsTableName: "t" }),
    ).toEqual({ kind: "sqlite", path: "/data/s.sqlite" });
  });

  it("refuses DynamoDB when the outputs name no table, naming the fix", () => {
    expect(() => chooseStore({ kind: "dynamodb", stateDir: "/s" })).toThrow(/--store sqlite/);
  });

  it("reads SENT_EMAIL_STORE in the one env reader", () => {
    expect(readEnvironment({ SENT_EMAIL_STORE: "dynamodb" }).SENT_EMAIL_STORE).toBe("dynamodb");
    expect(() => readEnvironment({ SENT_EMAIL_STORE: "redis" })).toThrow(/SENT_EMAIL_STORE/);
  });
});

describe("lease and retention from the settings", () => {
  it("the lease is the send timeout plus a margin, never less", () => {
    expect(claimLeaseMs()).toBeGreaterThan(MAIL_SEND_TIMEOUT_DEFAULT_MS);
    expect(claimLeaseMs()).toBeLessThanOrEqual(MAIL_SEND_TIMEOUT_DEFAULT_MS + 5_000);
    expect(claimLeaseMs(1_000)).toBe(1_500);
  });

  it("a record outlives main retention + dead-letter retention + the redrive margin (> 18 days today)", () => {
    const { messageRetentionSeconds, deadLetterRetentionSeconds } = settings.queues;
    expect(recordRetentionMs()).toBe(
      (messageRetentionSeconds + deadLetterRetentionSeconds) * 1000 + REDRIVE_MARGIN_MS,
    );
    expect(recordRetentionMs()).toBeGreaterThan(18 * DAY_MS);
    // Drift: a longer retention in the data file lengthens the records' life with it.
    const longer = { ...settings.queues, messageRetentionSeconds: 14 * 86_400 };
    expect(recordRetentionMs(longer)).toBeGreaterThan(28 * DAY_MS);
    expect(storeTiming(MAIL_SEND_TIMEOUT_DEFAULT_MS).retentionMs).toBe(recordRetentionMs());
  });

  it("the lease is shorter than the queue's visibility timeout: a killed holder's claim lapses before its message returns", () => {
    expect(claimLeaseMs()).toBeLessThan(settings.queues.visibilityTimeoutSeconds * 1000);
  });
});
