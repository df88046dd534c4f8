import { describe, expect, it } from "vitest";
import {
  InsecureEndpointError,
  isLocalEndpoint,
  isLoopbackHost,
  requireSecureTransport,
} from "../../src/config/endpoint.js";
import { ConfigurationError } from "../../src/errors.js";
import { createSqsClient } from "../../src/sqs/client.js";
import { fromQueueUrl, resolveQueue } from "../../src/stack/resolve.js";

const hostOf = (url: string) => new URL(url).hostname;

describe("loopback, decided by address", () => {
  it.each([
    "http://127.0.0.1:4566",
    "http://127.1.2.3:4566",
    "http://127.1:4566", // the URL parser canonicalises short and hex IPv4 forms
    "http://0x7f.0.0.1:4566",
    "http://[::1]:4566",
    "http://[0:0:0:0:0:0:0:1]:4566",
    "http://[::ffff:127.0.0.1]:4566",
    "http://[::ffff:127.9.8.7]:4566",
    "http://localhost:4566",
    "http://LOCALHOST:4566",
  ])("%s is loopback", (url) => {
    expect(isLoopbackHost(hostOf(url))).toBe(true);
    expect(() => requireSecureTransport(url)).not.toThrow();
  });

  it.each([
    "http://10.0.0.5:4566",
    "http://128.0.0.1:4566",
    "http://[::2]:4566",
    "http://[::ffff:10.0.0.1]:4566",
    "http://sqs.internal.example:9324",
    "http://localhost.example.com:4566",
    "http://127.0.0.1.nip.io:4566",
  ])("%s is not loopback, and plain HTTP to it is refused", (url) => {
    expect(isLoopbackHost(hostOf(url))).toBe(false);
    expect(() => requireSecureTransport(url)).toThrow(InsecureEndpointError);
  });

  it("allows HTTPS anywhere", () => {
    expect(() => requireSecureTransport("https://sqs.eu-west-1.amazonaws.com/1/q")).not.toThrow();
    expect(() => requireSecureTransport("https://10.0.0.5:4566")).not.toThrow();
  });

  it("refuses a hand-given http queue URL off loopback with one line, exit 2", () => {
    const refuse = () => fromQueueUrl("http://sqs.internal.example:9324/000000000000/q");
    expect(refuse).toThrow(ConfigurationError);
    try {
      refuse();
    } catch (error) {
      const e = error as InsecureEndpointError;
      expect(e.exitCode).toBe(2);
      expect(e.message).not.toContain("\n");
      expect(e.message).toMatch(/Use https:\/\//);
    }
  });

  it("treats every loopback spelling of a queue URL as the emulator", () => {
    expect(fromQueueUrl("http://[::ffff:127.0.0.1]:4566/000000000000/q").endpoint).toBe(
      "http://[::ffff:7f00:1]:4566",
    );
    expect(fromQueueUrl("http://127.0.0.2:4566/000000000000/q").endpoint).toBe("http://127.0.0.2:4566");
  });

  it("refuses stack outputs whose endpoint or queue URL is plain HTTP off loopback", async () => {
    const outputs = {
      queueUrl: "http://10.0.0.5:4566/000000000000/user-registrations",
      queueArn: "arn:aws:sqs:us-east-1:000000000000:user-registrations",
      queueName: "user-registrations",
      deadLetterQueueUrl: "http://10.0.0.5:4566/000000000000/user-registrations-dlq",
      deadLetterQueueArn: "arn:aws:sqs:us-east-1:000000000000:user-registrations-dlq",
      deadLetterQueueName: "user-registrations-dlq",
      region: "us-east-1",
      endpoint: "http://10.0.0.5:4566",
    };
    const run = async () => ({ stdout: JSON.stringify(outputs), stderr: "" });
    await expect(
      resolveQueue({ source: "pulumi", stateDir: "/nonexistent", projectRoot: "." }, run),
    ).rejects.toThrow(InsecureEndpointError);
  });

  it("never builds a client for plain HTTP off loopback", () => {
    expect(() => createSqsClient({ endpoint: "http://10.0.0.5:4566" })).toThrow(InsecureEndpointError);
    createSqsClient({ endpoint: "http://[::1]:4566" }).destroy();
  });
});

describe("an emulator endpoint (what `status` shows without CloudWatch)", () => {
  it("is a loopback endpoint or a .localhost name", () => {
    expect(isLocalEndpoint("http://127.0.0.1:4566")).toBe(true);
    expect(isLocalEndpoint("http://localhost:4566")).toBe(true);
    expect(isLocalEndpoint("http://[::1]:4566")).toBe(true);
    expect(isLocalEndpoint("http://sqs.us-east-1.localhost:4566")).toBe(true);
    expect(isLocalEndpoint(undefined)).toBe(false);
    expect(isLocalEndpoint("https://sqs.eu-west-1.amazonaws.com")).toBe(false);
  });
});
