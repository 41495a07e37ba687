/**
 * One aggregator and three attesters as separate processes, on real anvil chains with our
 * contracts, real HTTP validation services, and a client written like Othentic's examples.
 */

import { hexlify, toUtf8Bytes, Wallet } from "ethers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  ATTESTER_STAKE,
  type NodeProcess,
  type NodeTestBed,
  postRaw,
  sendTaskLikeOthentic,
  startAttesterProcess,
  startNodes,
  startNodeTestBed,
  type TestNetwork,
  taskEvents,
  type ValidationService,
  waitPeers,
  waitTaskFinal,
} from "../../helpers/node.js";

let bed: NodeTestBed | undefined;
let net: TestNetwork;
let entry: string;
let services: ValidationService[] = [];
let aggregator: NodeProcess;
let attesters: NodeProcess[] = [];
let rpcUrl: string;
let counter = 0;
/** When the aggregator started: it holds no unconnected attester against a task for a moment. */
let aggregatorStartedAt = 0;

/** Until the aggregator's join grace is over (attesters may be dialing in until then). */
async function afterJoinGrace(): Promise<void> {
  const { JOIN_GRACE_MS } = await import("../../../src/node/aggregator/reachability.js");
  await new Promise((r) =>
    setTimeout(r, Math.max(0, aggregatorStartedAt + JOIN_GRACE_MS + 500 - Date.now())),
  );
}

const task = (label: string) => ({
  proofOfTask: `Qm${label}-${++counter}-${Date.now()}`,
  data: hexlify(toUtf8Bytes(`price=${1000 + counter}`)),
  taskDefinitionId: 1,
});

const idOf = (i: number): number => net.operatorIds.get(net.attesters[i]!.address.toLowerCase())!;

beforeAll(async () => {
  bed = await startNodeTestBed();
  ({ entry, net, services } = bed);
  ({ aggregator, attesters, rpcUrl } = await startNodes(entry, net, services, {
    taskTimeoutMs: 4_000,
    customMessageEnabled: true,
    metrics: true,
    metricsPort: 0,
  }));
  aggregatorStartedAt = Date.now();
});

// what the aggregator logged last, for a failure CI met and a quiet machine does not
afterEach((ctx) => {
  if (ctx.task.result?.state !== "fail") return;
  const tail = aggregator?.logs.slice(-40).map((r) => JSON.stringify(r));
  console.error(`aggregator's last log records:\n${tail?.join("\n")}`);
});

afterAll(async () => {
  await Promise.all([aggregator, ...attesters].map((n) => n?.stop()));
  await bed?.stop();
});

describe("consensus between separate node processes", () => {
  it("a task from an Othentic-style client ends in TaskSubmitted with its proof, performer and attester ids", async () => {
    const t = task("othentic");
    const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, t);
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    const status = await waitTaskFinal(rpcUrl, hash);
    expect(status.status).toBe("approved");

    const event = (await taskEvents(net)).find((e) => e.taskHash === hash);
    expect(event?.name).toBe("TaskSubmitted");
    expect(event?.proofOfTask).toBe(t.proofOfTask);
    expect(event?.data).toBe(t.data);
    expect(event?.operator).toBe(net.performer.address);
    expect(event?.taskDefinitionId).toBe(1);
    const ids = event!.attestersIds;
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect([idOf(0), idOf(1), idOf(2)]).toContain(id);
    expect(status.attestersIds).toEqual(ids);
    expect(status.taskNumber).toBe(event?.taskNumber);
    expect(status.txHash).toBe(event?.txHash);

    // Every validation service got the body of docs/protocol.md#validation-service, as JSON,
    // with avsctl's taskHash for its log lines.
    const seen = services.flatMap((s) => s.calls).find((c: any) => c.proofOfTask === t.proofOfTask) as any;
    expect(seen).toEqual({
      proofOfTask: t.proofOfTask,
      data: t.data,
      taskDefinitionId: 1,
      performer: net.performer.address,
      taskHash: hash,
    });
  });

  it("answers a batch of eth_chainId and sendTask by id", async () => {
    const { ecdsaSendTaskParams } = await import("../../helpers/node.js");
    const params = ecdsaSendTaskParams(net.performer.privateKey, task("batch"));
    const r = await postRaw(
      rpcUrl,
      JSON.stringify([
        { jsonrpc: "2.0", id: 7, method: "eth_chainId", params: [] },
        { jsonrpc: "2.0", id: 8, method: "sendTask", params },
      ]),
    );
    expect(r.status).toBe(200);
    const byId = new Map((r.json as any[]).map((x) => [x.id, x]));
    expect(byId.get(7).result).toBe("0x7a6a");
    expect(byId.get(8).result).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await waitTaskFinal(rpcUrl, byId.get(8).result)).status).toBe("approved");
  });

  it("answers a task sent again with TASK_KNOWN and the task it repeats, before and after its verdict", async () => {
    const { ecdsaSendTaskParams } = await import("../../helpers/node.js");
    const params = ecdsaSendTaskParams(net.performer.privateKey, task("again"));
    const send = () => postRaw(rpcUrl, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "sendTask", params }));
    const first = await send();
    const hash = first.json.result as string;
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    const early = await send();
    expect(early.json.error).toMatchObject({
      code: -32022,
      data: { reason: "TASK_KNOWN", taskHash: hash, chainId: 0x7a6a },
    });
    const final = await waitTaskFinal(rpcUrl, hash);
    expect(final.status).toBe("approved");
    const late = await send();
    expect(late.json.error).toMatchObject({
      code: -32022,
      data: { reason: "TASK_KNOWN", taskHash: hash, status: "approved", taskNumber: final.taskNumber },
    });
    expect((await taskEvents(net)).filter((e) => e.taskHash === hash)).toHaveLength(1);
  });

  it("accepts the 7-parameter form with a BLS performer signature and a target chain", async () => {
    const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("bls"), {
      sigType: "bls",
      targetChainId: 31338,
    });
    expect((await waitTaskFinal(rpcUrl, hash)).status).toBe("approved");
    expect((await taskEvents(net)).find((e) => e.taskHash === hash)?.name).toBe("TaskSubmitted");
  });

  it("a validation service answering false gives TaskRejected", async () => {
    for (const s of services) s.mode = "reject";
    try {
      const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("reject"));
      const status = await waitTaskFinal(rpcUrl, hash);
      expect(status.status).toBe("rejected");
      expect((await taskEvents(net)).find((e) => e.taskHash === hash)?.name).toBe("TaskRejected");
    } finally {
      for (const s of services) s.mode = "approve";
    }
  });

  it("attesters whose service is broken abstain, never approve; the others still carry the task", async () => {
    services[0]!.mode = "garbage";
    services[1]!.mode = "go-shape-approve";
    try {
      const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("garbage"));
      const status = await waitTaskFinal(rpcUrl, hash);
      expect(status.status).toBe("approved");
      expect(status.attestersIds).toEqual([idOf(1), idOf(2)]);
      await attesters[0]!.waitFor((r) => r.msg === "abstaining" && r.taskHash === hash);
    } finally {
      for (const s of services) s.mode = "approve";
    }
  });

  it("every attester abstaining ends the task unreachable at once, with who abstained and why", async () => {
    for (const s of services) s.mode = "error500";
    try {
      const before = await net.l2Provider.getTransactionCount(net.aggregator.address);
      const t = task("abstain");
      const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, t);
      const status = (await waitTaskFinal(rpcUrl, hash)) as any;
      expect(status.status).toBe("unreachable");
      expect(status.txHash).toBeNull();
      expect(status.reason).toMatchObject({
        connectedPower: String(3n * 10n ** 18n),
        requiredPower: String(2n * 10n ** 18n),
      });
      expect(status.reason.abstained.map((a: any) => a.operatorId).sort()).toEqual(
        [idOf(0), idOf(1), idOf(2)].sort(),
      );
      for (const a of status.reason.abstained) {
        expect(a.attester).toMatch(/^0x[0-9a-fA-F]{40}$/);
        expect(a.reason).toMatch(/500/);
      }
      await aggregator.waitFor(
        (r) => r.msg === "task unreachable: no verdict can be reached" && r.taskHash === hash,
      );
      expect(await net.l2Provider.getTransactionCount(net.aggregator.address)).toBe(before);
      // once the services answer again, the same task may be sent again and is approved
      for (const s of services) s.mode = "approve";
      expect(await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, t)).toBe(hash);
      expect((await waitTaskFinal(rpcUrl, hash)).status).toBe("approved");
    } finally {
      for (const s of services) s.mode = "approve";
    }
  });

  it("one attester stopped still approves; two stopped refuse new tasks; two frozen time out", async () => {
    const disconnected = (i: number) => {
      const from = aggregator.logs.length;
      return aggregator.waitFor(
        (r) =>
          r.msg === "attester disconnected" &&
          String(r.peer).toLowerCase() === net.attesters[i]!.address.toLowerCase() &&
          aggregator.logs.indexOf(r) >= from,
      );
    };
    const gone2 = disconnected(2);
    await attesters[2]!.stop();
    await gone2;
    const one = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("one-down"));
    const s1 = await waitTaskFinal(rpcUrl, one);
    expect(s1.status).toBe("approved");
    expect(s1.attestersIds).toEqual([idOf(0), idOf(1)]);

    const gone1 = disconnected(1);
    await attesters[1]!.stop();
    await gone1;
    // attesters missing during the aggregator's first seconds may still be dialing in: only after
    // that grace is a task refused for the ones that are gone
    await afterJoinGrace();
    const before = await net.l2Provider.getTransactionCount(net.aggregator.address);
    const { ecdsaSendTaskParams } = await import("../../helpers/node.js");
    const twoDown = ecdsaSendTaskParams(net.performer.privateKey, task("two-down"));
    const refused = await postRaw(
      rpcUrl,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "sendTask", params: twoDown }),
    );
    expect(refused.json.error).toMatchObject({
      code: -32023,
      data: {
        reason: "INSUFFICIENT_CONNECTED_POWER",
        connectedPower: String(10n ** 18n),
        requiredPower: String(2n * 10n ** 18n),
      },
    });
    expect(await net.l2Provider.getTransactionCount(net.aggregator.address)).toBe(before);

    // Restarted attesters rejoin by themselves.
    attesters[1] = startAttesterProcess(entry, net, 2, rpcUrl, services[1]!.url);
    attesters[2] = startAttesterProcess(entry, net, 3, rpcUrl, services[2]!.url);
    const joined = aggregator.logs.length;
    await Promise.all(
      [net.attesters[1]!, net.attesters[2]!].map((a) =>
        aggregator.waitFor(
          (r) =>
            r.msg === "attester connected" &&
            String(r.peer).toLowerCase() === a.address.toLowerCase() &&
            aggregator.logs.indexOf(r) >= joined,
        ),
      ),
    );
    // Frozen attesters stay connected and never answer: the task could still be decided, so it
    // waits for its deadline and times out, with the reason as it stood then.
    const frozen = [attesters[1]!, attesters[2]!];
    for (const a of frozen) process.kill(-a.child.pid!, "SIGSTOP");
    let late: string;
    const lateTask = task("frozen");
    try {
      late = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, lateTask);
      const s2 = (await waitTaskFinal(rpcUrl, late)) as any;
      expect(s2.status).toBe("timeout");
      expect(s2.txHash).toBeNull();
      expect(s2.reason).toMatchObject({ abstained: [], connectedPower: String(3n * 10n ** 18n) });
      await aggregator.waitFor(
        (r) => r.msg === "task timed out: no threshold reached" && r.taskHash === late,
      );
    } finally {
      for (const a of frozen) process.kill(-a.child.pid!, "SIGCONT");
    }
    expect((await taskEvents(net)).some((e) => e.taskHash === late)).toBe(false);
    const health = (await (await fetch(`${rpcUrl}/health`)).json()) as { journal: Record<string, number> };
    expect(health.journal.timeout).toBeGreaterThanOrEqual(1);
    expect(await (await fetch(`${rpcUrl}/metrics`)).text()).toMatch(
      /^avsctl_tasks_timed_out_total\{chainId="31338"\} [1-9]/m,
    );

    const gone0 = disconnected(0);
    await attesters[0]!.stop();
    await gone0;
    const back = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("rejoined"));
    const s3 = await waitTaskFinal(rpcUrl, back);
    expect(s3.status).toBe("approved");
    expect(s3.attestersIds).toEqual([idOf(1), idOf(2)]);
    // The timed-out task, sent again, gets a new attempt.
    expect(await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, lateTask)).toBe(late);
    expect((await waitTaskFinal(rpcUrl, late)).status).toBe("approved");
    attesters[0] = startAttesterProcess(entry, net, 1, rpcUrl, services[0]!.url);
  });

  it("broadcasts sendCustomMessage to every validation service's /p2p/message", async () => {
    await waitPeers(rpcUrl, 3);
    const r = await postRaw(
      rpcUrl,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "sendCustomMessage", params: ["0x68656c6c6f"] }),
    );
    expect(r.json.result).toBe(true);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && services.some((s) => s.messages.length === 0))
      await new Promise((res) => setTimeout(res, 50));
    for (const s of services) expect(s.messages).toContainEqual({ data: "0x68656c6c6f" });
  });

  it("a performer that is not an operator is refused before anything reaches the chain", async () => {
    const outsider = Wallet.createRandom();
    await expect(sendTaskLikeOthentic(rpcUrl, outsider.privateKey, task("outsider"))).rejects.toMatchObject({
      error: { code: -32011 },
    });
  });

  it("a definition the network cannot serve is refused with the figures that decide it", async () => {
    const { attestationCenter } = await import("../../../src/chain/contracts.js");
    const { NonceManager } = await import("ethers");
    const governance = new NonceManager(new Wallet(net.deployer.privateKey, net.l2Provider));
    const ac = attestationCenter(net.attestationCenter, governance);
    const create = ac.getFunction(
      "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
    );
    const define = async (
      name: string,
      minimumVotingPower: bigint,
      maxAttesters: bigint,
      restricted: bigint[] = [],
    ) => {
      const receipt = await (
        await create(name, [2n ** 64n - 1n, 0n, 0n, 0n, 0n, minimumVotingPower, restricted, maxAttesters])
      ).wait();
      return Number(ac.interface.parseLog(receipt!.logs.at(-1)!)!.args.taskDefinitionId);
    };
    const send = (taskDefinitionId: number) =>
      sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, { ...task("unservable"), taskDefinitionId });

    // the performer (no voting power) under the definition's minimum: the minimum is named
    const minimum = await define("minimum", 2n * 10n ** 18n, 0n);
    await expect(send(minimum)).rejects.toMatchObject({
      error: {
        message: `the performer holds less than task definition ${minimum}'s minimum voting power (2000000000000000000) (InsufficientVotingPowerForTaskDefinition)`,
      },
    });
    // restricted to the performer (no voting power) and an id nobody has: the restriction is named
    const performer = new Wallet(net.performer.privateKey).address.toLowerCase();
    const operators: Array<{ operator: string; operatorId: bigint }> =
      await ac.getFunction("getActiveOperatorsDetails")();
    const performerId = operators.find((o) => o.operator.toLowerCase() === performer)!.operatorId;
    const nobody = await define("nobody", 0n, 0n, [performerId, 99n]);
    await expect(send(nobody)).rejects.toMatchObject({
      error: {
        message: `no voting power can attest task definition ${nobody}: it is restricted to operators ${performerId}, 99, and none of them holds voting power`,
        data: { restrictedAttesterIds: [String(performerId), "99"] },
      },
    });
    // one signer at most: three attesters connected, but only the strongest one counts
    const single = await define("single", 0n, 1n);
    await afterJoinGrace();
    await expect(send(single)).rejects.toMatchObject({
      error: {
        message: `at most 1 attester(s) may sign for definition ${single} (maximumNumberOfAttesters), and the strongest connected ones hold ${ATTESTER_STAKE} voting power, below the ${2n * ATTESTER_STAKE} needed to approve a task of definition ${single}`,
        data: { reason: "INSUFFICIENT_CONNECTED_POWER" },
      },
    });
  });

  it("a definition used before its blockExpiry is refused as expired as soon as the chain passes it", async () => {
    const { attestationCenter } = await import("../../../src/chain/contracts.js");
    const governance = new Wallet(net.deployer.privateKey, net.l2Provider);
    const ac = attestationCenter(net.attestationCenter, governance);
    const create = ac.getFunction(
      "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
    );
    const head = async () => BigInt(await net.l2Provider.send("eth_blockNumber", []));
    const expiry = (await head()) + 6n;
    // the chain's own count: an earlier test's NonceManager may have left ethers' one behind
    const nonce = Number(
      await net.l2Provider.send("eth_getTransactionCount", [net.deployer.address, "pending"]),
    );
    const receipt = await (await create("soon", [expiry, 0n, 0n, 0n, 0n, 0n, [], 0n], { nonce })).wait(
      1,
      30_000,
    );
    const id = Number(ac.interface.parseLog(receipt!.logs.at(-1)!)!.args.taskDefinitionId);
    const send = () =>
      sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, { ...task("soon"), taskDefinitionId: id });

    // the aggregator has checked (and cached) the definition and the performer for it
    expect((await waitTaskFinal(rpcUrl, await send())).status).toBe("approved");
    // as `devnet advance` does: the chain reaches blockExpiry at once, between two refreshes
    await net.l2Provider.send("anvil_mine", [`0x${(expiry - (await head())).toString(16)}`]);
    expect(await head()).toBe(expiry);
    const before = await net.l2Provider.getTransactionCount(net.aggregator.address);
    await expect(send()).rejects.toMatchObject({
      error: {
        code: -32013,
        message: `task definition ${id} has expired (InvalidTaskDefinition)`,
        data: { revert: "InvalidTaskDefinition" },
      },
    });
    expect(await net.l2Provider.getTransactionCount(net.aggregator.address)).toBe(before);
  });

  it("malformed requests each get a stable error, none reaches the chain, and the node keeps serving", async () => {
    const { ecdsaSendTaskParams } = await import("../../helpers/node.js");
    const { blsSecretFromSeed, signTaskBls } = await import("../../../src/crypto/bls.js");
    const { taskHash } = await import("../../../src/crypto/task-hash.js");
    const nonceBefore = await net.l2Provider.getTransactionCount(net.aggregator.address);
    const good = ecdsaSendTaskParams(net.performer.privateKey, task("good"));
    const forgedBy = Wallet.createRandom();
    const forged = [...good];
    forged[4] = forgedBy.signingKey.sign(
      taskHash({ ...task("forged"), performer: net.performer.address }),
    ).serialized;
    const call = (method: string, params: unknown) =>
      JSON.stringify({ jsonrpc: "2.0", id: 1, method, params });
    const blsTask = task("bls-forged");
    const wrongKeySig = signTaskBls(
      blsSecretFromSeed(forgedBy.privateKey),
      taskHash({ ...blsTask, performer: net.performer.address }),
    );
    const blsJson = (x: bigint, y: bigint) =>
      JSON.stringify({ x: `0x${x.toString(16)}`, y: `0x${y.toString(16)}` });
    const blsParams = (sig: string) => [
      blsTask.proofOfTask,
      blsTask.data,
      1,
      net.performer.address,
      sig,
      "bls",
    ];

    const cases: Array<[string, string, number]> = [
      ["bad JSON", "{not json", -32700],
      ["not an object", "42", -32600],
      ["empty batch", "[]", -32600],
      [
        "wrong jsonrpc version",
        JSON.stringify({ jsonrpc: "1.0", id: 1, method: "sendTask", params: good }),
        -32600,
      ],
      ["unknown method", call("eth_sendTransaction", []), -32601],
      ["params not a list", call("sendTask", "oops"), -32600],
      ["too few params", call("sendTask", good.slice(0, 3)), -32602],
      ["proof not a string", call("sendTask", [123, ...good.slice(1)]), -32602],
      ["proof too long", call("sendTask", ["x".repeat(20_000), ...good.slice(1)]), -32602],
      ["data not hex", call("sendTask", [good[0], "0xzz", ...good.slice(2)]), -32602],
      ["data odd length", call("sendTask", [good[0], "0xabc", ...good.slice(2)]), -32602],
      ["definition id not a number", call("sendTask", [good[0], good[1], "one", ...good.slice(3)]), -32602],
      ["definition id out of range", call("sendTask", [good[0], good[1], 70_000, ...good.slice(3)]), -32602],
      ["internal definition id", call("sendTask", [good[0], good[1], 10001, ...good.slice(3)]), -32602],
      ["bad performer address", call("sendTask", [...good.slice(0, 3), "0x1234", good[4]]), -32602],
      ["short signature", call("sendTask", [...good.slice(0, 4), "0x1234"]), -32602],
      ["unknown signature type", call("sendTask", [...good, "rsa"]), -32602],
      ["chain without signature type", call("sendTask", [...good, null, 31338]), -32602],
      ["forged ECDSA signature", call("sendTask", forged), -32010],
      [
        "BLS signature by another key",
        call("sendTask", blsParams(blsJson(wrongKeySig[0], wrongKeySig[1]))),
        -32010,
      ],
      ["BLS signature off the curve", call("sendTask", blsParams(blsJson(1n, 3n))), -32010],
      ["BLS signature not JSON", call("sendTask", blsParams("{x:1")), -32602],
      ["unknown target chain", call("sendTask", [...good, "ecdsa", 999]), -32016],
      [
        "missing task definition",
        call(
          "sendTask",
          ecdsaSendTaskParams(net.performer.privateKey, { ...task("nodef"), taskDefinitionId: 99 }),
        ),
        -32012,
      ],
      [
        "batch too large",
        JSON.stringify(
          Array.from({ length: 101 }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId" })),
        ),
        -32002,
      ],
      ["status of an unknown task", call("avsctl_taskStatus", [`0x${"ab".repeat(32)}`]), -32019],
    ];
    for (const [name, body, code] of cases) {
      const r = await postRaw(rpcUrl, body);
      const error = Array.isArray(r.json) ? r.json[0]?.error : r.json?.error;
      expect({ name, code: error?.code, message: typeof error?.message }).toEqual({
        name,
        code,
        message: "string",
      });
    }

    const huge = await postRaw(
      rpcUrl,
      call("sendTask", ["x", `0x${"00".repeat(1_100_000)}`, 1, net.performer.address, "0x"]),
    );
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe(-32001);
    expect((await fetch(rpcUrl)).status).toBe(404);

    expect(await net.l2Provider.getTransactionCount(net.aggregator.address)).toBe(nonceBefore);
    const ok = await postRaw(rpcUrl, call("sendTask", good));
    expect((await waitTaskFinal(rpcUrl, ok.json.result)).status).toBe("approved");
  });
});
