/**
 * The L2 anvil killed right after submissions of ours were mined, and started again from its
 * state file saved before them (as a devnet's supervisor does; anvil saves it every second):
 * the verdicts the aggregator had reported are gone from the chain. The aggregator sends their
 * journaled transactions again as they were, so each task ends on-chain with the tx hash (and
 * task number) it was reported with, once, whether it notices while running (its chain watch)
 * or at its start-up after the chain (the process runtime's supervisor restarts it).
 */

import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AnvilInstance, startAnvil } from "../../../src/chain/anvil.js";
import { goodCopyOf, keepGoodCopy } from "../../../src/devnet/chain-storage.js";
import { sleep } from "../../../src/util/sleep.js";
import {
  ecdsaSendTaskParams,
  type NodeProcess,
  type NodeTestBed,
  postRaw,
  startAggregatorProcess,
  startAttesterProcess,
  startNodeTestBed,
  type TaskStatus,
  taskEvents,
  waitPeers,
  waitTaskFinal,
} from "../../helpers/node.js";
import { stablePort } from "../../helpers/ports.js";

let bed: NodeTestBed | undefined;
let dir: string;
const nodes: NodeProcess[] = [];
/** The L2 now running: the test network's, then each one started again. */
let l2: AnvilInstance;
const restarted: AnvilInstance[] = [];
let port: number;
let journalPath: string;
let aggregator: NodeProcess;

const rpcUrl = () => `http://127.0.0.1:${port}`;
const stateFile = () => path.join(dir, "l2-31338.json");

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "avsctl-l2-lost-"));
  bed = await startNodeTestBed({ l2StateDir: dir });
  l2 = bed.net.l2;
  port = await stablePort();
  journalPath = path.join(dir, "journal.sqlite");
  aggregator = await startAggregator();
  for (let i = 0; i < 3; i++)
    nodes.push(startAttesterProcess(bed.entry, bed.net, i + 1, rpcUrl(), bed.services[i]!.url));
  await waitPeers(rpcUrl(), 3);
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(restarted.map((a) => a.stop()));
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function startAggregator(): Promise<NodeProcess> {
  const { aggregator: node } = await startAggregatorProcess(bed!.entry, bed!.net, {
    jsonRpcPort: port,
    journalPath,
    taskTimeoutMs: 30_000,
  });
  nodes.push(node);
  return node;
}

type Told = TaskStatus & { taskHash: string };

/** Sends tasks at once and waits for their verdicts, as a client told of them. */
async function sendAndWait(label: string, n: number): Promise<Told[]> {
  const hashes = await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const params = ecdsaSendTaskParams(bed!.net.performer.privateKey, {
        proofOfTask: `${label}-${i}-${Date.now()}`,
        data: "0x01",
        taskDefinitionId: 1,
      });
      const r = await postRaw(
        rpcUrl(),
        JSON.stringify({ jsonrpc: "2.0", id: i, method: "sendTask", params }),
      );
      expect(typeof r.json?.result, JSON.stringify(r.json)).toBe("string");
      return r.json.result as string;
    }),
  );
  const told = await Promise.all(
    hashes.map(async (taskHash) => ({ ...(await waitTaskFinal(rpcUrl(), taskHash)), taskHash })),
  );
  for (const t of told) expect(t).toMatchObject({ status: "approved", txHash: expect.any(String) });
  return told;
}

/** A whole copy of the state file holding everything mined so far (anvil saves it every second). */
async function saveOlderState(): Promise<void> {
  await sleep(1_500);
  for (let i = 0; !keepGoodCopy(stateFile()); i++) {
    if (i > 50) throw new Error("the L2's state file never parsed");
    await sleep(50);
  }
}

/** SIGKILL of the L2: it saves nothing more. */
async function killL2(): Promise<void> {
  process.kill(l2.pid, "SIGKILL");
  await l2.exited;
}

/** The L2 started again on its port from the state file saved before the newest submissions. */
async function startL2FromOlderState(): Promise<void> {
  copyFileSync(goodCopyOf(stateFile()), stateFile());
  l2 = await startAnvil({ chainId: 31338, port: l2.port, stateFile: stateFile() });
  restarted.push(l2);
}

async function receipt(txHash: string): Promise<{ status: string } | null> {
  const r = await postRaw(
    l2.rpcUrl,
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_getTransactionReceipt", params: [txHash] }),
  );
  return r.json.result;
}

/** Each task on-chain once, by the transaction and with the number its client was told of. */
async function expectSameVerdicts(told: Told[]): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (const t of told) {
    let mined = await receipt(t.txHash!);
    while (!mined && Date.now() < deadline) {
      await sleep(200);
      mined = await receipt(t.txHash!);
    }
    expect({ taskHash: t.taskHash, receipt: mined?.status ?? null }).toEqual({
      taskHash: t.taskHash,
      receipt: "0x1",
    });
    expect(await waitTaskFinal(rpcUrl(), t.taskHash)).toMatchObject({
      status: "approved",
      txHash: t.txHash,
      taskNumber: t.taskNumber,
    });
  }
  const events = await taskEvents(bed!.net);
  for (const t of told) {
    const mine = events.filter((e) => e.taskHash === t.taskHash);
    expect(mine.map((e) => [e.txHash, e.taskNumber])).toEqual([[t.txHash, t.taskNumber]]);
  }
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.taskHash, (counts.get(e.taskHash) ?? 0) + 1);
  expect([...counts].filter(([, n]) => n > 1)).toEqual([]);
}

it("a running aggregator sends the verdicts its L2 lost again as they were: same tx hash, same task number, once", async () => {
  const [kept] = await sendAndWait("kept", 1);
  await saveOlderState();
  const told = await sendAndWait("lost", 3);
  await killL2();
  await startL2FromOlderState();
  // the chain came back from before them
  expect((await receipt(kept!.txHash!))?.status).toBe("0x1");

  await expectSameVerdicts([kept!, ...told]);
  const repair = await aggregator.waitFor(
    (r) => r.msg === "L2 lost transactions of ours (started again from an older state?); nonces resynced",
  );
  expect(repair).toMatchObject({ lost: 3, sentAgain: 3, reSigned: 0, onChain: 0, failed: 0, forgotten: 0 });
  expect(aggregator.logs.filter((r) => /re-sign/.test(r.msg))).toEqual([]);
});

it("an aggregator started again after its L2 (as the supervisor does) sends the lost verdicts again as they were", async () => {
  await saveOlderState();
  const told = await sendAndWait("lost-at-restart", 2);
  await killL2();
  // the supervisor stops the aggregator and starts it once the chain is back
  await aggregator.stop();
  await startL2FromOlderState();
  aggregator = await startAggregator();

  await expectSameVerdicts(told);
  const repair = await aggregator.waitFor(
    (r) => r.msg === "L2 lost verdicts of ours (started again from an older state?)",
  );
  expect(repair).toMatchObject({ sentAgain: 2, reSigned: 0, onChain: 0, failed: 0, forgotten: 0 });
  expect(aggregator.logs.filter((r) => /re-sign/.test(r.msg))).toEqual([]);
  await aggregator.stop();
});
