import { chmod, mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { digestKeyPath, loadDigestKey } from "../../src/config/digest-key.js";
import { readEnvironment } from "../../src/config/env.js";
import { registrationDigest } from "../../src/contract/digest.js";
import { ConfigurationError } from "../../src/errors.js";

const ana = { nome: "Ana", email: "ana@example.com" };

describe("registration digest key", () => {
  it("is generated once in the state folder, readable by its owner only, and reused", async () => {
    const stateDir = join(await mkdtemp(join(tmpdir(), "key-")), "state");
    const first = await loadDigestKey({ stateDir });
    const second = await loadDigestKey({ stateDir });
    expect(registrationDigest(ana, first)).toBe(registrationDigest(ana, second));
    expect((await stat(digestKeyPath(stateDir))).mode & 0o777).toBe(0o600);
    expect((await readFile(digestKeyPath(stateDir), "utf8")).trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  it("comes from REGISTRATION_DIGEST_KEY when set, and a bad one is refused without echoing it", async () => {
    const secret = "a-deployment-secret-of-enough-length";
    const env = readEnvironment({ REGISTRATION_DIGEST_KEY: secret });
    const stateDir = await mkdtemp(join(tmpdir(), "key-"));
    const key = await loadDigestKey({ secret: env.REGISTRATION_DIGEST_KEY, stateDir });
    expect(registrationDigest(ana, key)).not.toBe(registrationDigest(ana, await loadDigestKey({ stateDir })));
    expect(() => readEnvironment({ REGISTRATION_DIGEST_KEY: "short-secret" })).toThrow(
      /REGISTRATION_DIGEST_KEY=\(hidden\) is invalid \(at least 32 characters\)/,
    );
    expect(() => readEnvironment({ REGISTRATION_DIGEST_KEY: "short-secret" })).not.toThrow(/short-secret/);
  });
});

describe("a bad digest key is refused in one line; an open key file is warned about", () => {
  it("refuses a REGISTRATION_DIGEST_KEY of blanks", () => {
    expect(() => readEnvironment({ REGISTRATION_DIGEST_KEY: " ".repeat(40) })).toThrow(
      /REGISTRATION_DIGEST_KEY=\(hidden\) is invalid \(at least 32 characters that are not blanks\)/,
    );
    expect(readEnvironment({ REGISTRATION_DIGEST_KEY: "k".repeat(32) }).REGISTRATION_DIGEST_KEY).toHaveLength(
      32,
    );
  });

  it.each([
    ["too short", "0123456789\n"],
    ["blank", "   \n"],
  ])("refuses a %s digest.key, naming the file and the fix", async (_, content) => {
    const stateDir = await mkdtemp(join(tmpdir(), "key-"));
    await writeFile(digestKeyPath(stateDir), content, { mode: 0o600 });
    const loading = loadDigestKey({ stateDir });
    await expect(loading).rejects.toBeInstanceOf(ConfigurationError);
    await expect(loading).rejects.toThrow(/digest key in .*digest\.key is too short .*openssl rand -hex 32/);
    await expect(loading).rejects.not.toThrow(/\n/);
  });

  it("warns once, in one line, when the key file is readable by group or others", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "key-"));
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    await loadDigestKey({ stateDir, warn });
    expect(warnings).toEqual([]); // generated 0600
    await chmod(digestKeyPath(stateDir), 0o644);
    await loadDigestKey({ stateDir, warn });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/digest\.key is readable by others \(mode 644\): `chmod 600 .*digest\.key`/);
    expect(warnings[0]).not.toMatch(/\n/);
  });
});
