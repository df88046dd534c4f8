/**
 * The one definition of loopback, and the one rule for plain HTTP: SQS requests carry signed
 * credentials and personal data, so `http:` is allowed only to this machine (the emulator).
 * Loopback is decided by address, not by spelling: all of 127.0.0.0/8, ::1 and the IPv4-mapped
 * forms (::ffff:127.x.y.z), plus the name `localhost`. The WHATWG URL parser has already turned
 * `127.1`, `0x7f.0.0.1` and `[0:0::1]` into their canonical forms by the time we look.
 */
import { BlockList, isIP } from "node:net";
import { ConfigurationError } from "../errors.js";

/** Where the embedded SQS listens, and the host of the queue URLs it hands out. */
export const LOOPBACK_ADDRESS = "127.0.0.1";

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");

/** Whether a URL's hostname (`URL.hostname`, IPv6 in brackets) is this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (host === "localhost" || host === "localhost.") return true;
  const family = isIP(host);
  // BlockList matches IPv4-mapped IPv6 addresses against IPv4 subnets.
  return family === 4 ? loopback.check(host, "ipv4") : family === 6 ? loopback.check(host, "ipv6") : false;
}

/**
 * Whether `endpoint` is an emulator on this machine: loopback, or a `.localhost` name (RFC 6761;
 * fauxqs's default queue host is `sqs.<region>.localhost`). AWS itself is never given an endpoint.
 * Wider than isLoopbackHost on purpose: it only picks what `status` can show (an emulator has no
 * CloudWatch), while plain HTTP stays allowed only to an address that is loopback by itself.
 */
export function isLocalEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return isLoopbackHost(host) || host.endsWith(".localhost");
}

/** Plain HTTP to anywhere but loopback: credentials and bodies would cross the network in clear. */
export class InsecureEndpointError extends ConfigurationError {
  override name = "InsecureEndpointError";
  constructor(readonly url: string) {
    super(
      `Refusing plain HTTP to ${new URL(url).host} (${url}): SQS requests are signed with your credentials and carry personal data. Use https://, or an emulator on loopback (127.0.0.1, ::1, localhost).`,
    );
  }
}

/** Throws InsecureEndpointError for an `http:` URL whose host is not loopback. */
export function requireSecureTransport(url: string): void {
  const parsed = new URL(url);
  if (parsed.protocol === "http:" && !isLoopbackHost(parsed.hostname)) throw new InsecureEndpointError(url);
}
