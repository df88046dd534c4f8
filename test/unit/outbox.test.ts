import * as fsPromises from "node:fs/promises";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EnvironmentFaultError, NotSentError } from "../../src/consumer/errors.js";
import {
  ALREADY_IN_OUTBOX,
  JOURNAL,
  type OutboxFileSystem,
  OutboxMailer,
  outboxFile,
  UnsafeOutboxPathError,
} from "../../src/consumer/mail/outbox.js";
import { endOfTurn } from "../support/accepted-on-disk.js";
import { waitFor } from "../support/local-sqs.js";
import { smallTmpfs } from "../support/tmpfs.js";

describe("outbox mailer", () => {
  it("writes an RFC 822 message with the registration's id as Message-ID, once per id", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    const mailer = new OutboxMailer({ outboxDir });
    const registration = { nome: "João Conceição", email: "joao@example.com" };
    await mailer.send(registration, "reg_1");
    await mailer.send(registration, "reg_1");
    expect((await readdir(outboxDir)).sort()).toEqual(["reg_1.eml", JOURNAL].sort());
    const lines = (await readFile(join(outboxDir, JOURNAL), "utf8")).trim().split("\n");
    // One email; the second delivery is journalled as one that found it written.
    expect(lines.map((line) => line.split("\t")[2])).toEqual([undefined, ALREADY_IN_OUTBOX]);
    const eml = await readFile(join(outboxDir, "reg_1.eml"), "utf8");
    expect(eml).toMatch(/^Message-ID: <reg_1@welcome\.local>$/m);
    expect(eml).toMatch(/^To: =\?UTF-8\?[BQ]\?.+\?= <joao@example\.com>$/m); // non-ASCII name, encoded
    expect(eml).toMatch(/^Subject: =\?UTF-8\?/m);
    expect(eml).toMatch(/^Content-Type: text\/plain; charset=utf-8$/m);
  });

  it("journals lines that come while an append is under way in the next one, one line each, and a lone one at once", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    const ids = Array.from({ length: 40 }, (_, i) => `reg_${i}`);
    const appends: string[] = [];
    // The first append waits until every email is written (its line then queued behind it).
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let renamed = 0;
    const fileSystem: OutboxFileSystem = {
      ...fsPromises,
      rename: async (...args: Parameters<typeof fsPromises.rename>) => {
        await fsPromises.rename(...args);
        renamed += 1;
      },
      appendFile: async (...args: Parameters<typeof fsPromises.appendFile>) => {
        appends.push(String(args[1]));
        if (appends.length === 1) await held;
        return fsPromises.appendFile(...args);
      },
    };
    const mailer = new OutboxMailer({ outboxDir, fileSystem });
    const sent = Promise.all(ids.map((id) => mailer.send({ nome: "Ana", email: "ana@example.com" }, id)));
    await waitFor(() => renamed === ids.length, "every email written");
    await endOfTurn(); // their lines queued behind the held append
    release();
    await sent;
    const lines = (await readFile(join(outboxDir, JOURNAL), "utf8")).trim().split("\n");
    expect(lines.map((line) => line.split("\t")[0]).sort()).toEqual([...ids].sort());
    expect(appends).toHaveLength(2);
    expect(appends.join("")).toBe(`${lines.join("\n")}\n`);
    appends.length = 0;
    await mailer.send({ nome: "Ana", email: "ana@example.com" }, "reg_alone");
    expect(appends).toEqual([expect.stringMatching(/^reg_alone\t/)]);
  });
});

describe("outbox mailer on untrusted ids and a failing disk", () => {
  const registration = { nome: "Ana", email: "ana@example.com" };
  const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });

  async function causeOf(promise: Promise<unknown>): Promise<unknown> {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotSentError);
    return (error as NotSentError).cause;
  }

  it.each(["../x", "../../etc/x", "a/b", ".hidden", "x\r\ny", "", "/abs"])(
    "refuses the id %j: nothing is written, in the outbox or outside it",
    async (id) => {
      const root = await mkdtemp(join(tmpdir(), "outbox-root-"));
      const outboxDir = join(root, "outbox");
      await expect(causeOf(new OutboxMailer({ outboxDir }).send(registration, id))).resolves.toBeInstanceOf(
        UnsafeOutboxPathError,
      );
      expect(await readdir(root)).toEqual([]);
    },
  );

  it("an email written whose journal line was lost (a crash between the two) gets its line on the next delivery", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    let failures = 1;
    const fileSystem = {
      ...fsPromises,
      appendFile: async (...args: Parameters<typeof fsPromises.appendFile>) => {
        if (failures-- > 0) throw enospc();
        return fsPromises.appendFile(...args);
      },
    } as OutboxFileSystem;
    const mailer = new OutboxMailer({ outboxDir, fileSystem });
    // The email is out: not NotSentError, so the claim lapses rather than being given back.
    const error = await mailer.send(registration, "reg_1").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentFaultError);
    expect(error).not.toBeInstanceOf(NotSentError);
    expect(await readdir(outboxDir)).toEqual(["reg_1.eml"]);
    await mailer.send(registration, "reg_1");
    expect((await readFile(join(outboxDir, JOURNAL), "utf8")).trim().split("\t")).toEqual([
      "reg_1",
      expect.any(String),
      ALREADY_IN_OUTBOX,
    ]);
  });

  it("an append that fails fails the send of every line it carried; the next append writes again", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    const ids = ["reg_1", "reg_2", "reg_3"];
    let calls = 0;
    let full = true;
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let renamed = 0;
    const fileSystem = {
      ...fsPromises,
      rename: async (...args: Parameters<typeof fsPromises.rename>) => {
        await fsPromises.rename(...args);
        renamed += 1;
      },
      appendFile: async (...args: Parameters<typeof fsPromises.appendFile>) => {
        calls += 1;
        if (calls === 1) await held; // the other lines queue behind this one, for one append
        if (full) throw enospc();
        return fsPromises.appendFile(...args);
      },
    } as OutboxFileSystem;
    const mailer = new OutboxMailer({ outboxDir, fileSystem });
    const outcomes = Promise.allSettled(ids.map((id) => mailer.send(registration, id)));
    await waitFor(() => renamed === ids.length, "every email written");
    await endOfTurn(); // their lines queued behind the held append
    release();
    for (const outcome of await outcomes) {
      expect(outcome.status).toBe("rejected");
      const reason = (outcome as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(EnvironmentFaultError);
      expect(reason).not.toBeInstanceOf(NotSentError);
    }
    expect(calls).toBe(2); // the first line alone, then the two that waited, together
    full = false;
    await mailer.send(registration, "reg_4");
    const lines = (await readFile(join(outboxDir, JOURNAL), "utf8")).trim().split("\n");
    expect(lines.map((line) => line.split("\t")[0])).toEqual(["reg_4"]);
  });

  it("S5: its health check writes and removes one file, and fails while the folder cannot be written", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    let full = true;
    const written: string[] = [];
    const fileSystem: OutboxFileSystem = {
      ...fsPromises,
      writeFile: async (...args: Parameters<typeof fsPromises.writeFile>) => {
        if (full) throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
        written.push(String(args[0]));
        return fsPromises.writeFile(...args);
      },
    };
    const mailer = new OutboxMailer({ outboxDir, fileSystem });
    await expect(mailer.checkHealth()).rejects.toThrow("ENOSPC");
    full = false;
    await mailer.checkHealth();
    expect(written).toHaveLength(1);
    expect(await readdir(outboxDir)).toEqual([]);
  });

  it("names files inside the outbox only", () => {
    expect(outboxFile("/srv/outbox", "reg_1")).toBe("/srv/outbox/reg_1.eml");
    expect(outboxFile("/srv/outbox/", "a..b")).toBe("/srv/outbox/a..b.eml");
    expect(() => outboxFile("/srv/outbox", "..")).toThrow(UnsafeOutboxPathError);
  });

  it("reports a failed write as the outbox's environment fault and leaves no temp file", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    const fileSystem = {
      ...fsPromises,
      // A partial write, then the disk is full: the temp file exists when the error comes.
      writeFile: async (path: Parameters<typeof fsPromises.writeFile>[0]) => {
        await fsPromises.writeFile(path, "partial");
        throw enospc();
      },
    } as OutboxFileSystem;
    const cause = await causeOf(new OutboxMailer({ outboxDir, fileSystem }).send(registration, "reg_1"));
    expect(cause).toBeInstanceOf(EnvironmentFaultError);
    expect(cause).toMatchObject({ component: "outbox", message: "outbox cannot write an email: ENOSPC" });
    expect(await readdir(outboxDir)).toEqual([]);
  });

  it("removes the temp file when the rename fails, too", async () => {
    const outboxDir = await mkdtemp(join(tmpdir(), "outbox-"));
    const fileSystem = {
      ...fsPromises,
      rename: async () => {
        throw Object.assign(new Error("EROFS: read-only file system"), { code: "EROFS" });
      },
    } as OutboxFileSystem;
    const cause = await causeOf(new OutboxMailer({ outboxDir, fileSystem }).send(registration, "reg_1"));
    expect(cause).toMatchObject({ component: "outbox", message: "outbox cannot write an email: EROFS" });
    expect(await readdir(outboxDir)).toEqual([]);
  });

  it("reports an outbox whose parent is a file as an environment fault, and recovers when it is fixed", async () => {
    const root = await mkdtemp(join(tmpdir(), "outbox-root-"));
    await fsPromises.writeFile(join(root, "file"), "");
    const mailer = new OutboxMailer({ outboxDir: join(root, "file", "outbox") });
    const cause = await causeOf(mailer.send(registration, "reg_1"));
    expect(cause).toMatchObject({ component: "outbox", message: "outbox cannot create its folder: ENOTDIR" });
    await fsPromises.rm(join(root, "file"));
    await mailer.send(registration, "reg_1");
    expect(await readdir(join(root, "file", "outbox"))).toContain("reg_1.eml");
  });

  it("on a really full disk (small tmpfs): an environment fault, no temp file left", async (context) => {
    const mount = smallTmpfs("64k");
    if (!mount) return context.skip("mounting a tmpfs needs root; skipped");
    try {
      const outboxDir = join(mount.dir, "outbox");
      await fsPromises.mkdir(outboxDir);
      for (let i = 0; ; i++) {
        try {
          await fsPromises.writeFile(join(mount.dir, `fill-${i}`), Buffer.alloc(4096));
        } catch {
          break;
        }
      }
      const cause = await causeOf(new OutboxMailer({ outboxDir }).send(registration, "reg_1"));
      expect(cause).toMatchObject({ component: "outbox", message: "outbox cannot write an email: ENOSPC" });
      expect(await readdir(outboxDir)).toEqual([]);
    } finally {
      mount.unmount();
    }
  });
});
