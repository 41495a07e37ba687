/**
 * Internal tasks and the registration relayer: a stake change on L1 reaches L2 voting power
 * through VOTING_POWER_SYNC (proposed by the aggregator, recomputed and approved by the
 * attesters, applied by the InternalTaskHandler), and a new L1 registration is mirrored to L2.
 */

import { Interface, Wallet } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { attestationCenter, avsGovernance, obls } from "../../../src/chain/contracts.js";
import { ANVIL_DEV_PRIVATE_KEYS } from "../../../src/chain/dev-keys.js";
import { blsPublicKey, blsSecretFromSeed, signRegistration } from "../../../src/crypto/bls.js";
import {
  ATTESTER_STAKE,
  buildNodeEntry,
  type NodeProcess,
  startNodes,
  startTestNetwork,
  startValidationService,
  type TestNetwork,
  type ValidationService,
} from "../../helpers/node.js";

let net: TestNetwork;
let services: ValidationService[] = [];
let nodes: NodeProcess[] = [];

beforeAll(async () => {
  let entry: string;
  [entry, net] = await Promise.all([buildNodeEntry(), startTestNetwork()]);
  services = await Promise.all([0, 1, 2].map(() => startValidationService("approve")));
  const started = await startNodes(entry, net, services, {
    // Programmatic options may sync faster than the 60 s floor that INTERNAL_TASKS enforces.
    internalTasks: [{ name: "VOTING_POWER_SYNC", intervalMs: 1_000 }],
    relayer: { privateKey: net.deployer.privateKey, pollMs: 500 },
  });
  nodes = [started.aggregator, ...started.attesters];
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(services.map((s) => s.close()));
  await net?.stop();
});

async function until<T>(
  what: string,
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) throw new Error(`${what}: still ${String(last)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
    last = await read();
  }
  return last;
}

it("a stake change on L1 appears as voting power on L2 after the next sync", async () => {
  const registry = obls(net.obls, net.l2Provider);
  const attester = net.attesters[0]!;
  const id = net.operatorIds.get(attester.address.toLowerCase())!;
  expect(await registry.votingPower(id)).toBe(ATTESTER_STAKE);

  const gov = avsGovernance(net.avsGovernance, new Wallet(net.deployer.privateKey, net.l1Provider));
  await (await gov.setStake(attester.address, 3n * ATTESTER_STAKE)).wait();
  await until(
    "L2 voting power",
    () => registry.votingPower(id),
    (v) => v === 3n * ATTESTER_STAKE,
  );

  // The update went through consensus: an internal task, approved and handled on-chain.
  const handler = new Interface([
    "event VotingPowerUpdated(uint256 toBlockL1, uint256 toBlockL2, string proofOfTask)",
  ]);
  const logs = await net.l2Provider.getLogs({
    address: net.internalTaskHandler,
    fromBlock: 0,
    toBlock: "latest",
  });
  expect(logs.some((l) => handler.parseLog(l)?.name === "VotingPowerUpdated")).toBe(true);

  // And a decrease the same way.
  await (await gov.setStake(attester.address, ATTESTER_STAKE / 2n)).wait();
  await until(
    "L2 voting power",
    () => registry.votingPower(id),
    (v) => v === ATTESTER_STAKE / 2n,
  );
});

it("the relayer mirrors a new L1 registration to L2", async () => {
  const newcomer = new Wallet(ANVIL_DEV_PRIVATE_KEYS[6]!, net.l1Provider);
  const sk = blsSecretFromSeed(newcomer.privateKey);
  const proof = signRegistration(sk, newcomer.address, net.avsGovernance, 31337);
  await (
    await avsGovernance(net.avsGovernance, newcomer).registerAsOperator(
      [...blsPublicKey(sk)],
      newcomer.address,
      [...proof],
    )
  ).wait();
  const ac = attestationCenter(net.attestationCenter, net.l2Provider);
  const id = await until(
    "L2 operator id",
    () => ac.operatorsIdsByAddress(newcomer.address),
    (v) => v > 0n,
  );
  expect(id).toBe(BigInt(net.operatorIds.size + 1));
});
