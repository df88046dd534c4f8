import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { digestKeyPath, loadDigestKey } from "../../src/config/digest-key.js";
import { readEnvironment } from "../../src/config/env.js";
import { registrationDigest } from "../../src/contract/digest.js";

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
