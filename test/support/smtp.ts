/**
 * A real SMTP server (smtp-server, by nodemailer's author) on 127.0.0.1, port 0, that counts what
 * it accepted and answers as a test tells it to: a reply code at connect, RCPT TO or the end of
 * DATA. Plus a scripted server that accepts the envelope and DATA, then drops the connection with
 * the body on its way (the ambiguous case), and a port that refuses connections.
 */
import { createServer, type Server, type Socket } from "node:net";
import { SMTPServer } from "smtp-server";
import { LOOPBACK_ADDRESS } from "../../src/config/endpoint.js";

/** `accept`: the TCP connection, before any SMTP; `connect`: the greeting. */
export type Stage = "accept" | "connect" | "rcpt" | "data";

/**
 * What the server answers next: a reply code; "drop": close at once (at `accept`, before any
 * SMTP; at `data`, once the whole body has arrived, before any reply); `{ delayMs }`: at `data`,
 * the body is taken and the 250 comes that much later; `undefined` to accept.
 */
export type Answer = number | "drop" | { readonly delayMs: number } | undefined;
export type Script = (stage: Stage) => Answer;

/** A script that answers each listed fault once, in order, when its stage comes; then accepts. */
export function faultsInOrder(...faults: [Stage, number | "drop"][]): Script {
  const queue = [...faults];
  return (stage) => {
    if (queue[0]?.[0] !== stage) return undefined;
    return queue.shift()?.[1];
  };
}

export interface Received {
  readonly messageId: string;
  readonly to: string[];
  /** When the body arrived (epoch ms, the server's clock). */
  readonly at: number;
  /** When the server took the connection that carried it (each send opens its own). */
  readonly connectedAt: number;
}

export interface TestSmtp {
  readonly port: number;
  readonly url: string;
  /** Emails answered with 250 (a delayed 250 counts once it is sent). */
  readonly received: Received[];
  /**
   * Every complete body the server took, answered or not (dropped after DATA, or answered later
   * than the client waited): the copies a person may get, counted at the worst.
   */
  readonly bodies: Received[];
  /** Replies other than acceptance, by code. */
  readonly refusals: Map<number, number>;
  /** Connections closed at accept. */
  readonly dropped: number;
  script: Script;
  close(): Promise<void>;
}

function reply(code: number | undefined): Error | null {
  if (code === undefined) return null;
  return Object.assign(new Error(code >= 500 ? "Mailbox unavailable" : "Try again later"), {
    responseCode: code,
  });
}

export async function startTestSmtp(script: Script = () => undefined): Promise<TestSmtp> {
  const received: Received[] = [];
  const bodies: Received[] = [];
  const sockets = new Map<number, Socket>();
  const refusals = new Map<number, number>();
  const connectedAt = new Map<string, number>();
  const state = { script };
  const refusal = (code: Answer) => {
    if (typeof code !== "number") return null;
    refusals.set(code, (refusals.get(code) ?? 0) + 1);
    return reply(code);
  };
  const answer = (stage: Stage) => refusal(state.script(stage));
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS", "AUTH"],
    logger: false,
    onConnect(session, callback) {
      connectedAt.set(session.id, Date.now());
      callback(answer("connect") ?? undefined);
    },
    onClose(session, callback) {
      connectedAt.delete(session.id);
      callback();
    },
    onRcptTo(_address, _session, callback) {
      callback(answer("rcpt") ?? undefined);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        const messageId = /^Message-ID:\s*(<[^>]+>)/im.exec(text)?.[1] ?? "";
        const at = Date.now();
        const mail = {
          messageId,
          to: session.envelope.rcptTo.map((r) => r.address),
          at,
          connectedAt: connectedAt.get(session.id) ?? at,
        };
        const next = state.script("data");
        if (next === "drop") {
          bodies.push(mail);
          sockets.get(session.remotePort)?.destroy();
          return;
        }
        const refused = refusal(next);
        if (refused) return callback(refused);
        bodies.push(mail);
        if (typeof next === "object") {
          setTimeout(() => {
            received.push({ ...mail, at: Date.now() });
            callback(null);
          }, next.delayMs);
          return;
        }
        received.push(mail);
        callback(null);
      });
    },
  });
  // A client SIGKILLed mid-session resets its socket, and smtp-server reports that as an 'error'
  // event: with no listener it would be an uncaught exception in the test process. What counts is
  // what the server accepted, not how a connection ended.
  server.on("error", () => undefined);
  // Before smtp-server sees it: a connection closed without a word.
  let dropped = 0;
  server.server.prependListener("connection", (socket: Socket) => {
    if (socket.remotePort !== undefined) {
      const port = socket.remotePort;
      sockets.set(port, socket);
      socket.on("close", () => sockets.delete(port));
    }
    if (state.script("accept") === "drop") {
      dropped += 1;
      socket.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK_ADDRESS, resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    url: `smtp://${LOOPBACK_ADDRESS}:${port}`,
    received,
    bodies,
    refusals,
    get dropped() {
      return dropped;
    },
    get script() {
      return state.script;
    },
    set script(next: Script) {
      state.script = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Speaks just enough SMTP to take the envelope and answer DATA with 354, then closes the connection
 * once the body has arrived, before any reply: the client cannot know whether it was delivered.
 */
export async function startDroppingSmtp(): Promise<{ url: string; bodies: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const result = { url: "", bodies: 0, close: async () => {} };
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    let inData = false;
    let buffer = "";
    socket.write("220 dropping ESMTP\r\n");
    socket.on("data", (chunk) => {
      buffer += chunk.toString("utf8");
      for (;;) {
        if (inData) {
          if (!buffer.includes("\r\n.\r\n")) return;
          result.bodies += 1;
          socket.destroy();
          return;
        }
        const end = buffer.indexOf("\r\n");
        if (end < 0) return;
        const line = buffer.slice(0, end).toUpperCase();
        buffer = buffer.slice(end + 2);
        if (line.startsWith("EHLO") || line.startsWith("HELO")) socket.write("250 dropping\r\n");
        else if (line.startsWith("DATA")) {
          inData = true;
          socket.write("354 go ahead\r\n");
        } else if (line.startsWith("QUIT")) socket.end("221 bye\r\n");
        else socket.write("250 OK\r\n");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK_ADDRESS, resolve));
  result.url = `smtp://${LOOPBACK_ADDRESS}:${(server.address() as { port: number }).port}`;
  result.close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  return result;
}

/** A loopback port nothing listens on (bound, then released). */
export async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK_ADDRESS, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
