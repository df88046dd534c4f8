import { describe, expect, it } from "vitest";
import {
  maskEmail,
  NotJsonError,
  parseRegistration,
  processingIdOf,
  registrationIdFor,
  toOutgoing,
  WrongShapeError,
} from "../../src/contract/registration.js";

describe("registration contract", () => {
  it("accepts exactly what the original Python producer sends", () => {
    const body = JSON.stringify({ nome: "João da Silva", email: "joao@example.com" });
    expect(parseRegistration(body)).toEqual({ nome: "João da Silva", email: "joao@example.com" });
  });

  it("keeps extra fields and trims the name", () => {
    const parsed = parseRegistration(
      JSON.stringify({ nome: "  Ana  ", email: "ana@example.com", plano: "pro" }),
    );
    expect(parsed).toEqual({ nome: "Ana", email: "ana@example.com", plano: "pro" });
  });

  it("tells 'not JSON' from 'wrong shape'", () => {
    expect(() => parseRegistration("{nome: x}")).toThrow(NotJsonError);
    expect(() => parseRegistration("[1,2]")).toThrow(WrongShapeError);
    expect(() => parseRegistration("null")).toThrow(/expected a JSON object with nome and email, got null/);
  });

  it.each([
    [{ email: "a@example.com" }, "nome"],
    [{ nome: "   ", email: "a@example.com" }, "nome must not be empty"],
    [{ nome: "x".repeat(201), email: "a@example.com" }, "nome must be at most 200 characters"],
    [{ nome: "Ana", email: "not-an-address" }, "email must be a valid email address"],
    [{ nome: "Ana" }, "email"],
    [{ nome: 42, email: "a@example.com" }, "nome must be a string"],
  ])("names the problem of %o", (value, expected) => {
    try {
      parseRegistration(JSON.stringify(value));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WrongShapeError);
      expect((error as Error).message).toContain(expected);
    }
  });

  it("gives the same registration the same id, so a resend is recognised", () => {
    const a = { nome: "Ana", email: "Ana@Example.com" };
    expect(registrationIdFor(a)).toBe(registrationIdFor({ nome: "Ana", email: "ana@example.com" }));
    expect(registrationIdFor(a)).not.toBe(registrationIdFor({ nome: "Ana B", email: "ana@example.com" }));
    expect(processingIdOf(a)).toBe(registrationIdFor(a));
    expect(processingIdOf({ ...a, id: "given" })).toBe("given");
  });

  it("adds id and timestamp on the way out, keeping given ones and the original keys", () => {
    const now = () => new Date("2026-01-02T03:04:05.000Z");
    const out = toOutgoing({ nome: "Ana", email: "ana@example.com" }, now);
    expect(out).toMatchObject({
      nome: "Ana",
      email: "ana@example.com",
      registeredAt: "2026-01-02T03:04:05.000Z",
    });
    expect(out.id).toMatch(/^reg_[0-9a-f]{32}$/);
    expect(
      toOutgoing(
        { nome: "Ana", email: "ana@example.com", id: "x", registeredAt: "2025-01-01T00:00:00Z" },
        now,
      ),
    ).toMatchObject({ id: "x", registeredAt: "2025-01-01T00:00:00Z" });
  });

  it("masks addresses for logs", () => {
    expect(maskEmail("maria@example.com")).toBe("m***@example.com");
    expect(maskEmail("broken")).toBe("***");
  });
});
