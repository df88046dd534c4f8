import {
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  ThrottlingException,
} from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { EnvironmentFaultError } from "../../src/consumer/errors.js";
import { classifyStoreError } from "../../src/consumer/store/dynamodb-client.js";
import { StoreUnavailableError } from "../../src/errors.js";

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
const named = (name: string, message: string, extra: object = {}) =>
  Object.assign(new Error(message), { name }, extra);

describe("classifyStoreError", () => {
  it("makes a missing table fatal, naming the table", () => {
    const error = classifyStoreError(
      new ResourceNotFoundException({ message: "Requested resource not found", $metadata: {} }),
      "t1",
      "claim",
    );
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ reason: "missing-table", tableName: "t1" });
  });

  it.each([
    "AccessDeniedException",
    "UnrecognizedClientException",
    "CredentialsProviderError",
    "ExpiredTokenException",
  ])("makes %s fatal: access denied", (name) => {
    const error = classifyStoreError(named(name, "no", meta(400)), "t1", "claim");
    expect(error).toMatchObject({ name: "StoreUnavailableError", reason: "access-denied" });
    expect(error.message).toContain(name);
  });

  it.each([
    ["throttled (modeled class)", new ThrottlingException({ message: "slow down", $metadata: {} })],
    [
      "over provisioned throughput",
      new ProvisionedThroughputExceededException({ message: "too much", $metadata: {} }),
    ],
    ["429", named("TooManyRequests", "x", meta(429))],
    ["503", named("ServiceUnavailable", "x", meta(503))],
    ["an unmodeled 5xx", named("SomethingBroke", "x", meta(599))],
    ["refused connection", named("Error", "connect ECONNREFUSED", { code: "ECONNREFUSED" })],
    ["a timeout", named("TimeoutError", "socket timed out")],
    [
      "a signature that expired in flight",
      named("InvalidSignatureException", "Signature expired: 2026", meta(400)),
    ],
  ])("makes %s an environment fault of the store", (_, cause) => {
    const error = classifyStoreError(cause, "t1", "claim");
    expect(error).toBeInstanceOf(EnvironmentFaultError);
    expect(error).toMatchObject({ component: "store", cause });
  });

  it("passes anything else through unchanged (a malformed request is a bug)", () => {
    const validation = named("ValidationException", "bad expression", meta(400));
    expect(classifyStoreError(validation, "t1", "claim")).toBe(validation);
  });
});
