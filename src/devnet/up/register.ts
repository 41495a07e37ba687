import type { AvsctlConfig } from "../../config/schema.js";
import type { DevnetKeys } from "../keys.js";
import type { Chains } from "./chains.js";
import type { PhaseContext } from "./launch.js";
import type { StartPlan } from "./start-plan.js";

/** Each attester's stake (= voting power on L2): 100 ETH, equal so thresholds are easy to read. */
export const ATTESTER_STAKE = 100n * 10n ** 18n;

export type Registration = Awaited<ReturnType<typeof deployAndRegister>>;

/** Phases 2-4: contracts, registered operators and task definitions on the started chains. */
export async function registerAvs(plan: StartPlan, chains: Chains, ctx: PhaseContext): Promise<Registration> {
  return deployAndRegister({
    l1RpcUrl: chains.l1.hostUrl("rpc"),
    l2RpcUrls: chains.l2s.map((l) => l.hostUrl("rpc")),
    keys: plan.keys,
    taskDefinitions: plan.taskDefinitions,
    engine: plan.topology.engine,
    progress: ctx.progress,
  });
}

export interface DeployAndRegisterOptions {
  l1RpcUrl: string;
  l2RpcUrls: string[];
  keys: DevnetKeys;
  /** The config's task definitions; none: one named "default". */
  taskDefinitions: AvsctlConfig["taskDefinitions"];
  /** The task engine runs: its definition is created too (see WORKFLOW_DEFINITION). */
  engine?: boolean;
  progress?: (step: string) => void;
}

/**
 * What turns empty chains into an AVS: our contracts deployed, the aggregator, the performer
 * and the attesters registered on L1 and mirrored to every L2, and the task definitions
 * created. `up` runs it from the host; an exported topology runs it as its bootstrap job.
 * On fresh chains the addresses depend only on the deployer key.
 */
export async function deployAndRegister(opts: DeployAndRegisterOptions) {
  const progress = opts.progress ?? (() => {});
  const { keys } = opts;
  progress("deploying AvsGovernance, AttestationCenter, OBLS and InternalTaskHandler");
  const { deployDevnetContracts } = await import("../../chain/deploy.js");
  const deployment = await deployDevnetContracts({
    l1: { rpcUrl: opts.l1RpcUrl },
    l2: opts.l2RpcUrls.map((rpcUrl) => ({ rpcUrl })),
    deployerKey: keys.deployer.privateKey,
  });

  // The aggregator and performer are active but hold no voting power.
  progress(`registering the aggregator, the performer and ${keys.attesters.length} attester(s) on L1 and L2`);
  const { registerOperators } = await import("../../chain/register.js");
  const [registered, , ...attesterRegs] = await registerOperators(
    {
      l1: { rpcUrl: opts.l1RpcUrl, avsGovernance: deployment.avsGovernance },
      l2: opts.l2RpcUrls.map((rpcUrl, i) => ({
        rpcUrl,
        attestationCenter: deployment.l2[i]!.attestationCenter,
      })),
      messageHandlerKey: keys.deployer.privateKey,
      governanceKey: keys.deployer.privateKey,
    },
    [
      { operatorKey: keys.aggregator.privateKey, stake: 0n },
      { operatorKey: keys.performer.privateKey, stake: 0n },
      ...(await Promise.all(
        keys.attesters.map(async (a) => ({
          operatorKey: a.privateKey,
          stake: ATTESTER_STAKE,
          bls: a.blsSecretKey ? await ownBlsKey(a.blsSecretKey) : undefined,
        })),
      )),
    ],
  );

  const aggregatorReg = registered!;
  progress("creating task definitions");
  const created = await createTaskDefinitions(
    opts.taskDefinitions,
    opts.l2RpcUrls,
    deployment.l2.map((d) => d.attestationCenter),
    keys,
    opts.engine === true,
  );
  // The task engine's executions are tasks of their own definition: the config's one named
  // WORKFLOW_DEFINITION when there is one, else one created after the config's. Without the
  // engine there is none, so the config's definitions keep the ids their docs give.
  const own = opts.engine === true && !opts.taskDefinitions.some((d) => d.name === WORKFLOW_DEFINITION);
  const taskDefinitions = own ? created.slice(0, -1) : created;
  // optional: no engine, or a registration saved before the engine existed
  const workflowDefinition: { taskDefinitionId: number; name: string } | undefined = opts.engine
    ? created.find((d) => d.name === WORKFLOW_DEFINITION)
    : undefined;
  return { deployment, aggregatorReg, attesterRegs, taskDefinitions, workflowDefinition };
}

/** The name of the task definition the task engine's executions are sent as. */
export const WORKFLOW_DEFINITION = "workflows";

/** The id the engine's definition gets on fresh chains (what an exported topology expects). */
export function workflowDefinitionId(configured: ReadonlyArray<{ name: string }>): number {
  const i = configured.findIndex((d) => d.name === WORKFLOW_DEFINITION);
  return i >= 0 ? i + 1 : Math.max(configured.length, 1) + 1;
}

/** An imported operator's BLS key pair, registered as it is. */
async function ownBlsKey(secretHex: string) {
  const bls = await import("../../crypto/bls.js");
  await bls.initBls();
  const secret = bls.parseBlsSecret(secretHex);
  return { secret, publicKey: bls.blsPublicKey(secret) };
}

async function createTaskDefinitions(
  configured: AvsctlConfig["taskDefinitions"],
  l2RpcUrls: string[],
  attestationCenters: string[],
  keys: DevnetKeys,
  engine: boolean,
): Promise<Array<{ taskDefinitionId: number; name: string }>> {
  const { connectRpc } = await import("../../chain/rpc.js");
  const { Wallet } = await import("ethers");
  const { TaskDefClient, createTaskDefinition, parseTaskDefinitionInput, configToInput } = await import(
    "../../task-def/task-defs.js"
  );
  const wanted = configured.length > 0 ? configured.map(configToInput) : [{ name: "default" }];
  if (engine && !wanted.some((w) => w.name === WORKFLOW_DEFINITION))
    wanted.push({ name: WORKFLOW_DEFINITION });
  const parsed = wanted.map((w) => parseTaskDefinitionInput(w));
  let created: Array<{ taskDefinitionId: number; name: string }> = [];
  // The same definitions on every L2, so a task can target any of them with the same id.
  for (const [i, rpcUrl] of l2RpcUrls.entries()) {
    const { provider, chainId } = await connectRpc(rpcUrl);
    try {
      const client = await TaskDefClient.open(
        {
          rpcUrl,
          chainId,
          attestationCenter: attestationCenters[i] as `0x${string}`,
          provider,
          devnet: undefined,
          devnetChainIds: [chainId],
        },
        { generation: "gen2", method: "flag", implementation: attestationCenters[i]! },
      );
      const signer = new Wallet(keys.deployer.privateKey, provider);
      const here = [];
      for (const p of parsed) {
        const r = await createTaskDefinition(client, signer, p);
        here.push({ taskDefinitionId: r.taskDefinitionId, name: r.name });
      }
      if (i === 0) created = here;
    } finally {
      provider.destroy();
    }
  }
  return created;
}
