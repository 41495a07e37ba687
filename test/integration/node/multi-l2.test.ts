/**
 * One aggregator and its attesters serving two L2s (the multi-L2 environment forms of
 * docs/protocol.md#node-environment): `targetChainId` decides where a task lands.
 */

import { hexlify, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  buildNodeEntry,
  type NodeProcess,
  postRaw,
  sendTaskLikeOthentic,
  startNodes,
  startTestNetwork,
  startValidationService,
  type TestNetwork,
  taskEvents,
  type ValidationService,
  waitTaskFinal,
} from "../../helpers/node.js";

let net: TestNetwork;
let services: ValidationService[] = [];
let nodes: NodeProcess[] = [];
let rpcUrl: string;

beforeAll(async () => {
  let entry: string;
  [entry, net] = await Promise.all([buildNodeEntry(), startTestNetwork({ l2ChainIds: [31338, 31339] })]);
  services = await Promise.all([0, 1, 2].map(() => startValidationService("approve")));
  const started = await startNodes(entry, net, services);
  nodes = [started.aggregator, ...started.attesters];
  rpcUrl = started.rpcUrl;
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(services.map((s) => s.close()));
  await net?.stop();
});

it("sends each task to the L2 its targetChainId names, the first L2 by default", async () => {
  const [first, second] = net.l2s;
  const task = (label: string) => ({
    proofOfTask: `multi-${label}-${Date.now()}`,
    data: hexlify(toUtf8Bytes(label)),
    taskDefinitionId: 1,
  });
  const chainId = await postRaw(
    rpcUrl,
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
  );
  expect(chainId.json.result).toBe("0x7a6a");

  const toSecond = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("second"), {
    targetChainId: 31339,
  });
  const toFirst = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("default"));
  const blsToSecond = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task("bls"), {
    sigType: "bls",
    targetChainId: 31339,
  });
  for (const hash of [toSecond, toFirst, blsToSecond])
    expect((await waitTaskFinal(rpcUrl, hash)).status).toBe("approved");

  const onFirst = (await taskEvents(net, first)).map((e) => e.taskHash);
  const onSecond = (await taskEvents(net, second)).map((e) => e.taskHash);
  expect(onFirst).toContain(toFirst);
  expect(onFirst).not.toContain(toSecond);
  expect(onSecond).toEqual(expect.arrayContaining([toSecond, blsToSecond]));
  expect(onSecond).not.toContain(toFirst);
});
