/**
 * The client's retries, without a network: `attempt` is the seam a send goes through, and
 * answers as an aggregator would (a task hash, TASK_KNOWN as `known`, or the avsctl error a
 * refusal or a transport failure becomes). The waits are recorded, not slept.
 */
import { describe, expect, it } from "vitest";
import {
  busyRetryAfterMs,
  insufficientPowerReason,
  type RetryOptions,
  sendWithRetries,
} from "../../../src/client/retry.js";
import type { SentTask } from "../../../src/client/send.js";
import { AvsctlError } from "../../../src/errors.js";

const sent = (known = false): SentTask => ({
  proofOfTask: "0xp",
  data: "0xd",
  taskDefinitionId: 1,
  performer: "0x0000000000000000000000000000000000000001",
  taskHash: "0xaa",
  sentAt: Date.now(),
  ...(known ? { known } : {}),
});

const refusal = (reason: string, code: number, data: Record<string, unknown> = {}) =>
  new AvsctlError("COMMAND_FAILED", `sendTask refused by the aggregator: ${reason}`, {
    details: { rpcError: { code, message: reason, data: { reason, ...data } } },
  });
const busy = (retryAfterMs: number) => refusal("OVERLOADED", -32003, { retryAfterMs, pending: 3, limit: 2 });
const timedOut = () => new AvsctlError("TIMEOUT", "the aggregator did not answer in time");
/** The connection reset mid-request: the aggregator may have read the task. */
const cut = () =>
  new AvsctlError("RPC_UNREACHABLE", "the aggregator is unreachable: read ECONNRESET", {
    cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }),
  });
const refused = () =>
  new AvsctlError("RPC_UNREACHABLE", "the aggregator is unreachable", {
    cause: Object.assign(new TypeError("fetch failed"), {
      cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    }),
  });

/** Runs `answers` in order through sendWithRetries; records each attempt and each wait. */
async function replay(answers: Array<SentTask | Error>, opts: Partial<RetryOptions> = {}) {
  const waits: number[] = [];
  let attempts = 0;
  const result = await sendWithRetries(
    async () => {
      const a = answers[Math.min(attempts++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a;
    },
    {
      deadline: Date.now() + 60_000,
      idempotent: true,
      retryUnavailable: false,
      random: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
      },
      ...opts,
    },
  );
  return { result, waits, attempts };
}

describe("a busy aggregator (OVERLOADED)", () => {
  it("is answered by waiting the retryAfterMs it asked for and sending again", async () => {
    const { result, waits, attempts } = await replay([busy(120), busy(300), sent()]);
    expect(result).toMatchObject({ ok: true, refusedBusy: 2, retries: 2 });
    expect(waits).toEqual([120, 300]);
    expect(attempts).toBe(3);
  });

  it("adds jitter on top of the wait, never less than asked", async () => {
    const { waits } = await replay([busy(200), sent()], { random: () => 0.99 });
    expect(waits[0]).toBeGreaterThan(200);
    expect(waits[0]).toBeLessThanOrEqual(300);
  });

  it("is retried by a non-idempotent path too: a refused task was never taken", async () => {
    // as sendTaskViaExecution reads it back from the message the service relays
    const viaService = new AvsctlError(
      "COMMAND_FAILED",
      "the execution service's task was refused by the aggregator: sendTask failed: aggregator busy: 3 tasks in progress (limit 2); retry after 150 ms",
      { details: { status: 500, reason: "OVERLOADED", retryAfterMs: 150, pending: 3, limit: 2 } },
    );
    expect(busyRetryAfterMs(viaService)).toBe(150);
    const { result, waits } = await replay([viaService, sent()], { idempotent: false });
    expect(result).toMatchObject({ ok: true, refusedBusy: 1 });
    expect(waits).toEqual([150]);
  });

  it("gives up with the refusal when the wait would pass the deadline", async () => {
    const { result, waits } = await replay([busy(5_000)], { deadline: Date.now() + 1_000 });
    expect(result).toMatchObject({ ok: false, refusedBusy: 1, retries: 0 });
    expect(busyRetryAfterMs((result as { error: unknown }).error)).toBe(5_000);
    expect(waits).toEqual([]);
  });

  it("stays bounded in attempts and time when the aggregator stays busy", async () => {
    const { result, attempts } = await replay([busy(20)], {
      deadline: Date.now() + 300,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    expect(result.ok).toBe(false);
    expect(attempts).toBeLessThanOrEqual(300 / 20 + 1);
  });
});

describe("a send of unknown fate", () => {
  it("goes again as the same task; TASK_KNOWN then means this run's send got through", async () => {
    const { result, waits } = await replay([timedOut(), sent(true)]);
    expect(result).toMatchObject({ ok: true, retries: 1, refusedBusy: 0 });
    expect((result as { sent: SentTask }).sent.known).toBeUndefined();
    expect(waits).toEqual([250]);
  });

  it("TASK_KNOWN on a first send is a task the network had before", async () => {
    const { result } = await replay([sent(true)]);
    expect((result as { sent: SentTask }).sent.known).toBe(true);
  });

  it("is not sent again when each attempt would build a new task (the execution service)", async () => {
    const { result, attempts } = await replay([timedOut(), sent()], { idempotent: false });
    expect(result).toMatchObject({ ok: false, retries: 0 });
    expect(attempts).toBe(1);
  });

  it("backs off between attempts, doubling up to 2 s", async () => {
    const { waits } = await replay([timedOut(), timedOut(), timedOut(), timedOut(), timedOut(), sent()]);
    expect(waits).toEqual([250, 500, 1_000, 2_000, 2_000]);
  });
});

describe("a refused connection (nothing arrived)", () => {
  it("is tried again only when asked to ride out a restart (--wait)", async () => {
    expect((await replay([refused(), sent()])).result).toMatchObject({ ok: false });
    const again = await replay([refused(), sent()], { retryUnavailable: true, idempotent: false });
    expect(again.result).toMatchObject({ ok: true, retries: 1 });
  });
});

describe("a send cut mid-request, then an aggregator that refuses connections (restarting)", () => {
  it("goes again until the aggregator answers, without --wait too: its fate is unknown until then", async () => {
    const { result, attempts } = await replay([cut(), refused(), refused(), sent(true)]);
    expect(result).toMatchObject({ ok: true, retries: 3 });
    // TASK_KNOWN: the cut send got through
    expect((result as { sent: SentTask }).sent.known).toBeUndefined();
    expect(attempts).toBe(4);
  });

  it("whose fate is still unknown at the deadline says so", async () => {
    const { result } = await replay([cut(), refused()], {
      deadline: Date.now() + 300,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    });
    expect(result).toMatchObject({ ok: false, fateUnknown: true });
  });

  it("an answer then is the aggregator's: a refusal means it does not hold the task", async () => {
    const { result } = await replay([cut(), refusal("INVALID_SIGNATURE", -32010)]);
    expect(result).toMatchObject({ ok: false, fateUnknown: false });
  });

  it("is asked per failure whether the next attempt carries the same task", async () => {
    // the execution service: a new task on each call until it hands one back
    let signed = false;
    const { result, attempts } = await replay([cut(), sent()], { idempotent: () => signed });
    expect(result).toMatchObject({ ok: false, fateUnknown: false, retries: 0 });
    expect(attempts).toBe(1);
    signed = true;
    expect((await replay([cut(), sent()], { idempotent: () => signed })).result).toMatchObject({ ok: true });
  });
});

describe("refusals that are final", () => {
  it("too little connected voting power is reported at once, with the powers", async () => {
    const short = refusal("INSUFFICIENT_CONNECTED_POWER", -32023, {
      connectedPower: "1000",
      requiredPower: "2000",
    });
    const { result, attempts } = await replay([short, sent()]);
    expect(result.ok).toBe(false);
    expect(attempts).toBe(1);
    expect(insufficientPowerReason((result as { error: unknown }).error)).toMatchObject({
      abstained: [],
      connectedPower: "1000",
      requiredPower: "2000",
    });
  });

  it("any other refusal is not retried", async () => {
    const { result, attempts } = await replay([refusal("INVALID_SIGNATURE", -32010), sent()]);
    expect(result.ok).toBe(false);
    expect(attempts).toBe(1);
  });
});
