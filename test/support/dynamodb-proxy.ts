/**
 * A proxy in front of dynalite that makes it answer as DynamoDB does where it does not, or as a
 * failing DynamoDB would. The SDK sees real HTTP answers, parsed by its own protocol code.
 *
 * - `returnOldItem`: dynalite ignores `ReturnValuesOnConditionCheckFailure`; DynamoDB puts the
 *   item that failed the condition into the ConditionalCheckFailedException. With this on, the
 *   proxy reads that item from dynalite and adds it to the error body, as DynamoDB would.
 * - `fault`: every request is answered with this error (AccessDeniedException, throttling…).
 * - `dropAnswers`: that many requests are carried out upstream, then their answers are lost
 *   (the connection is cut), as on a network failure after DynamoDB applied the write.
 * - `freeze(mode)` / `thaw()`: the store stops answering. `"hold"`: as dynalite under SIGSTOP
 *   would (this one runs in the test's own process, so it cannot be stopped itself): connections
 *   are accepted and requests read, then held; on `thaw()` they are carried out, answered to
 *   whoever still waits (a client that gave up finds its answer gone, its write applied).
 *   `"lose"`: a network partition: what is sent meanwhile never reaches the store, and its
 *   connection is cut on `thaw()`.
 * - `requests`: what the client sent, by operation (the proxy's own reads not counted).
 */
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface InjectedFault {
  readonly status: number;
  /** The error's type, e.g. `AccessDeniedException` (sent as `com.amazonaws.dynamodb.v20120810#<type>`). */
  readonly type: string;
  readonly message?: string;
}

export interface DynamoDbProxy {
  readonly endpoint: string;
  returnOldItem: boolean;
  fault: InjectedFault | undefined;
  dropAnswers: number;
  readonly requests: Record<string, number>;
  freeze(mode?: "hold" | "lose"): void;
  thaw(): void;
  close(): Promise<void>;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request sent during a partition: it never reached the store. */
class LostRequest extends Error {}

export async function startDynamoDbProxy(
  target: string,
  options: { keyAttribute?: string } = {},
): Promise<DynamoDbProxy> {
  const upstream = new URL(target);
  const keyAttribute = options.keyAttribute ?? "id";
  const forward = (headers: Record<string, string | string[] | undefined>, body: Buffer) =>
    new Promise<Answer>((resolve, reject) => {
      const outgoing = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: "POST",
          path: "/",
          headers: { ...headers, "content-length": String(body.length) },
        },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on("data", (chunk) => chunks.push(chunk));
          answer.on("end", () =>
            resolve({
              status: answer.statusCode ?? 502,
              headers: answer.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      outgoing.on("error", reject);
      outgoing.end(body);
    });

  let frozen: ((carriedOut: boolean) => void)[] | undefined;
  let losing = false;
  const proxy: DynamoDbProxy = {
    freeze(mode = "hold") {
      frozen ??= [];
      losing = mode === "lose";
    },
    thaw() {
      const waiting = frozen ?? [];
      frozen = undefined;
      for (const resume of waiting) resume(!losing);
    },
    endpoint: "",
    returnOldItem: false,
    fault: undefined,
    dropAnswers: 0,
    requests: {},
    close: () =>
      new Promise((resolve) => {
        server.closeIdleConnections();
        server.close(() => resolve());
      }),
  };

  const handle = async (
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
  ): Promise<Answer> => {
    const target = String(headers["x-amz-target"] ?? "");
    const operation = target.split(".")[1] ?? target;
    proxy.requests[operation] = (proxy.requests[operation] ?? 0) + 1;
    const held = frozen;
    if (held && !(await new Promise<boolean>((resume) => held.push(resume)))) throw new LostRequest();
    if (proxy.fault) {
      return {
        status: proxy.fault.status,
        headers: { "content-type": "application/x-amz-json-1.0" },
        body: Buffer.from(
          JSON.stringify({
            __type: `com.amazonaws.dynamodb.v20120810#${proxy.fault.type}`,
            message: proxy.fault.message ?? "injected fault",
          }),
        ),
      };
    }
    const answer = await forward(headers, body);
    if (!proxy.returnOldItem || answer.status !== 400) return answer;
    const error = JSON.parse(answer.body.toString()) as { __type?: string; Item?: unknown };
    const input = JSON.parse(body.toString()) as {
      TableName: string;
      Key?: Record<string, unknown>;
      Item?: Record<string, unknown>;
      ReturnValuesOnConditionCheckFailure?: string;
    };
    if (!error.__type?.endsWith("#ConditionalCheckFailedException")) return answer;
    if (input.ReturnValuesOnConditionCheckFailure !== "ALL_OLD") return answer;
    const key = input.Key ?? { [keyAttribute]: input.Item?.[keyAttribute] };
    const read = await forward(
      { ...headers, "x-amz-target": "DynamoDB_20120810.GetItem" },
      Buffer.from(JSON.stringify({ TableName: input.TableName, Key: key, ConsistentRead: true })),
    );
    const { Item } = JSON.parse(read.body.toString()) as { Item?: unknown };
    if (Item !== undefined) error.Item = Item;
    const rewritten = Buffer.from(JSON.stringify(error));
    return {
      ...answer,
      headers: { ...answer.headers, "content-length": String(rewritten.length) },
      body: rewritten,
    };
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      handle(req.headers, Buffer.concat(chunks)).then(
        (answer) => {
          if (proxy.dropAnswers > 0) {
            proxy.dropAnswers -= 1;
            req.socket.destroy();
            return;
          }
          // dynalite's CRC32 header covers its own body; a rewritten body has another one.
          const { "x-amz-crc32": _crc, ...headers } = answer.headers;
          res.writeHead(answer.status, { ...headers, "content-length": String(answer.body.length) });
          res.end(answer.body);
        },
        (error: unknown) => {
          if (error instanceof LostRequest) {
            req.socket.destroy();
            return;
          }
          res.writeHead(502);
          res.end();
        },
      );
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  Object.assign(proxy, { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  return proxy;
}
