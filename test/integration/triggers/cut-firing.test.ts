/**
 * A trigger firing whose sendTask is cut mid-request (as when the devnet's supervisor restarts
 * the aggregator): real node processes (an aggregator and three attesters on anvils), a proxy in
 * front of the aggregator that cuts the firing's sendTask after the aggregator took it, or before
 * it reached it, or that stays away afterwards (helpers/cutting-proxy.ts, as for `task send`),
 * and a real trigger runner sending through avsctl's execution service or signing itself. What
 * the runner records is true whichever happened: the firing's one task lands once, or its fate
 * is unknown, named by its hash; never `failed`, never a second task. 127.0.0.1 only.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SampleService, startSampleExecution } from "../../../src/devnet/samples/sample-services.js";
import { type FiringRecord, startTriggerRunner, type TriggerSend } from "../../../src/triggers/runner.js";
import {
  type Cut,
  type CuttingProxy,
  cuttingProxy,
  journalEntry,
  verdictCounts,
} from "../../helpers/cutting-proxy.js";
import { type NodeTestBed, startNodes, startNodeTestBed } from "../../helpers/node.js";
import { until } from "../../helpers/until.js";

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

/** The params of the sendTask in a JSON-RPC body (a single call or a batch). */
function sendTaskParams(body: string): unknown[] {
  const calls = [JSON.parse(body)].flat() as Array<{ method: string; params: unknown[] }>;
  return calls.find((c) => c.method === "sendTask")!.params;
}

/**
 * One firing of an interval trigger (maxFirings 1) by a runner holding every operator's key, its
 * sends going to the aggregator through a proxy that cuts as `plan` says: through avsctl's
 * execution service (which sends through the proxy too) or signed by the runner itself.
 */
async function fireThroughCut(
  plan: Cut[],
  opts: { via: "execution" | "rpc"; away?: boolean; sendTimeoutMs?: number },
): Promise<{
  record: FiringRecord;
  status: { sent: number; unknown: number; failed: number };
  proxy: CuttingProxy;
}> {
  let proxy: CuttingProxy | undefined;
  // an aggregator that does not come back once it cut the firing's call
  proxy = await cuttingProxy(nodes.rpcUrl, { onCut: () => opts.away && proxy?.away() });
  proxy.plan.push(...plan);
  let service: SampleService | undefined;
  const { net } = bed;
  try {
    let send: TriggerSend;
    if (opts.via === "execution") {
      service = await startSampleExecution({
        aggregatorUrl: proxy.url,
        performerKey: net.performer.privateKey,
      });
      send = {
        via: "execution",
        executionUrl: service.url,
        performer: net.performer.address,
        aggregatorUrl: proxy.url,
      };
    } else {
      send = { via: "rpc", aggregatorUrl: proxy.url };
    }
    const operators = [net.aggregator, net.performer, ...net.attesters];
    await using runner = await startTriggerRunner({
      definitions: [
        {
          taskDefinitionId: net.taskDefinitionId,
          triggers: [{ type: "interval", everyMs: 200, maxFirings: 1 }],
        },
      ],
      l2: { rpcUrl: net.l2.rpcUrl, attestationCenter: net.attestationCenter, chainId: net.l2s[0]!.chainId },
      operators: new Map(operators.map((o) => [o.address.toLowerCase(), o.privateKey])),
      send,
      sendTimeoutMs: opts.sendTimeoutMs,
    });
    const [record] = await until(
      async () => (runner.firings().length > 0 ? runner.firings() : undefined),
      "the firing's record",
      60_000,
    );
    const [status] = runner.status();
    return { record: record!, status: status!, proxy };
  } finally {
    await service?.stop();
    await proxy.close();
  }
}

/** Waits for the task's verdict on the L2, and returns how many it has. */
async function landed(taskHash: string): Promise<number> {
  return until(
    async () => (await verdictCounts(bed.net)).get(taskHash),
    `the verdict of ${taskHash}`,
    60_000,
  );
}

describe("a trigger firing whose sendTask the aggregator's connection cut mid-request", () => {
  it("through the execution service, after the aggregator took it: the task the service handed back is sent again, and recorded sent; it lands once", async () => {
    const { record, status, proxy } = await fireThroughCut(["after-taken"], { via: "execution" });
    expect(record, record.error?.message).toMatchObject({
      outcome: "sent",
      taskHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
    });
    expect(record.error).toBeUndefined();
    expect(status).toMatchObject({ firings: 1, sent: 1, unknown: 0, failed: 0 });
    // one task: the service's send, then the runner's of those very params; the service called once
    expect(proxy.sendTasks).toHaveLength(2);
    expect(sendTaskParams(proxy.sendTasks[1]!)).toEqual(sendTaskParams(proxy.sendTasks[0]!));
    expect(await landed(record.taskHash!)).toBe(1);
  }, 120_000);

  it("through the execution service, before the aggregator read it: taken on the runner's send, recorded sent; it lands once", async () => {
    const { record, status, proxy } = await fireThroughCut(["before-taken"], { via: "execution" });
    expect(record, record.error?.message).toMatchObject({ outcome: "sent" });
    expect(status).toMatchObject({ sent: 1, unknown: 0, failed: 0 });
    expect(proxy.sendTasks).toHaveLength(2);
    expect(sendTaskParams(proxy.sendTasks[1]!)).toEqual(sendTaskParams(proxy.sendTasks[0]!));
    expect(await landed(record.taskHash!)).toBe(1);
  }, 120_000);

  it("signed by the runner, after the aggregator took it: the same task is sent again, recorded sent; it lands once", async () => {
    const { record, status, proxy } = await fireThroughCut(["after-taken"], { via: "rpc" });
    expect(record, record.error?.message).toMatchObject({ outcome: "sent" });
    expect(status).toMatchObject({ sent: 1, unknown: 0, failed: 0 });
    expect(proxy.sendTasks).toHaveLength(2);
    expect(sendTaskParams(proxy.sendTasks[1]!)).toEqual(sendTaskParams(proxy.sendTasks[0]!));
    expect(await landed(record.taskHash!)).toBe(1);
  }, 120_000);

  it("and the aggregator does not come back within the send's bound: the firing's fate is unknown, named by its hash, not failed", async () => {
    const { record, status, proxy } = await fireThroughCut(["before-taken"], {
      via: "execution",
      away: true,
      sendTimeoutMs: 3_000,
    });
    expect(record).toMatchObject({
      outcome: "unknown",
      taskHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      data: expect.stringMatching(/^0x[0-9a-f]+$/),
      error: {
        code: "RPC_UNREACHABLE",
        message: expect.stringMatching(
          /^fate unknown: the aggregator may have taken this task \(a send of it got no answer\), and it did not answer again within 3 s \(/,
        ),
      },
    });
    expect(status).toMatchObject({ firings: 1, sent: 0, unknown: 1, failed: 0 });
    // the service was not called again (the proxy met one sendTask; the runner's found it gone)
    expect(proxy.sendTasks).toHaveLength(1);
    expect(String(sendTaskParams(proxy.sendTasks[0]!)[1]).toLowerCase()).toBe(record.data);
    // and indeed it did not land: the aggregator never had it
    expect((await verdictCounts(bed.net)).has(record.taskHash!)).toBe(false);
    expect(await journalEntry(nodes.rpcUrl, record.taskHash!)).toBeNull();
  }, 120_000);
});
