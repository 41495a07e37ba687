/**
 * An attester outlives its validation service (issue 18): one that is down when a task arrives
 * is asked again while the task's deadline leaves room, so a service that comes up 2 s after
 * the task was sent still gets its approve votes counted; each attester's log says once that
 * the service is down and once that it is back.
 */

import { hexlify, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type NodeProcess,
  type NodeTestBed,
  sendTaskLikeOthentic,
  startAggregatorProcess,
  startAttesterProcess,
  startNodeTestBed,
  startValidationService,
  taskEvents,
  type ValidationService,
  waitPeers,
  waitTaskFinal,
} from "../../helpers/node.js";
import { stablePort } from "../../helpers/ports.js";

let bed: NodeTestBed | undefined;
const nodes: NodeProcess[] = [];
let late: ValidationService | undefined;

beforeAll(async () => {
  bed = await startNodeTestBed({ services: 0 });
}, 120_000);

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await late?.close();
  await bed?.stop();
});

it("a validation service that comes up 2 s after the task is sent still gets its approve votes counted", async () => {
  const { entry, net } = bed!;
  const { aggregator, rpcUrl } = await startAggregatorProcess(entry, net, { taskTimeoutMs: 15_000 });
  nodes.push(aggregator);
  // Every attester's validation service is down (nothing listens on its port) when the task comes.
  const port = await stablePort();
  const service = `http://127.0.0.1:${port}`;
  const attesters = [1, 2, 3].map((i) => startAttesterProcess(entry, net, i, rpcUrl, service));
  nodes.push(...attesters);
  await waitPeers(rpcUrl, 3);

  const task = {
    proofOfTask: `Qm-late-service-${Date.now()}`,
    data: hexlify(toUtf8Bytes("price=1000")),
    taskDefinitionId: 1,
  };
  const hash = await sendTaskLikeOthentic(rpcUrl, net.performer.privateKey, task);
  const down = (r: { msg?: string }) => r.msg === "validation service unreachable; retrying";
  const back = (r: { msg?: string }) => r.msg === "validation service reachable again";
  // Each attester found it down before it comes up 2 s after the send.
  await Promise.all(attesters.map((a) => a.waitFor(down, 10_000)));
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  late = await startValidationService("approve", port);

  const status = await waitTaskFinal(rpcUrl, hash);
  expect(status.status).toBe("approved");
  const event = (await taskEvents(net)).find((e) => e.taskHash === hash);
  expect(event?.name).toBe("TaskSubmitted");
  expect(event!.attestersIds.length).toBeGreaterThanOrEqual(2);
  expect(late.calls.some((c) => (c as { proofOfTask?: string }).proofOfTask === task.proofOfTask)).toBe(true);
  for (const a of attesters) {
    expect(a.logs.some((r) => r.msg === "abstaining" && r.taskHash === hash)).toBe(false);
  }
  // once per change of state, however many attempts failed in between
  await Promise.all(
    attesters
      .filter((a) => a.logs.some((r) => r.msg === "voted approve"))
      .map((a) => a.waitFor(back, 10_000)),
  );
  for (const a of attesters) expect(a.logs.filter(down)).toHaveLength(1);
}, 120_000);
