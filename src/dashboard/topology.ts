/**
 * What the devnet is made of, read from its chains: the chains with their head and contracts,
 * the operators with their voting power on L1 (AvsGovernance) and L2 (OBLS), who performs the
 * next block (the triggers' leader election), and the task definitions with their parameters.
 */

import type { JsonRpcProvider } from "ethers";
import type { DevnetState } from "../devnet/state.js";
import type { ChainInfo, OperatorInfo, TaskDefinitionView } from "./types.js";

export interface Topology {
  chains: ChainInfo[];
  /** Health is filled in by the feed from the component checks. */
  operators: OperatorInfo[];
  performer: { operatorId: number; address: string } | null;
}

/** The devnet's providers, opened once and destroyed by `close`. */
export interface ChainConnections {
  l1: JsonRpcProvider;
  l2: JsonRpcProvider[];
  close(): void;
}

export async function connectChains(state: DevnetState): Promise<ChainConnections> {
  const { chainProvider } = await import("../chain/rpc.js");
  const open = (rpcUrl: string, chainId: number) => chainProvider(rpcUrl, chainId, { cacheTimeout: -1 });
  const l1 = await open(state.l1.rpcUrl, state.l1.chainId);
  const l2 = await Promise.all(state.l2.map((c) => open(c.rpcUrl, c.chainId)));
  return {
    l1,
    l2,
    close() {
      l1.destroy();
      for (const p of l2) p.destroy();
    },
  };
}

const blockOf = (p: JsonRpcProvider): Promise<number | null> =>
  p.send("eth_blockNumber", []).then(
    (h: string) => Number(h),
    () => null,
  );

/** The devnet's operators by name and role, without their chain-side numbers. */
export function operatorsOf(
  state: DevnetState,
): Array<Omit<OperatorInfo, "votingPowerL1" | "votingPowerL2">> {
  const out: Array<Omit<OperatorInfo, "votingPowerL1" | "votingPowerL2">> = [
    {
      name: "aggregator",
      role: "aggregator",
      operatorId: state.aggregator.operatorId,
      address: state.aggregator.address,
      health: "unknown",
    },
  ];
  for (const a of state.attesters)
    out.push({
      name: a.name,
      role: "attester",
      operatorId: a.operatorId,
      address: a.address,
      health: "unknown",
    });
  const known = new Set(out.map((o) => o.address.toLowerCase()));
  // The performer key sends tasks; it is an operator of its own only when no attester holds it.
  if (!known.has(state.performer.address.toLowerCase()))
    out.push({
      name: "performer",
      role: "performer",
      operatorId: null,
      address: state.performer.address,
      health: "unknown",
    });
  return out;
}

export async function readTopology(state: DevnetState, chains: ChainConnections): Promise<Topology> {
  const { attestationCenter, avsGovernance, obls } = await import("../chain/contracts.js");
  const { electPerformer, readActiveOperators } = await import("../triggers/leader.js");
  const heads = await Promise.all([blockOf(chains.l1), ...chains.l2.map(blockOf)]);
  const chainInfos: ChainInfo[] = [
    {
      role: "l1",
      chainId: state.l1.chainId,
      rpcUrl: state.l1.rpcUrl,
      blockNumber: heads[0] ?? null,
      contracts: { AvsGovernance: state.l1.avsGovernance },
    },
    ...state.l2.map(
      (c, i): ChainInfo => ({
        role: "l2",
        chainId: c.chainId,
        rpcUrl: c.rpcUrl,
        blockNumber: heads[i + 1] ?? null,
        contracts: {
          AttestationCenter: c.attestationCenter,
          OBLS: c.obls,
          InternalTaskHandler: c.internalTaskHandler,
        },
      }),
    ),
  ];
  const gov = avsGovernance(state.l1.avsGovernance, chains.l1);
  const l2 = state.l2[0];
  const oblsL2 = l2 && chains.l2[0] ? obls(l2.obls, chains.l2[0]) : undefined;
  const operators = await Promise.all(
    operatorsOf(state).map(async (o): Promise<OperatorInfo> => {
      // The performer's key is an operator of its own on the devnet: its id is the L2's.
      const operatorId =
        o.operatorId ??
        (l2 && chains.l2[0]
          ? await attestationCenter(l2.attestationCenter, chains.l2[0])
              .operatorsIdsByAddress(o.address)
              .then(
                (id) => (id === 0n ? null : Number(id)),
                () => null,
              )
          : null);
      const [l1Power, l2Power] = await Promise.all([
        gov.votingPower(o.address).then(String, () => null),
        oblsL2 && operatorId ? oblsL2.votingPower(operatorId).then(String, () => null) : null,
      ]);
      return { ...o, operatorId, votingPowerL1: l1Power, votingPowerL2: l2Power };
    }),
  );
  let performer: Topology["performer"] = null;
  const head = heads[1];
  if (l2 && typeof head === "number") {
    const active = await readActiveOperators(l2.rpcUrl, l2.attestationCenter).catch(() => []);
    const next = electPerformer(active, head + 1);
    if (next) performer = { operatorId: next.operatorId, address: next.operator };
  }
  return { chains: chainInfos, operators, performer };
}

/** The task definitions of the first L2, as `task-def list` reads them. */
export async function readTaskDefinitions(
  state: DevnetState,
  chains: ChainConnections,
): Promise<TaskDefinitionView[]> {
  const l2 = state.l2[0];
  const provider = chains.l2[0];
  if (!l2 || !provider) return [];
  const { detectGeneration } = await import("../chain/generation.js");
  const { TaskDefClient } = await import("../task-def/client.js");
  const attestationCenter = l2.attestationCenter as `0x${string}`;
  const generation = await detectGeneration(provider, attestationCenter);
  const client = await TaskDefClient.open(
    {
      rpcUrl: l2.rpcUrl,
      chainId: l2.chainId,
      attestationCenter,
      provider,
      devnet: undefined,
      devnetChainIds: [state.l1.chainId, ...state.l2.map((c) => c.chainId)],
    },
    generation,
  );
  const defs = await client.list();
  return defs.map((d) => ({
    taskDefinitionId: d.taskDefinitionId,
    name: d.name,
    minimumVotingPower: d.minimumVotingPower,
    restrictedOperators: d.restrictedOperatorIndexes,
    maxAttesters: d.maximumNumberOfAttesters,
    blockExpiry: d.blockExpiry,
    baseRewardFeeForAttesters: d.baseRewardFeeForAttesters,
    baseRewardFeeForPerformer: d.baseRewardFeeForPerformer,
    baseRewardFeeForAggregator: d.baseRewardFeeForAggregator,
    disputePeriodBlocks: d.disputePeriodBlocks,
  }));
}
