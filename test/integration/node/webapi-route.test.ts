/**
 * An attester with a route of its own for a task definition (`--avs-webapi-for`, as a devnet
 * with a task engine runs them) asks that service, not the default one, and its `validation
 * call` line names the service it asked: `task trace` and `devnet logs --task` read it there.
 */

import { hexlify, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type NodeProcess,
  type NodeTestBed,
  sendTaskLikeOthentic,
  spawnNode,
  startAggregatorProcess,
  startNodeTestBed,
  startValidationService,
  type ValidationService,
  waitPeers,
  waitTaskFinal,
} from "../../helpers/node.js";

let bed: NodeTestBed | undefined;
const nodes: NodeProcess[] = [];
const services: ValidationService[] = [];

beforeAll(async () => {
  bed = await startNodeTestBed({ services: 0 });
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(services.map((s) => s.close()));
  await bed?.stop();
});

it("logs the routed validation service of a definition with its own route", async () => {
  const { entry, net } = bed!;
  const { aggregator, rpcUrl } = await startAggregatorProcess(entry, net);
  nodes.push(aggregator);
  const fallback = await startValidationService("reject");
  const routed = await startValidationService("approve");
  services.push(fallback, routed);
  const attesters = [1, 2, 3].map((i) =>
    spawnNode(
      entry,
      "attester",
      { aggregatorUrl: rpcUrl, avsWebapi: fallback.url, validationTimeoutMs: 3_000 },
      { ...net.env("attester", i), AVSCTL_AVS_WEBAPI_FOR: `${net.taskDefinitionId}=${routed.url}` },
    ),
  );
  nodes.push(...attesters);
  await waitPeers(rpcUrl, 3);

  const task = {
    proofOfTask: `Qm-routed-${Date.now()}`,
    data: hexlify(toUtf8Bytes("price=1000")),
    taskDefinitionId: net.taskDefinitionId,
  };
  const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task);
  expect((await waitTaskFinal(rpcUrl, hash)).status).toBe("approved");
  expect(fallback.calls).toHaveLength(0);
  for (const a of attesters) {
    const call = await a.waitFor((r) => r.msg === "validation call" && r.taskHash === hash, 10_000);
    expect(call.service).toBe(routed.url);
  }
}, 120_000);
