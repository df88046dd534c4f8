/** The benchmark's SQS: the embedded emulator in its own process, so its CPU is not the consumer's. */
import { startEmulator } from "../../src/local/emulator.js";

const emulator = await startEmulator({ port: 0 });
process.stdout.write(`${JSON.stringify({ endpoint: emulator.endpoint })}\n`);
const stop = () => void emulator.stop().then(() => process.exit(0));
process.once("SIGTERM", stop);
// The bench holds this process's stdin open: its end is the bench gone (killed by a signal or
// SIGKILL, so never to send SIGTERM), and an emulator left behind would load the next run.
process.stdin.once("end", stop).resume();
