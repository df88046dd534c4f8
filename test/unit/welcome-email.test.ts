import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JOURNAL, OutboxMailer } from "../../src/consumer/welcome-email.js";

describe("outbox mailer", () => {
  it("writes an RFC 822 message with the registration's id as Message-ID, once per id", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    const mailer = new OutboxMailer({ outboxDir });
    const registration = { nome: "João Conceição", email: "joao@example.com" };
    await mailer.send(registration, "reg_1");
    await mailer.send(registration, "reg_1");
    expect((await readdir(outboxDir)).sort()).toEqual(["reg_1.eml", JOURNAL].sort());
    expect((await readFile(join(outboxDir, JOURNAL), "utf8")).trim().split("\n")).toHaveLength(1);
    const eml = await readFile(join(outboxDir, "reg_1.eml"), "utf8");
    expect(eml).toMatch(/^Message-ID: <reg_1@welcome\.local>$/m);
    expect(eml).toMatch(/^To: =\?UTF-8\?[BQ]\?.+\?= <joao@example\.com>$/m); // non-ASCII name, encoded
    expect(eml).toMatch(/^Subject: =\?UTF-8\?/m);
    expect(eml).toMatch(/^Content-Type: text\/plain; charset=utf-8$/m);
  });
});
