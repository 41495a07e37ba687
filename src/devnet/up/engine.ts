import { randomBytes } from "node:crypto";
import path from "node:path";
import type { DevnetKeys } from "../keys.js";
import type { Launched, Launcher } from "../launcher.js";
import { serviceEnv } from "../service-env.js";
import type { Chains } from "./chains.js";
import { ipfsEnv } from "./ipfs.js";
import { httpWait, NODE_MEMORY, type PhaseContext } from "./launch.js";
import { envChains } from "./nodes.js";
import type { Registration } from "./register.js";
import type { StartPlan } from "./start-plan.js";

/** Where the engine keeps its store inside its container: a named volume, so a restart keeps it. */
const CONTAINER_DATA = "/data/engine";

export interface StartedEngine {
  launched: Launched;
  /** The chain id sign-in messages name: the devnet's (first) L2, where its tasks land. */
  chainId: number;
  taskDefinitionId: number;
  /** The secret of its operator routes (the trigger watchers'). */
  operatorSecret: string;
}

/**
 * The task engine (`avsctl devnet service task-engine`, docs/task-engine.md). Each execution it
 * records is sent to the aggregator as a task of the workflow definition, on the L2 its workflow
 * names (the first by default), performed and signed by the operator the trigger runner's
 * election picks for it (the engine holds the devnet's operator keys, watcherEnv), its record
 * pinned in the devnet's IPFS node; attesters validate those tasks by asking the engine
 * (`--avs-webapi-for`), which also checks a record's sent transactions on the devnet's L2s. Its
 * store lives under the project's `.avsctl/` (process) or in the project's `engine` volume
 * (Docker).
 */
export async function startEngine(
  plan: StartPlan,
  launcher: Launcher,
  chains: Chains,
  registration: Registration,
  aggregator: Launched,
  ipfs: Launched,
  ctx: PhaseContext,
): Promise<StartedEngine | undefined> {
  if (!registration.workflowDefinition) {
    ctx.warn(
      "the saved chain state has no task definition for workflows: no task engine (`devnet up --fresh` adds one)",
    );
    return undefined;
  }
  ctx.progress("starting the task engine");
  const { topology, keys } = plan;
  const taskDefinitionId = registration.workflowDefinition.taskDefinitionId;
  const chainId = topology.l2ChainIds[0]!;
  const operatorSecret = randomBytes(24).toString("hex");
  const ports = await launcher.allocate({ http: plan.ports.engine }, "task-engine");
  const store =
    launcher.kind === "process"
      ? path.join(topology.projectDir, ".avsctl", "engine.sqlite")
      : `${CONTAINER_DATA}/engine.sqlite`;
  const chainEnv = envChains(plan, chains, registration, "internal");
  const l2 = chainEnv.l2[0]!;
  const launched = await launcher.launch(
    {
      name: "task-engine",
      what: {
        avsctl: [
          "devnet",
          "service",
          "task-engine",
          "--port",
          String(ports.http),
          "--host",
          launcher.bindHost,
        ],
      },
      env: {
        ...NODE_MEMORY,
        ...engineEnv({
          chains: chainEnv,
          aggregatorUrl: aggregator.internalUrl("rpc"),
          performer: keys.performer,
          taskDefinitionId,
          chainId,
          ipfs: ipfsEnv(ipfs, "internal"),
        }),
        AVSCTL_ENGINE_STORE: store,
        ...watcherEnv(l2, keys, operatorSecret),
      },
      volumes: [{ name: "engine", target: CONTAINER_DATA }],
      ports,
      wait: (p) => httpWait(p.http!),
    },
    ctx.signal,
  );
  return { launched, chainId, taskDefinitionId, operatorSecret };
}

/**
 * What the engine reads besides its store: a performer's environment (aggregator, key, every
 * L2, TASK_DEFINITION_ID), the IPFS node's, and the sign-in chain id. PRIVATE_KEY_PERFORMER
 * signs only when no operator keys are given (watcherEnv gives them). An exported topology sets
 * the same names.
 */
export function engineEnv(s: {
  chains: Parameters<typeof serviceEnv>[1]["chains"];
  aggregatorUrl: string;
  performer: { address: string; privateKey: string };
  taskDefinitionId: number;
  chainId: number;
  ipfs: Record<string, string>;
}): Record<string, string> {
  return {
    ...serviceEnv("execution", {
      ...(s.chains ? { chains: s.chains } : {}),
      aggregatorUrl: s.aggregatorUrl,
      performer: s.performer,
      taskDefinitionId: s.taskDefinitionId,
    }),
    ...s.ipfs,
    AVSCTL_ENGINE_CHAIN_ID: String(s.chainId),
  };
}

/**
 * The devnet's operators watch the stored tasks' triggers from inside the engine's process
 * (src/task-engine/watch.ts): one watcher (one per L2 on a multi-L2 devnet) holding every
 * operator key, so the elected one always reports its firings, and the engine performs each
 * execution with the elected operator's key. The aggregator is an active operator too: without
 * its key, every firing the election gives it would be skipped.
 */
export function watcherEnv(
  l2: { rpcUrl: string; attestationCenter: string },
  keys: Pick<DevnetKeys, "aggregator" | "performer" | "attesters">,
  operatorSecret: string,
): Record<string, string> {
  return {
    AVSCTL_ENGINE_OPERATOR_SECRET: operatorSecret,
    AVSCTL_ENGINE_WATCH_L2_RPC: l2.rpcUrl,
    AVSCTL_ENGINE_WATCH_ATTESTATION_CENTER: l2.attestationCenter,
    AVSCTL_ENGINE_WATCH_OPERATOR_KEYS: [keys.aggregator, keys.performer, ...keys.attesters]
      .map((k) => k.privateKey)
      .join(","),
  };
}

/** The names of watcherEnv that carry secrets (for an export's Secret). */
export const WATCHER_SECRET_ENV = ["AVSCTL_ENGINE_OPERATOR_SECRET", "AVSCTL_ENGINE_WATCH_OPERATOR_KEYS"];
