/**
 * An execution whose AVS task ends without a verdict. With every attester abstaining (their
 * validation services answer 500), a real aggregator process ends the task unreachable at
 * once; the engine used to follow it for two minutes, log "no verdict yet" and leave nothing
 * with the execution, so `avsctl workflow execution` said "attested on chain ... no verdict
 * yet" for good. The engine now reads the journal's end and keeps it with the execution, and
 * the CLI says so. Pinata is the one stand-in (a public service): a pinning server on 127.0.0.1.
 */

import http from "node:http";
import type { AddressInfo } from "node:net";
import { Wallet } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";
import { type NodeProcess, type NodeTestBed, startNodes, startNodeTestBed } from "../../helpers/node.js";
import { call, flow, type Harness, signIn, startHarness, until } from "./helpers.js";

let bed: NodeTestBed | undefined;
let nodes: NodeProcess[] = [];
let pinata: http.Server | undefined;
let h: Harness | undefined;

beforeAll(async () => {
  bed = await startNodeTestBed();
  for (const s of bed.services) s.mode = "error500";
  const started = await startNodes(bed.entry, bed.net, bed.services, { taskTimeoutMs: 4_000 });
  nodes = [started.aggregator, ...started.attesters];
  pinata = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ IpfsHash: `bafkrei${"a".repeat(52)}` }));
    });
  });
  await new Promise<void>((resolve) => pinata!.listen(0, "127.0.0.1", resolve));
  const net = bed.net;
  h = await startHarness({
    attest: {
      aggregatorUrl: started.rpcUrl,
      performerKey: net.performer.privateKey,
      pinataUrl: `http://127.0.0.1:${(pinata.address() as AddressInfo).port}`,
      taskDefinitionId: net.taskDefinitionId,
      l2s: [
        { chainId: net.l2s[0]!.chainId, rpcUrl: net.l2.rpcUrl, attestationCenter: net.attestationCenter },
      ],
    },
  });
}, 180_000);

afterAll(async () => {
  await h?.close();
  await Promise.all(nodes.map((n) => n.stop()));
  if (pinata) await new Promise<void>((resolve) => pinata!.close(() => resolve()));
  await bed?.stop();
});

it("an execution whose task ended unreachable says so, with the reason, in JSON and in the CLI", async () => {
  const owner = Wallet.createRandom();
  const url = h!.engine.url;
  const token = await signIn(url, owner);
  const task = (await call(url, "POST", "/workflows", token, flow())).body;
  const run = await call(url, "POST", `/workflows/${task.id}:trigger`, token, { isBlocking: true });
  expect(run.body.status).toBe("success");
  const route = `/workflows/${task.id}/executions/${run.body.id}`;
  const ended = await until(
    async () => (await call(url, "GET", route, token)).body.noVerdict,
    "the task's end",
  );
  expect(ended).toMatchObject({ status: "unreachable", taskHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
  expect(ended.reason).toMatch(/no verdict can be reached/);
  expect(ended.abstained).toHaveLength(3);
  expect(ended.abstained[0]).toMatch(/^attester \d+ \(0x[0-9a-fA-F]{40}\) abstained: .*500/);

  const env = { AVSCTL_PRIVATE_KEY: owner.privateKey, AVSCTL_KEYSTORE_PASSWORD: undefined };
  const cwd = h!.dir;
  const json = await runCli(["workflow", "execution", task.id, run.body.id, "--engine", url, "--json"], {
    env,
    cwd,
  });
  expect(json.json().noVerdict).toEqual(ended);
  const human = await runCli(["workflow", "execution", task.id, run.body.id, "--engine", url], { env, cwd });
  expect(human.stdout).not.toMatch(/no verdict yet/);
  expect(human.stdout).toContain(
    `not attested on chain ${bed!.net.l2s[0]!.chainId} by ${bed!.net.performer.address}`,
  );
  expect(human.stdout).toContain(`unreachable, task ${ended.taskHash}: ${ended.reason}`);
  expect(human.stdout).toContain(`    ${ended.abstained[0]}`);
}, 120_000);
