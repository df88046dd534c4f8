/** The benchmark's SQS: the embedded emulator in its own process, so its CPU is not the consumer's. */
import { startEmulator } from "../../src/local/emulator.js";

const emulator = await startEmulator({ port: 0 });
process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint })}\n`);
process.once("SIGTERM", () => void emulator.stop().then(() => process.exit(0)));
