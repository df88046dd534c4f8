/**
 * The embedded SQS: fauxqs, in this process, on 127.0.0.1 only. It does what fauxqs's
 * `startFauxqs()` does (stores, optional SQLite persistence) but listens on loopback itself; the
 * parts come from the adapter (./fauxqs.ts), which alone knows fauxqs's internals and why.
 */
import { mkdirSync } from "node:fs";
import { LOOPBACK_ADDRESS } from "../config/endpoint.js";
import { loadFauxqs } from "./fauxqs.js";

export interface EmulatorOptions {
  /** TCP port; 0 picks a free one. */
  readonly port?: number;
  /** Folder for durable state (SQLite). In memory when absent. */
  readonly dataDir?: string;
  readonly region?: string;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`: the SQS endpoint, and the host of every queue URL it hands out. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  stop(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const region = options.region ?? "us-east-1";
  const fauxqs = await loadFauxqs();
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const { stores, close } = fauxqs.openStores(options.dataDir);
  const app = fauxqs.buildApp({ defaultRegion: region, stores });
  app.addHook("preClose", close);
  const address = await app.listen({ port: options.port ?? 0, host: LOOPBACK_ADDRESS });
  const port = Number(new URL(address).port);
  return {
    endpoint: `http://${LOOPBACK_ADDRESS}:${port}`,
    port,
    region,
    stop: () => app.close(),
  };
}
