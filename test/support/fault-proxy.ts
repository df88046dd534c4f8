/**
 * A proxy in front of the emulator that answers a share of requests the way SQS does when it
 * sheds load: 400 ThrottlingException or 503 ServiceUnavailable. The SDK sees real error
 * responses, parsed by its own protocol code.
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FaultProxy {
  readonly endpoint: string;
  /** Every n-th request is answered with a fault (0: none). Deterministic, so tests repeat. */
  failEvery: number;
  /** Faults answered so far, by kind. */
  readonly faults: { throttled: number; unavailable: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  let n = 0;
  const proxy: FaultProxy = {
    endpoint: "",
    failEvery: 0,
    faults: { throttled: 0, unavailable: 0 },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      n += 1;
      if (proxy.failEvery > 0 && n % proxy.failEvery === 0) {
        const throttle = (n / proxy.failEvery) % 2 === 0;
        if (throttle) proxy.faults.throttled += 1;
        else proxy.faults.unavailable += 1;
        const code = throttle ? "ThrottlingException" : "ServiceUnavailable";
        res.writeHead(throttle ? 400 : 503, {
          "content-type": "application/x-amz-json-1.0",
          "x-amzn-query-error": `${code};${throttle ? "Sender" : "Server"}`,
        });
        res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message: "injected fault" }));
        return;
      }
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      forward.end(Buffer.concat(chunks));
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  Object.assign(proxy, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return proxy;
}
