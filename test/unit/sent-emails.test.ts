import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { registrationHandler, SendInProgressError } from "../../src/consumer/registration-handler.js";
import { SqliteSentEmailStore } from "../../src/consumer/sent-emails.js";

const message = (nome: string, email: string) => ({
  MessageId: "m",
  Body: JSON.stringify({ nome, email, id: `id-${email}` }),
});

describe("sent-email store (SQLite)", () => {
  it("lets one claimant send, reports the rest as duplicates or in progress", async () => {
    let now = 1_000;
    const store = new SqliteSentEmailStore(":memory:", { leaseMs: 100, now: () => now });
    expect(await store.claim("a")).toBe("claimed");
    expect(await store.claim("a")).toBe("in-progress");
    await store.markSent("a");
    expect(await store.claim("a")).toBe("already-sent");
    now += 1_000;
    expect(await store.claim("a")).toBe("already-sent"); // a sent email never expires
    store.close();
  });

  it("hands a claim over once its lease ran out (its holder died), and after a release", async () => {
    let now = 0;
    const store = new SqliteSentEmailStore(":memory:", { leaseMs: 100, now: () => now });
    expect(await store.claim("b")).toBe("claimed");
    now = 50;
    expect(await store.claim("b")).toBe("in-progress");
    now = 151;
    expect(await store.claim("b")).toBe("claimed");
    await store.release("b");
    expect(await store.claim("b")).toBe("claimed");
    store.close();
  });

  it("is durable and shared: a second connection to the file sees what the first recorded", async () => {
    const path = join(await mkdtemp(join(tmpdir(), "sent-")), "nested", "sent.sqlite");
    const first = new SqliteSentEmailStore(path);
    await first.claim("c");
    await first.markSent("c");
    first.close();
    const second = new SqliteSentEmailStore(path);
    expect(await second.claim("c")).toBe("already-sent");
    second.close();
  });
});

describe("idempotent registration handler", () => {
  it("sends once per registration id, however often the message comes", async () => {
    const store = new SqliteSentEmailStore(":memory:");
    const sent: string[] = [];
    const counts = { sent: 0, duplicates: 0 };
    const handle = registrationHandler({ send: async (_, id) => void sent.push(id) }, store, counts);
    const context = { signal: new AbortController().signal, receiveCount: 1 };
    for (let i = 0; i < 3; i++) await handle(message("Ana", "ana@example.com"), context);
    expect(sent).toEqual(["id-ana@example.com"]);
    expect(counts).toEqual({ sent: 1, duplicates: 2 });
  });

  it("gives the claim back when sending fails, so the retry sends", async () => {
    const store = new SqliteSentEmailStore(":memory:");
    let fail = true;
    const sent: string[] = [];
    const handle = registrationHandler(
      {
        send: async (_, id) => {
          if (fail) throw new Error("smtp down");
          sent.push(id);
        },
      },
      store,
    );
    const context = { signal: new AbortController().signal, receiveCount: 1 };
    await expect(handle(message("Bia", "bia@example.com"), context)).rejects.toThrow("smtp down");
    fail = false;
    await handle(message("Bia", "bia@example.com"), context);
    expect(sent).toEqual(["id-bia@example.com"]);
  });

  it("asks for a retry while another consumer is sending the same email", async () => {
    const store = new SqliteSentEmailStore(":memory:");
    await store.claim("id-caio@example.com");
    const handle = registrationHandler({ send: async () => {} }, store);
    await expect(
      handle(message("Caio", "caio@example.com"), { signal: new AbortController().signal, receiveCount: 1 }),
    ).rejects.toThrow(SendInProgressError);
  });
});
