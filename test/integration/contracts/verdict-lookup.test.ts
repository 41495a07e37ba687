/**
 * Finding a task's verdict on a real chain: the events avsctl decodes word by word match
 * ethers' reading of them, and a lookup by hash reads the one receipt the aggregator's journal
 * names, falling back to every verdict when that receipt does not hold the task. A proxy in
 * front of anvil stands in for a hosted RPC that caps eth_getLogs ranges (the public internet
 * is not reachable here).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { JsonRpcProvider, Network } from "ethers";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { attestationCenterInterfaces } from "../../../src/chain/abi/interfaces.js";
import type { TaskInfo } from "../../../src/chain/contracts.js";
import { readVerdicts, type TaskVerdict } from "../../../src/client/verdicts.js";
import { findVerdict, type JournalRow } from "../../../src/task/verdicts.js";
import { useAnvil } from "../../helpers/anvil.js";
import {
  createDefinition,
  ETH,
  hashOf,
  type Network2,
  newTask,
  setupNetwork,
  submitEcdsa,
} from "./fixture.js";

const chain = useAnvil({ chainId: 31337 });

describe("verdict lookup", () => {
  let net: Network2;
  const submitted: Array<{ task: TaskInfo; txHash: string; isApproved: boolean }> = [];
  const target = () => ({
    provider: net.provider,
    attestationCenter: net.deployment.attestationCenter as `0x${string}`,
    chainId: chain().chainId,
  });
  const journaled = (status: JournalRow["status"], txHash: string | null) =>
    ({ status, txHash }) as JournalRow;

  beforeAll(async () => {
    net = await setupNetwork(chain(), [ETH, ETH, ETH]);
    const definition = await createDefinition(net);
    for (const isApproved of [true, false, true]) {
      const task = newTask(net, definition, `0x${"cd".repeat(40)}`);
      const receipt = await submitEcdsa(net, task, {
        isApproved,
        signers: isApproved ? undefined : net.attesters.slice(0, 1),
      });
      submitted.push({ task, txHash: receipt.hash, isApproved });
    }
  }, 60_000);
  afterAll(() => net?.provider.destroy());

  it("reads every verdict as ethers decodes its event, with the task hash of the submitted task", async () => {
    const { gen2 } = await attestationCenterInterfaces();
    const verdicts = await readVerdicts(target());
    expect(verdicts).toHaveLength(3);
    for (const [i, v] of verdicts.entries()) {
      const { task, txHash, isApproved } = submitted[i]!;
      const receipt = await net.provider.getTransactionReceipt(txHash);
      const parsed = gen2.parseLog(
        receipt!.logs.find(
          (l) => l.topics[0] === gen2.getEvent(isApproved ? "TaskSubmitted" : "TaskRejected")!.topicHash,
        )!,
      )!;
      expect(v).toEqual<TaskVerdict>({
        status: isApproved ? "approved" : "rejected",
        taskHash: hashOf(task),
        taskNumber: Number(parsed.args.taskNumber),
        taskDefinitionId: Number(task.taskDefinitionId),
        proofOfTask: task.proofOfTask,
        data: task.data,
        performer: parsed.args.operator,
        chainId: chain().chainId,
        txHash,
        blockNumber: receipt!.blockNumber,
        attestersIds: Array.from(parsed.args.attestersIds as bigint[], Number),
      });
    }
  });

  it("by hash reads the receipt the journal names; a wrong or missing one falls back to the scan", async () => {
    const all = await readVerdicts(target());
    const [first, second] = submitted;
    const wanted = { hash: hashOf(second!.task) };
    const expected = all.find((v) => v.taskHash === wanted.hash);
    expect(expected?.status).toBe("rejected");
    const scans = vi.spyOn(net.provider, "getLogs");
    expect(await findVerdict(target(), wanted, journaled("rejected", second!.txHash))).toEqual(expected);
    expect(scans).not.toHaveBeenCalled();
    // the journal of a chain restored from an older state, or a stale row: the chain decides
    expect(await findVerdict(target(), wanted, journaled("approved", first!.txHash))).toEqual(expected);
    expect(await findVerdict(target(), wanted, journaled("approved", `0x${"ee".repeat(32)}`))).toEqual(
      expected,
    );
    expect(await findVerdict(target(), wanted, undefined)).toEqual(expected);
    expect(
      await findVerdict(target(), { hash: `0x${"ab".repeat(32)}` }, journaled("approved", second!.txHash)),
    ).toBeUndefined();
    expect(await findVerdict(target(), { number: expected!.taskNumber }, undefined)).toEqual(expected);
    expect(scans).toHaveBeenCalledTimes(5);
    scans.mockRestore();
  });
});

describe("verdicts through a node that caps eth_getLogs ranges", () => {
  let net: Network2;
  let proxy: http.Server;
  let proxied: JsonRpcProvider;
  /** What the proxy answers a range wider than 4 blocks with. */
  let refusal = "block range is too wide: at most 4 blocks";
  const asked: Array<[number, number]> = [];

  beforeAll(async () => {
    net = await setupNetwork(chain(), [ETH, ETH]);
    const definition = await createDefinition(net);
    for (let i = 0; i < 3; i++) await submitEcdsa(net, newTask(net, definition));
    proxy = http.createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      const one = async (call: { id: number; method: string; params: Array<Record<string, string>> }) => {
        if (call.method === "eth_getLogs") {
          const from = Number(call.params[0]!.fromBlock);
          const to = Number(call.params[0]!.toBlock);
          asked.push([from, to]);
          if (to - from + 1 > 4)
            return { jsonrpc: "2.0", id: call.id, error: { code: -32005, message: refusal } };
        }
        const answer = await fetch(chain().rpcUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(call),
        });
        return answer.json();
      };
      const out = Array.isArray(body) ? await Promise.all(body.map(one)) : await one(body);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(out));
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const network = Network.from(chain().chainId);
    proxied = new JsonRpcProvider(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, network, {
      staticNetwork: network,
      cacheTimeout: -1,
    });
  }, 60_000);
  afterAll(async () => {
    proxied?.destroy();
    net?.provider.destroy();
    proxy?.closeAllConnections();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  const query = (provider: JsonRpcProvider) => ({
    provider,
    attestationCenter: net.deployment.attestationCenter,
    chainId: chain().chainId,
  });

  it("asks again in halves where the node refuses the range, and finds every verdict", async () => {
    const direct = await readVerdicts(query(net.provider));
    expect(direct).toHaveLength(3);
    asked.length = 0;
    expect(await readVerdicts(query(proxied))).toEqual(direct);
    expect(asked.length).toBeGreaterThan(1);
    expect(asked.filter(([from, to]) => to - from + 1 <= 4).length).toBeGreaterThan(0);
  });

  it("does not split on a rate limit or any other error: the node's error comes back", async () => {
    refusal = "rate limit exceeded, too many requests";
    asked.length = 0;
    await expect(readVerdicts(query(proxied))).rejects.toThrow(/rate limit exceeded/);
    expect(asked).toHaveLength(1);
  });
});
