/**
 * The heartbeat's extensions against SQS's limit of 12 hours from the receive: a beat asks for no
 * more than is left of it (a minute to spare), and none once it is spent.
 */
import type { Message } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { Heartbeat, visibilityLeftSeconds } from "../../src/consumer/runtime/heartbeat.js";
import type { VisibilityChange } from "../../src/consumer/runtime/requests.js";
import type { Tracked } from "../../src/consumer/runtime/types.js";
import { silentLogger } from "../../src/log/logger.js";
import type { Batcher } from "../../src/sqs/batcher.js";
import { VISIBILITY_MAX_SECONDS } from "../../src/sqs/limits.js";
import type { Clock } from "../../src/time/clock.js";

const TIMEOUT_SECONDS = 30;

function held(id: string, receivedAt: number, now: number): Tracked {
  return {
    message: { MessageId: id } as Message,
    receiptHandle: `rh-${id}`,
    receiveCount: 1,
    receivedAt,
    deadline: now + 1_000, // half spent and more: due for an extension
    extending: false,
  };
}

function beatOnce(tracked: Tracked[], now: number): VisibilityChange[] {
  const changes: VisibilityChange[] = [];
  const clock: Clock = { now: () => now, setTimeout: () => ({ cancel() {} }), sleep: async () => {} };
  const visibility = {
    add: async (change: VisibilityChange) => {
      changes.push(change);
    },
  } as unknown as Batcher<VisibilityChange>;
  new Heartbeat(clock, TIMEOUT_SECONDS, () => tracked, visibility, silentLogger).beat();
  return changes;
}

describe("heartbeat: SQS's 12 h from the receive", () => {
  it("extends by the visibility timeout while the limit is far, by what is left near it, not at all past it", () => {
    const now = 100 * 3_600_000;
    const hours = (h: number) => now - h * 3_600_000;
    const changes = beatOnce(
      [
        held("young", hours(1), now),
        held("near", now - (VISIBILITY_MAX_SECONDS - 60 - 10) * 1000, now),
        held("spent", hours(12), now),
      ],
      now,
    );
    expect(changes).toEqual([
      { receiptHandle: "rh-young", timeoutSeconds: TIMEOUT_SECONDS },
      { receiptHandle: "rh-near", timeoutSeconds: 10 },
    ]);
  });

  it("counts whole seconds up: a visibility it sets never ends past the limit less a minute", () => {
    const receivedAt = 0;
    for (const elapsedMs of [0, 1, 999, 1_000, 3_600_001]) {
      const left = visibilityLeftSeconds({ receivedAt }, elapsedMs);
      expect(elapsedMs / 1000 + left).toBeLessThanOrEqual(VISIBILITY_MAX_SECONDS - 60);
    }
  });
});
