import { describe, expect, it } from "vitest";
import {
  addressDigest,
  addressDigests,
  DigestKey,
  normaliseAddress,
  registrationDigest,
  registrationDigests,
  registrationIdFor,
} from "../../src/contract/digest.js";
import {
  maskEmail,
  NotJsonError,
  parseRegistration,
  processingIdOf,
  toOutgoing,
  WrongShapeError,
} from "../../src/contract/registration.js";

const key = new DigestKey("k".repeat(32));
const otherKey = new DigestKey("o".repeat(32));

/** The WrongShapeError message for `value` (fails when it parses). */
function problemOf(value: unknown): string {
  try {
    parseRegistration(typeof value === "string" ? value : JSON.stringify(value));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the body to be refused");
}

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

  it("gives the same registration the same keyed id, so a resend is recognised", () => {
    const a = { nome: "Ana", email: "ana@Example.com" };
    expect(registrationIdFor(a, key)).toBe(
      registrationIdFor({ nome: " Ana ", email: "ana@example.COM" }, key),
    );
    expect(registrationIdFor(a, key)).not.toBe(
      registrationIdFor({ nome: "Ana B", email: "ana@example.com" }, key),
    );
    // Keyed: without the deployment's key nobody computes another person's id.
    expect(registrationIdFor(a, key)).not.toBe(registrationIdFor(a, otherKey));
    expect(processingIdOf(a, key)).toBe(registrationIdFor(a, key));
    expect(processingIdOf({ ...a, id: "given" }, key)).toBe("given");
  });

  it("adds id and timestamp on the way out, keeping given ones and the original keys", () => {
    const now = () => new Date("2026-01-02T03:04:05.000Z");
    const out = toOutgoing({ nome: "Ana", email: "ana@example.com" }, now, key);
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
        key,
      ),
    ).toMatchObject({ id: "x", registeredAt: "2025-01-01T00:00:00Z" });
  });

  it("masks addresses for logs", () => {
    expect(maskEmail("maria@example.com")).toBe("m***@example.com");
    expect(maskEmail("broken")).toBe("***");
  });

  it("says where a body stops being JSON, never what it contains", () => {
    for (const body of [
      "maria@example.com",
      "Maria Silva <maria@example.com>",
      '{"nome":"Maria","email":"maria@example.com",}',
    ]) {
      const message = problemOf(body);
      expect(message).toMatch(/^body is not JSON: syntax error at byte \d+, length \d+ bytes$/);
      expect(message).not.toMatch(/maria|Maria/);
    }
    expect(problemOf('{"nome":"Zé","email":"x@example.com",}')).toBe(
      "body is not JSON: syntax error at byte 38, length 39 bytes",
    );
    expect(problemOf("")).toBe("body is not JSON: syntax error at byte 0, length 0 bytes");
  });

  it("names the field and the rule of a wrong shape, never a value", () => {
    const message = problemOf({ nome: 42, email: "maria@exemplo.com.br", id: "../maria" });
    expect(message).toContain("nome must be a string");
    expect(message).toContain("id must be 1–128 characters");
    expect(message).not.toMatch(/maria/i);
  });

  it.each([
    ["../x", "a path"],
    [".hidden", "a leading dot"],
    ["a/b", "a slash"],
    ["a\\b", "a backslash"],
    ["reg\r\nX-Injected: 1", "CR/LF"],
    ["a b", "a space"],
    ["", "empty"],
    ["x".repeat(129), "129 characters"],
    ["é", "non-ASCII"],
  ])("refuses the id %j (%s)", (id) => {
    expect(problemOf({ nome: "Ana", email: "ana@example.com", id })).toMatch(
      /^body is not a registration: id must be/,
    );
  });

  it("accepts ids of the safe character set, up to 128", () => {
    for (const id of ["reg_0123", "order:42", "A-b_c.d", "x".repeat(128), "42"]) {
      expect(parseRegistration(JSON.stringify({ nome: "Ana", email: "ana@example.com", id })).id).toBe(id);
    }
  });

  it("accepts a whole-number id from other producers as its decimal string, refuses other numbers", () => {
    expect(parseRegistration('{"nome":"Ana","email":"ana@example.com","id":42}').id).toBe("42");
    expect(parseRegistration('{"nome":"Ana","email":"ana@example.com","id":-7}').id).toBe("-7");
    for (const id of ["1.5", "1e21", "9007199254740993"]) {
      expect(problemOf(`{"nome":"Ana","email":"ana@example.com","id":${id}}`)).toContain(
        "id must be a whole number",
      );
    }
    expect(problemOf({ nome: "Ana", email: "ana@example.com", id: true })).toContain(
      "id must be a string or a whole number",
    );
  });

  it.each([
    ["Ana\u0000", "NUL"],
    ["Ana\r\nBcc: x@example.com", "CR/LF"],
    ["Ana\tSilva", "tab"],
    ["Ana\u0085", "C1 (NEL)"],
    ["Ana\u2028", "line separator"],
  ])("refuses control characters in nome: %j (%s)", (nome) => {
    expect(problemOf({ nome, email: "ana@example.com" })).toContain(
      "nome must not contain control characters",
    );
  });

  it.each(["\u202A", "\u202B", "\u202C", "\u202D", "\u202E", "\u2066", "\u2067", "\u2068", "\u2069"])(
    "refuses the bidi control %j in nome",
    (bidi) => {
      expect(problemOf({ nome: `Ana ${bidi}moc.elpmaxe`, email: "ana@example.com" })).toContain(
        "nome must not contain bidirectional overrides or isolates",
      );
    },
  );

  it("keeps names in NFC, with accents and right-to-left scripts", () => {
    expect(parseRegistration(JSON.stringify({ nome: "Joa\u0303o", email: "j@example.com" })).nome).toBe(
      "João",
    );
    expect(parseRegistration(JSON.stringify({ nome: "مريم", email: "m@example.com" })).nome).toBe("مريم");
  });

  it.each([
    ["ana@example.com\r\nBcc: x@example.com", "control characters"],
    ["ana@example.com\n", "control characters"],
    ["ana@exa\u0000mple.com", "control characters"],
    ["Ana <ana@example.com>", "valid email address"],
    ['"ana smith"@example.com', "valid email address"],
    ["ana@example", "valid email address (the domain)"],
    ["ana@-example.com", "valid email address (the domain)"],
    ["josé@exemplo.com.br", "ASCII local part"],
    ["ana..b@example.com", "the part before @"],
  ])("refuses the address %j (%s)", (email, expected) => {
    expect(problemOf({ nome: "Ana", email })).toContain(expected);
  });

  it("accepts internationalised domains, passed on in their ASCII form", () => {
    expect(parseRegistration(JSON.stringify({ nome: "Ana", email: "ana@bücher.de" })).email).toBe(
      "ana@xn--bcher-kva.de",
    );
    expect(parseRegistration(JSON.stringify({ nome: "Ana", email: "ana@Exemplo.COM.br" })).email).toBe(
      "ana@exemplo.com.br",
    );
    expect(parseRegistration(JSON.stringify({ nome: "Ana", email: "ana@пример.рф" })).email).toBe(
      "ana@xn--e1afmkfd.xn--p1ai",
    );
    expect(parseRegistration(JSON.stringify({ nome: "Ana", email: " ana+tag@example.com " })).email).toBe(
      "ana+tag@example.com",
    );
  });

  it("reads Python's isoformat() without a zone as UTC, keeping the microseconds", () => {
    const parsed = parseRegistration(
      JSON.stringify({ nome: "Ana", email: "ana@example.com", registeredAt: "2024-05-01T12:30:45.123456" }),
    );
    expect(parsed.registeredAt).toBe("2024-05-01T12:30:45.123456Z");
    expect(new Date(parsed.registeredAt ?? "").toISOString()).toBe("2024-05-01T12:30:45.123Z");
    const zoned = { nome: "Ana", email: "ana@example.com", registeredAt: "2024-05-01T12:30:45.123456+00:00" };
    expect(parseRegistration(JSON.stringify(zoned)).registeredAt).toBe(zoned.registeredAt);
    expect(problemOf({ nome: "Ana", email: "ana@example.com", registeredAt: "yesterday" })).toContain(
      "registeredAt must be an ISO 8601 date-time",
    );
  });
});

describe("registration digest", () => {
  const digest = (nome: string, email: string, k = key) => registrationDigest({ nome, email }, k);

  it("covers nome and email, normalised: NFC, trimmed, domain lower-cased, local part case-folded", () => {
    const base = digest("João", "joao@example.com");
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(digest("Joa\u0303o", " joao@EXAMPLE.com ")).toBe(base);
    expect(digest("João", "joao@xn--exmple-cua.com")).toBe(digest("João", "joao@exämple.com"));
    expect(digest("João", "Joao@example.com")).toBe(base); // one mailbox, as providers treat it
    expect(digest("João", "JOAO@Example.COM")).toBe(base);
    expect(digest("João B", "joao@example.com")).not.toBe(base);
    expect(digest("João", "joao@example.com", otherKey)).not.toBe(base);
  });

  it("keeps the digests of before the fold readable: the legacy one follows when it differs", () => {
    // The stored format of before the fold (local part's case kept), written out on purpose:
    // records keyed by it exist and must keep counting.
    const legacy = key.hmac(["registration-digest/v1", "João", "Joao@example.com"]);
    expect(registrationDigests({ nome: "João", email: "Joao@EXAMPLE.com" }, key)).toEqual([
      digest("João", "joao@example.com"),
      legacy,
    ]);
    // Written in lower case: the two are one, nothing more to read.
    expect(registrationDigests({ nome: "João", email: "joao@example.com" }, key)).toEqual([
      digest("João", "joao@example.com"),
    ]);
    expect(addressDigests("Case.Test@Example.com", key)).toEqual([
      addressDigest("case.test@example.com", key),
      key.hmac(["address-digest/v1", "Case.Test@example.com"]),
    ]);
    expect(addressDigests("case.test@example.com", key)).toEqual([
      addressDigest("CASE.TEST@example.com", key),
    ]);
  });

  it("normalises addresses through one function: case folded, IDN domains in ASCII", () => {
    expect(normaliseAddress(" Maria.C@Bücher.DE ")).toBe("maria.c@xn--bcher-kva.de");
    expect(normaliseAddress("Complain@EXAMPLE.com")).toBe(normaliseAddress("complain@example.com"));
  });

  it("keeps the local part's case in default ids, so ids of before the fold stay the same", () => {
    expect(registrationIdFor({ nome: "Ana", email: "Ana@example.com" }, key)).toBe(
      `reg_${key.hmac(["registration-id/v1", "Ana", "Ana@example.com"]).slice(0, 32)}`,
    );
  });

  it("ignores timestamps, ids and other fields", () => {
    const a = parseRegistration(JSON.stringify({ nome: "Ana", email: "ana@example.com", id: "1" }));
    const b = parseRegistration(
      JSON.stringify({ nome: "Ana", email: "ana@example.com", registeredAt: "2024-01-01T00:00:00Z", x: 1 }),
    );
    expect(registrationDigest(a, key)).toBe(registrationDigest(b, key));
  });

  it("never prints its key", () => {
    const secret = "s".repeat(40);
    const k = new DigestKey(secret);
    expect(`${k} ${JSON.stringify({ k })}`).not.toContain(secret);
    expect(() => new DigestKey("short")).toThrow(/at least 32 characters/);
  });
});
