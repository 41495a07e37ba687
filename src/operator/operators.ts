/**
 * `avsctl operator add|remove|set-stake` on a running devnet: scenarios that change the
 * operator set and its L1 stake. Registrations reach the L2s through the aggregator's relayer;
 * stake changes through the voting-power sync (internal task 10001), which is run on demand and
 * awaited with `wait`, so the next task is weighed with the new voting power.
 */

import { ANVIL_MNEMONIC } from "../chain/dev-keys.js";
import { type DevnetState, requireDevnetState, writeDevnetState } from "../devnet/state.js";
import { AvsctlError, invalidArgument } from "../errors.js";
import {
  fundIfEmpty,
  type L2Operator,
  readL1,
  readL2,
  type SyncOutcome,
  setL1Stake,
  syncVotingPower,
  unregisterOnL1,
  waitForMirror,
} from "./chain.js";
import { removeNode, startAttesterNode } from "./node.js";

export interface OperatorTarget {
  projectDir: string;
  /** The devnet's mnemonic (the config's `devnet.mnemonic`); default anvil's. */
  mnemonic?: string;
  progress?: (step: string) => void;
  signal?: AbortSignal;
}

export interface OperatorResult {
  action: "add" | "remove" | "set-stake";
  name: string;
  address: string;
  /** L1 stake (wei) and voting power (the stake while registered). */
  l1: { stake: string; votingPower: string; registered: boolean };
  /** Each L2 as read after the change (and, with wait, after the sync). */
  l2: L2Operator[];
  /** Whether L2 was brought to L1 before returning. */
  synced: boolean;
  /** The syncs the aggregator ran (empty: nothing to carry, or not waited for). */
  syncs: SyncOutcome[];
  /** The attester node started (add) or stopped (remove). */
  node: { name: string; pid?: number; state: "running" | "stopped" } | null;
}

/** A devnet attester name: a component name of its own. */
const NAME = /^[a-z][a-z0-9-]{0,39}$/;
/** Mnemonic indices before the attesters: deployer, aggregator, performer. */
const FIRST_ATTESTER_INDEX = 3;
const MAX_INDEX = 1_000;

function findAttester(state: DevnetState, name: string) {
  const found = state.attesters.find((a) => a.name === name);
  if (!found) {
    throw invalidArgument(
      "<name>",
      `no attester "${name}" in this devnet`,
      `attesters: ${state.attesters.map((a) => a.name).join(", ") || "none"}`,
    );
  }
  return found;
}

/**
 * The devnet's roles and the components any devnet can run (src/devnet/up/*, the project's
 * price feed, the process runtime's supervisor): `devnet status` and `logs` list operators
 * beside them, so a new one must not take their names, whether this devnet runs them or not.
 */
const RESERVED = [
  "l1",
  "aggregator",
  "performer",
  "deployer",
  "validation",
  "execution",
  "ipfs",
  "price-feed",
  "task-engine",
  "triggers",
  "relayer",
  "supervisor",
];

/** Refuses a name that is no component name, or one the devnet keeps for itself. */
export function checkOperatorName(name: string): void {
  if (!NAME.test(name)) {
    throw invalidArgument("<name>", `"${name}" is not a component name (lowercase letters, digits and -)`);
  }
  // `l2-` names the L2 chains (l2-1, l2-2...); the state takes any such component for a chain.
  if (RESERVED.includes(name) || name.startsWith("l2-")) {
    throw invalidArgument(
      "<name>",
      `"${name}" is a name the devnet keeps for its own roles and components`,
      `names kept: ${RESERVED.join(", ")}, l2-<n>`,
    );
  }
}

/** The private key of a devnet attester, found on the devnet mnemonic. */
async function keyOf(address: string, mnemonic: string): Promise<string> {
  const { HDNodeWallet, Mnemonic } = await import("ethers");
  const phrase = Mnemonic.fromPhrase(mnemonic);
  for (let i = FIRST_ATTESTER_INDEX; i < MAX_INDEX; i++) {
    const w = HDNodeWallet.fromMnemonic(phrase, `m/44'/60'/0'/0/${i}`);
    if (w.address.toLowerCase() === address.toLowerCase()) return w.privateKey;
  }
  throw new AvsctlError("COMMAND_FAILED", `${address} is not a key of the devnet mnemonic`, {
    hint: "an operator started with `devnet up --operator-keys` leaves with its own key (`avsctl keys`)",
  });
}

/** The first mnemonic account no devnet role or operator has used. */
async function nextFreeAccount(
  state: DevnetState,
  mnemonic: string,
): Promise<{ address: string; privateKey: string; index: number }> {
  const { HDNodeWallet, Mnemonic } = await import("ethers");
  const phrase = Mnemonic.fromPhrase(mnemonic);
  const probe = HDNodeWallet.fromMnemonic(phrase, `m/44'/60'/0'/0/${FIRST_ATTESTER_INDEX}`);
  const { everRegistered } = await readL1(state, probe.address);
  const used = new Set(
    [...everRegistered, ...state.attesters.map((a) => a.address)].map((a) => a.toLowerCase()),
  );
  for (let i = FIRST_ATTESTER_INDEX; i < MAX_INDEX; i++) {
    const w = HDNodeWallet.fromMnemonic(phrase, `m/44'/60'/0'/0/${i}`);
    if (!used.has(w.address.toLowerCase())) return { address: w.address, privateKey: w.privateKey, index: i };
  }
  throw new AvsctlError(
    "COMMAND_FAILED",
    `every account of the devnet mnemonic below ${MAX_INDEX} is in use`,
  );
}

async function l1Of(state: DevnetState, address: string): Promise<OperatorResult["l1"]> {
  const l1 = await readL1(state, address);
  return { stake: l1.stake.toString(), votingPower: l1.votingPower.toString(), registered: l1.registered };
}

/** Runs the sync and checks every L2 now holds the L1 voting power. */
async function carryToL2(
  state: DevnetState,
  address: string,
  expected: bigint,
  target: OperatorTarget,
): Promise<{ syncs: SyncOutcome[]; l2: L2Operator[] }> {
  target.progress?.("running the voting power sync (internal task 10001)");
  const syncs = await syncVotingPower(state, target.signal);
  const l2 = await readL2(state, address);
  const behind = l2.filter((o) => BigInt(o.votingPower) !== expected);
  if (behind.length > 0) {
    throw new AvsctlError(
      "COMMAND_FAILED",
      `the voting power sync did not bring ${address} to ${expected} wei on chain(s) ${behind.map((o) => o.chainId).join(", ")}`,
      {
        hint: "`avsctl devnet logs aggregator` shows the sync's votes and submission",
        details: { syncs, l2 },
      },
    );
  }
  return { syncs, l2 };
}

function saveAttesterPower(projectDir: string, name: string, l2: L2Operator[]): void {
  const state = requireDevnetState(projectDir);
  const a = state.attesters.find((x) => x.name === name);
  if (a && l2[0]) a.votingPower = l2[0].votingPower;
  writeDevnetState(projectDir, state);
}

/** `operator set-stake <name> <amount>`: the L1 stake, then (wait) the sync to every L2. */
export async function setOperatorStake(
  target: OperatorTarget,
  name: string,
  stake: bigint,
  wait: boolean,
): Promise<OperatorResult> {
  const state = requireDevnetState(target.projectDir);
  const attester = findAttester(state, name);
  target.progress?.(`setting ${name}'s L1 stake to ${stake} wei`);
  await setL1Stake(state, attester.address, stake);
  const l1 = await l1Of(state, attester.address);
  let syncs: SyncOutcome[] = [];
  let l2: L2Operator[];
  if (wait) {
    ({ syncs, l2 } = await carryToL2(state, attester.address, BigInt(l1.votingPower), target));
    saveAttesterPower(target.projectDir, name, l2);
  } else {
    l2 = await readL2(state, attester.address);
  }
  return { action: "set-stake", name, address: attester.address, l1, l2, synced: wait, syncs, node: null };
}

/** `operator add <name>`: a fresh mnemonic key registered on L1 (mirrored to L2) and its attester node. */
export async function addOperator(
  target: OperatorTarget,
  name: string,
  stake: bigint,
): Promise<OperatorResult> {
  checkOperatorName(name);
  const state = requireDevnetState(target.projectDir);
  const taken = new Set([
    ...state.attesters.map((a) => a.name),
    ...(state.internal?.components ?? []).map((c) => c.name),
  ]);
  if (taken.has(name)) throw invalidArgument("<name>", `"${name}" is already part of this devnet`);
  const template = state.attesters[0]?.name;
  if (!template)
    throw new AvsctlError("DEVNET_UNHEALTHY", "the devnet has no attester to start a new one like");
  const mnemonic = target.mnemonic ?? ANVIL_MNEMONIC;
  const account = await nextFreeAccount(state, mnemonic);
  await fundIfEmpty([state.l1.rpcUrl, ...state.l2.map((l) => l.rpcUrl)], account.address);
  target.progress?.(
    `registering ${name} (${account.address}, mnemonic index ${account.index}) with ${stake} wei`,
  );
  const { registerOperatorL1, registerBlsKeyG1 } = await import("../chain/register.js");
  const registered = await registerOperatorL1({
    rpcUrl: state.l1.rpcUrl,
    avsGovernance: state.l1.avsGovernance,
    operatorKey: account.privateKey,
    stake,
    governanceKey: state.deployer.privateKey,
  });
  target.progress?.("waiting for the relayer to register it on every L2");
  const l2 = await waitForMirror(state, account.address, true, target.signal);
  // the relayer carries the G2 key only; its G1 twin lets a missed vote cost less gas
  await registerBlsKeyG1({
    l2: state.l2,
    senderKey: account.privateKey,
    operator: account.address,
    blsPublicKeyG1: registered.blsPublicKeyG1,
  });
  target.progress?.(`starting ${name}`);
  const node = await startAttesterNode(
    state,
    target.projectDir,
    name,
    template,
    account.privateKey,
    target.signal,
  );

  const now = requireDevnetState(target.projectDir);
  now.attesters.push({
    name,
    address: account.address,
    operatorId: l2[0]?.operatorId ?? 0,
    votingPower: l2[0]?.votingPower ?? "0",
  });
  now.internal?.components.push(
    state.runtime === "process"
      ? {
          name,
          kind: "attester",
          pid: node.pid,
          healthUrl: node.metricsUrl?.replace(/\/metrics$/, "/health"),
          healthKind: "http",
        }
      : { name, kind: "attester" },
  );
  writeDevnetState(target.projectDir, now);
  // the chains keep its registration across down/up: the next `up` starts its node again
  const { saveAddedOperator } = await import("../devnet/persist.js");
  saveAddedOperator(target.projectDir, name, {
    name,
    index: account.index,
    address: account.address,
    bls: "from-private-key",
    operatorId: l2[0]?.operatorId ?? 0,
    votingPower: l2[0]?.votingPower ?? "0",
  });
  return {
    action: "add",
    name,
    address: account.address,
    l1: await l1Of(state, account.address),
    l2,
    synced: true,
    syncs: [],
    node: { name, pid: node.pid, state: "running" },
  };
}

/** `operator remove <name>`: unregistered on L1 (mirrored to L2), its node stopped, out of the state. */
export async function removeOperator(
  target: OperatorTarget,
  name: string,
  wait: boolean,
): Promise<OperatorResult> {
  const state = requireDevnetState(target.projectDir);
  const attester = findAttester(state, name);
  const key = await keyOf(attester.address, target.mnemonic ?? ANVIL_MNEMONIC);
  target.progress?.(`unregistering ${name} (${attester.address}) on L1`);
  await unregisterOnL1(state, key);
  let l2: L2Operator[];
  if (wait) {
    target.progress?.("waiting for the relayer to unregister it on every L2");
    l2 = await waitForMirror(state, attester.address, false, target.signal);
  } else {
    l2 = await readL2(state, attester.address);
  }
  target.progress?.(`stopping ${name}`);
  await removeNode(state, target.projectDir, name);
  const now = requireDevnetState(target.projectDir);
  now.attesters = now.attesters.filter((a) => a.name !== name);
  if (now.internal) now.internal.components = now.internal.components.filter((c) => c.name !== name);
  writeDevnetState(target.projectDir, now);
  const { saveRemovedOperator } = await import("../devnet/persist.js");
  saveRemovedOperator(target.projectDir, name, attester.address);
  return {
    action: "remove",
    name,
    address: attester.address,
    l1: await l1Of(state, attester.address),
    l2,
    synced: wait,
    syncs: [],
    node: { name, state: "stopped" },
  };
}
