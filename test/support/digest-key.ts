import { DigestKey } from "../../src/contract/digest.js";

/** The registration digest key of tests (a deployment would set REGISTRATION_DIGEST_KEY). */
export const testDigestKey = new DigestKey("test-digest-key-0123456789abcdef0123456789");
