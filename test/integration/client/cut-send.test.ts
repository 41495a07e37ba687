/**
 * `task send --via execution` when the aggregator's connection is cut while the execution service
 * waits for its answer to sendTask (as when the devnet's supervisor restarts the aggregator):
 * real node processes (an aggregator and three attesters on anvils), a proxy in front of the
 * aggregator that cuts a request after the aggregator took it, or before it reached it, or that
 * stays away afterwards, and avsctl's own execution service, sent to as `task send` sends
 * (executionSends through runTasks). What task send reports is true whichever happened: the task
 * the service signed lands once, or its fate is unknown, never `failed`. 127.0.0.1 only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionInput, executionSends } from "../../../src/client/send.js";
import { type SampleService, startSampleExecution } from "../../../src/devnet/samples/sample-services.js";
import { runTasks } from "../../../src/task/run.js";
import { type Cut, cuttingProxy, journalEntry, verdictCounts } from "../../helpers/cutting-proxy.js";
import { type NodeTestBed, startNodes, startNodeTestBed, taskEvents } from "../../helpers/node.js";

let bed: NodeTestBed;
let nodes: Awaited<ReturnType<typeof startNodes>>;

beforeAll(async () => {
  bed = await startNodeTestBed();
  nodes = await startNodes(bed.entry, bed.net, bed.services);
}, 180_000);

afterAll(async () => {
  await Promise.all([nodes?.aggregator.stop(), ...(nodes?.attesters ?? []).map((a) => a.stop())]);
  await bed?.stop();
}, 60_000);

/**
 * One `task send --via execution` of one task, through avsctl's execution service whose
 * aggregator is behind a proxy cutting as `plan` says; avsctl sends again through the proxy too.
 */
async function sendThroughCut(
  plan: Cut[],
  opts: { wait: boolean; timeoutMs: number; away?: boolean },
): Promise<{ summary: Awaited<ReturnType<typeof runTasks>>; serviceCalls: number; proxied: number }> {
  const proxy = await cuttingProxy(nodes.rpcUrl);
  proxy.plan.push(...plan);
  let service: SampleService | undefined;
  try {
    service = await startSampleExecution({
      aggregatorUrl: proxy.url,
      performerKey: bed.net.performer.privateKey,
    });
    let serviceCalls = 0;
    const sends = executionSends(
      service.url,
      executionInput(bed.net.taskDefinitionId, undefined, undefined),
      bed.net.performer.address,
      proxy.url,
    );
    const summary = await runTasks({
      count: 1,
      concurrency: 1,
      wait: opts.wait,
      timeoutMs: opts.timeoutMs,
      chainId: bed.net.l2s[0]!.chainId,
      provider: bed.net.l2Provider,
      attestationCenter: bed.net.attestationCenter,
      aggregatorUrl: nodes.rpcUrl,
      idempotent: (i) => sends.signedTask(i) !== undefined,
      sendOne: async (i, left) => {
        if (sends.signedTask(i) === undefined) serviceCalls++;
        const sent = sends.sendOne(i, left);
        // an aggregator that does not come back once it cut the service's call
        if (opts.away) await sent.catch(() => proxy.away());
        return sent;
      },
      taskOf: (i) => sends.signedTask(i) ?? { taskDefinitionId: bed.net.taskDefinitionId },
    });
    return { summary, serviceCalls, proxied: proxy.sendTasks.length };
  } finally {
    await service?.stop();
    await proxy.close();
  }
}

const onChain = () => verdictCounts(bed.net);
const journal = (hash: string) => journalEntry(nodes.rpcUrl, hash);

describe("the aggregator cut the execution service's sendTask mid-request", () => {
  it("after it took the task: the very task is sent again, found known, and its verdict is the one that lands, once", async () => {
    const { summary, serviceCalls, proxied } = await sendThroughCut(["after-taken"], {
      wait: true,
      timeoutMs: 30_000,
    });
    const [r] = summary.results;
    expect(r, r?.error).toMatchObject({
      status: "approved",
      taskHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    });
    // one task: sent by the service, then by avsctl as that same task, and not "already known"
    expect(summary).toMatchObject({ sent: 1, distinct: 1, duplicates: 0, alreadyKnown: 0, failed: 0 });
    expect(r!.duplicate).toBeUndefined();
    expect(summary.warnings).toEqual([]);
    expect(summary.retried).toBeGreaterThanOrEqual(1);
    expect({ serviceCalls, proxied }).toEqual({ serviceCalls: 1, proxied: 2 });
    expect((await onChain()).get(r!.taskHash)).toBe(1);
    const landed = (await taskEvents(bed.net)).find((e) => e.taskHash === r!.taskHash);
    expect(landed).toMatchObject({ txHash: r!.txHash, taskNumber: r!.taskNumber });
  }, 60_000);

  it("after it took the task, without --wait: sent, as this run's task", async () => {
    const { summary } = await sendThroughCut(["after-taken"], { wait: false, timeoutMs: 30_000 });
    const [r] = summary.results;
    expect(r, r?.error).toMatchObject({ status: "sent" });
    expect(r!.duplicate).toBeUndefined();
    expect(summary).toMatchObject({ sent: 1, alreadyKnown: 0, failed: 0 });
    expect(await journal(r!.taskHash)).not.toBeNull();
  }, 60_000);

  it("before the aggregator read it: the very task is sent again, taken then, and lands once", async () => {
    const { summary, serviceCalls, proxied } = await sendThroughCut(["before-taken"], {
      wait: true,
      timeoutMs: 30_000,
    });
    const [r] = summary.results;
    expect(r, r?.error).toMatchObject({ status: "approved" });
    expect(summary).toMatchObject({ sent: 1, distinct: 1, alreadyKnown: 0, failed: 0 });
    expect({ serviceCalls, proxied }).toEqual({ serviceCalls: 1, proxied: 2 });
    expect((await onChain()).get(r!.taskHash)).toBe(1);
  }, 60_000);

  for (const wait of [true, false]) {
    it(`and the aggregator does not come back within --timeout${wait ? " (--wait)" : ""}: the task's fate is unknown, named by its hash, not failed`, async () => {
      const { summary, serviceCalls } = await sendThroughCut(["before-taken"], {
        wait,
        timeoutMs: 3_000,
        away: true,
      });
      const [r] = summary.results;
      expect(r).toMatchObject({
        status: "timeout",
        taskHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
        reason: { message: r!.error, abstained: [] },
        error: expect.stringMatching(/^fate unknown: the aggregator may have taken this task/),
      });
      expect(summary).toMatchObject({ sent: 0, failed: 0, timedOut: 1 });
      expect(serviceCalls).toBe(1);
      // and indeed it did not land: the aggregator never had it
      expect((await onChain()).has(r!.taskHash)).toBe(false);
      expect(await journal(r!.taskHash)).toBeNull();
    }, 60_000);
  }
});
