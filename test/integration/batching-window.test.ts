/** `consume --batching-window`: validated like every flag, and refused for a FIFO queue in one line. */
import { describe, expect, it } from "vitest";
import { runConsumeApp } from "../support/consume-app.js";

// Nothing listens on the discard port: both refusals come before any request.
const fifoQueue = "http://127.0.0.1:9/000000000000/registrations.fifo";

describe("consume --batching-window", () => {
  it("is refused for a FIFO queue with one line naming the flag (exit 2)", async () => {
    const result = await runConsumeApp(["--queue-url", fifoQueue, "--batching-window", "1000"]);
    expect(result.code, result.stderr).toBe(2);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/--batching-window is not for FIFO queues/);
  });

  it("must be a whole number of milliseconds up to 300,000", async () => {
    const result = await runConsumeApp(["--queue-url", fifoQueue, "--batching-window", "soon"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--batching-window must be a whole number from 0 to 300000/);
  });
});
