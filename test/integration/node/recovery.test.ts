/**
 * The aggregator is killed (SIGKILL) in the middle of a burst of tasks and restarted on the
 * same journal: every task it had answered with a task hash ends on-chain exactly once. And
 * the two ways a journaled submission can be found after a crash, made deterministic.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify, toUtf8Bytes, Wallet } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { encodeSubmitTask } from "../../../src/chain/abi-fast.js";
import { aggregateSignatures, blsSecretFromSeed, initBls, signVote } from "../../../src/crypto/bls.js";
import { signTaskEcdsa } from "../../../src/crypto/ecdsa.js";
import { taskHash, voteHash } from "../../../src/crypto/task-hash.js";
import { TaskJournal } from "../../../src/node/journal.js";
import { signEip1559 } from "../../../src/node/tx-pipeline.js";
import {
  ecdsaSendTaskParams,
  type NodeProcess,
  type NodeTestBed,
  postRaw,
  startAggregatorProcess,
  startAttesterProcess,
  startNodeTestBed,
  taskEvents,
  waitPeers,
  waitTaskFinal,
} from "../../helpers/node.js";
import { stablePort } from "../../helpers/ports.js";

let bed: NodeTestBed | undefined;
const nodes: NodeProcess[] = [];
let dir: string;

beforeAll(async () => {
  bed = await startNodeTestBed();
  dir = mkdtempSync(path.join(tmpdir(), "avsctl-node-journal-"));
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await bed?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it("an aggregator killed during a burst and restarted submits each accepted task exactly once", async () => {
  const { entry, net, services } = bed!;
  const port = await stablePort();
  const options = { jsonRpcPort: port, journalPath: path.join(dir, "journal.sqlite"), taskTimeoutMs: 30_000 };
  const start = async (): Promise<NodeProcess> => {
    const { aggregator } = await startAggregatorProcess(entry, net, options);
    nodes.push(aggregator);
    return aggregator;
  };
  const first = await start();
  const rpcUrl = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 3; i++) nodes.push(startAttesterProcess(entry, net, i + 1, rpcUrl, services[i]!.url));
  await waitPeers(rpcUrl, 3);

  const total = 120;
  const accepted: string[] = [];
  let killed = false;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      const params = ecdsaSendTaskParams(net.performer.privateKey, {
        proofOfTask: `burst-${i}-${Date.now()}`,
        data: hexlify(toUtf8Bytes(`value ${i}`)),
        taskDefinitionId: 1,
      });
      try {
        const r = await postRaw(
          rpcUrl,
          JSON.stringify({ jsonrpc: "2.0", id: i, method: "sendTask", params }),
        );
        if (typeof r.json?.result === "string") accepted.push(r.json.result);
      } catch {
        // the aggregator died under this request: not accepted as far as the client knows
      }
      if (!killed && accepted.length >= 40) {
        killed = true;
        await first.kill();
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  expect(killed).toBe(true);
  expect(accepted.length).toBeGreaterThanOrEqual(40);

  const second = await start();
  await waitPeers(rpcUrl, 3);
  // The kill landed while tasks were in flight: the restart had journaled work to resume.
  const resumed = await second.waitFor((r) => r.msg === "resuming journaled tasks");
  console.log("resumed after SIGKILL:", {
    pending: resumed.pending,
    submitting: resumed.submitting,
    accepted: accepted.length,
  });
  expect(resumed.pending + resumed.submitting).toBeGreaterThan(0);
  for (const hash of accepted) expect((await waitTaskFinal(rpcUrl, hash, 60_000)).status).toBe("approved");

  const events = await taskEvents(net);
  const counts = new Map<string, number>();
  for (const e of events) counts.set(e.taskHash, (counts.get(e.taskHash) ?? 0) + 1);
  for (const hash of accepted) expect({ hash, count: counts.get(hash) ?? 0 }).toEqual({ hash, count: 1 });
  for (const [hash, count] of counts) expect({ hash, count }).toEqual({ hash, count: 1 });
  await second.stop();
});

it("a restart sends journaled transactions again as they are, and re-signs one whose nonce was taken", async () => {
  // Two submissions journaled by an aggregator that died before sending them: one whose nonce
  // is still free, and one whose nonce another transaction of the same key has used since.
  const { entry, net } = bed!;
  await initBls();
  const chainId = 31338;
  const aggregator = new Wallet(net.aggregator.privateKey, net.l2Provider);
  const signers = [0, 1].map((i) => net.attesters[i]!);
  const ids = signers.map((a) => BigInt(net.operatorIds.get(a.address.toLowerCase())!));
  const journalFile = path.join(dir, "crafted.sqlite");
  const journal = new TaskJournal(journalFile);
  const fees = await net.l2Provider.getFeeData();
  const nonce = await net.l2Provider.getTransactionCount(aggregator.address, "pending");
  const craft = (label: string, txNonce: number) => {
    const task = {
      proofOfTask: `crafted-${label}-${Date.now()}`,
      data: "0x01",
      performer: net.performer.address,
      taskDefinitionId: 1,
    };
    const hash = taskHash(task);
    const signature = signTaskEcdsa(net.performer.privateKey, hash);
    const vh = voteHash({ ...task, attestationCenter: net.attestationCenter, chainId, isApproved: true });
    const aggSig = aggregateSignatures(signers.map((a) => signVote(blsSecretFromSeed(a.privateKey), vh)));
    const data = encodeSubmitTask(task, {
      isApproved: true,
      tpSignature: signature,
      taSignature: aggSig,
      attestersIds: ids,
    });
    const tx = signEip1559(aggregator.signingKey, {
      chainId: BigInt(chainId),
      nonce: BigInt(txNonce),
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 1n,
      maxFeePerGas: (fees.maxFeePerGas ?? 10n ** 10n) * 2n,
      gasLimit: 2_000_000n,
      to: net.attestationCenter,
      data,
    });
    const now = Date.now();
    journal.insert({
      ...task,
      chainId,
      taskHash: hash,
      signatureType: "ecdsa",
      signature,
      internal: false,
      acceptedAt: now,
      deadline: now + 30_000,
    });
    journal.markSubmitting(chainId, hash, { isApproved: true, attesterIds: ids.map(String), ...tx });
    return { hash, tx };
  };
  const displaced = craft("displaced", nonce);
  const intact = craft("intact", nonce + 1);
  journal.close();
  // Another transaction of the aggregator's key takes the first nonce.
  await (await aggregator.sendTransaction({ to: aggregator.address, value: 0n, nonce })).wait();

  const { aggregator: node, rpcUrl } = await startAggregatorProcess(entry, net, { journalPath: journalFile });
  nodes.push(node);
  const a = await waitTaskFinal(rpcUrl, intact.hash);
  const b = await waitTaskFinal(rpcUrl, displaced.hash);
  expect(a).toMatchObject({ status: "approved", txHash: intact.tx.txHash });
  expect(b.status).toBe("approved");
  expect(b.txHash).not.toBe(displaced.tx.txHash);
  const events = await taskEvents(net);
  for (const hash of [intact.hash, displaced.hash])
    expect(events.filter((e) => e.taskHash === hash).length).toBe(1);
  await node.stop();
});

it("a journal newer than its chain (a state file saved before the crash) forgets the verdicts the chain lacks and it holds no transaction of", async () => {
  // The chain holds the older verdict's transaction; the newer one's was lost with the blocks
  // anvil had not saved yet.
  const { entry, net } = bed!;
  const chainId = 31338;
  const journalFile = path.join(dir, "ahead.sqlite");
  const journal = new TaskJournal(journalFile);
  const sender = new Wallet(net.aggregator.privateKey, net.l2Provider);
  const kept = await (await sender.sendTransaction({ to: sender.address, value: 0n })).wait();
  const verdict = (label: string, txHash: string) => {
    const task = {
      proofOfTask: `ahead-${label}-${Date.now()}`,
      data: "0x01",
      performer: net.performer.address,
      taskDefinitionId: 1,
    };
    const hash = taskHash(task);
    const now = Date.now();
    journal.insert({
      ...task,
      chainId,
      taskHash: hash,
      signatureType: "ecdsa",
      signature: signTaskEcdsa(net.performer.privateKey, hash),
      internal: false,
      acceptedAt: now,
      deadline: now + 30_000,
    });
    journal.markFinal(chainId, hash, "approved", { taskNumber: 1, txHash });
    return hash;
  };
  const onChain = verdict("on-chain", kept!.hash);
  const lost = verdict("lost", `0x${"ab".repeat(32)}`);
  journal.close();

  const { aggregator: node } = await startAggregatorProcess(entry, net, { journalPath: journalFile });
  nodes.push(node);
  await node.stop();
  const after = new TaskJournal(journalFile);
  try {
    expect(after.get(chainId, lost)).toBeUndefined();
    expect(after.get(chainId, onChain)).toMatchObject({ status: "approved", txHash: kept!.hash });
  } finally {
    after.close();
  }
});

it("a task sent again after the journal forgot it is answered TASK_KNOWN from the chain, and lands once", async () => {
  const { entry, net, services } = bed!;
  const port = await stablePort();
  const rpcUrl = `http://127.0.0.1:${port}`;
  const journalFile = path.join(dir, "forgetting.sqlite");
  const attesters = Array.from({ length: 3 }, (_, i) =>
    startAttesterProcess(entry, net, i + 1, rpcUrl, services[i]!.url),
  );
  nodes.push(...attesters);
  const params = ecdsaSendTaskParams(net.performer.privateKey, {
    proofOfTask: `forgotten-${Date.now()}`,
    data: "0x01",
    taskDefinitionId: 1,
  });
  const send = () => postRaw(rpcUrl, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "sendTask", params }));

  const { aggregator: first } = await startAggregatorProcess(entry, net, {
    jsonRpcPort: port,
    journalPath: journalFile,
  });
  nodes.push(first);
  await waitPeers(rpcUrl, 3);
  const hash = (await send()).json.result as string;
  expect((await waitTaskFinal(rpcUrl, hash)).status).toBe("approved");
  await first.stop();

  // The journal's bound deletes it: one newer ended task and a bound of one.
  const journal = new TaskJournal(journalFile, { keepEnded: 1 });
  const newer = `0x${"ab".repeat(32)}`;
  journal.insert({ ...journalEntryOf(newer, net.performer.address), chainId: 31338 });
  journal.markFinal(31338, newer, "timeout");
  expect(journal.get(31338, hash)).toBeUndefined();
  expect(journal.hasForgotten()).toBe(true);
  journal.close();

  const { aggregator: second } = await startAggregatorProcess(entry, net, {
    jsonRpcPort: port,
    journalPath: journalFile,
  });
  nodes.push(second);
  await waitPeers(rpcUrl, 3);
  const again = await send();
  expect(again.json.error).toMatchObject({
    code: -32022,
    message: `task ${hash} is already on-chain`,
    data: { reason: "TASK_KNOWN", taskHash: hash, status: "on-chain" },
  });
  // a new task is still taken in as usual
  const fresh = ecdsaSendTaskParams(net.performer.privateKey, {
    proofOfTask: `after-forgetting-${Date.now()}`,
    data: "0x02",
    taskDefinitionId: 1,
  });
  const taken = await postRaw(
    rpcUrl,
    JSON.stringify({ jsonrpc: "2.0", id: 2, method: "sendTask", params: fresh }),
  );
  expect((await waitTaskFinal(rpcUrl, taken.json.result)).status).toBe("approved");
  expect((await taskEvents(net)).filter((e) => e.taskHash === hash)).toHaveLength(1);
  await second.stop();
  await Promise.all(attesters.map((a) => a.stop()));
});

/** A task as the journal keeps it when accepted. */
function journalEntryOf(taskHash: string, performer: string) {
  const now = Date.now();
  return {
    taskHash,
    proofOfTask: "newer",
    data: "0x",
    performer,
    taskDefinitionId: 1,
    signatureType: "ecdsa" as const,
    signature: "0x",
    internal: false,
    acceptedAt: now,
    deadline: now + 30_000,
  };
}
