import net from "node:net";
import { attestationCenterInterfaces } from "../chain/abi/interfaces.js";
import { jsonRpc } from "../chain/json-rpc.js";
import { isInternalTaskDefinitionId } from "../chain/well-known.js";
import type { DevnetState } from "./state.js";

export interface ProbeResult {
  healthy: boolean;
  /** `running` when it answers, `unreachable` when nothing listens. */
  state: "running" | "unreachable";
  problems: string[];
}

/**
 * A service the user runs (`--validation-url`/`--execution-url`): its `GET /health` when it
 * answers HTTP; a service without that route, or one stopped in a debugger, still counts as up
 * when its port accepts a TCP connection.
 */
export async function probeUserService(url: string, timeoutMs = 2000): Promise<ProbeResult> {
  const health = new URL("/health", url);
  try {
    const response = await fetch(health, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (response.ok || response.status === 404 || response.status === 405)
      return { healthy: true, state: "running", problems: [] };
    return {
      healthy: false,
      state: "running",
      problems: [`GET ${health.href} answered HTTP ${response.status}`],
    };
  } catch {
    // not HTTP, or too slow to answer: fall back to whether anything listens at all
  }
  const port = Number(health.port || (health.protocol === "https:" ? 443 : 80));
  const host = health.hostname.replace(/^\[|\]$/g, "");
  if (await tcpConnects(host, port, timeoutMs)) return { healthy: true, state: "running", problems: [] };
  return { healthy: false, state: "unreachable", problems: [`user-run service not reachable at ${url}`] };
}

function tcpConnects(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * The task definitions an AttestationCenter has now, from its TaskDefinitionCreated events
 * (either generation's), without the internal ones.
 */
export async function chainTaskDefinitions(
  rpcUrl: string,
  attestationCenter: string,
  timeoutMs = 5000,
): Promise<Array<{ taskDefinitionId: number; name: string }>> {
  const { gen1, gen2 } = await attestationCenterInterfaces();
  const topics = [gen1, gen2].map((i) => i.getEvent("TaskDefinitionCreated")!.topicHash);
  const logs = await jsonRpc<Array<{ topics: string[]; data: string }>>(
    rpcUrl,
    "eth_getLogs",
    [{ address: attestationCenter, topics: [topics], fromBlock: "0x0", toBlock: "latest" }],
    { timeoutMs },
  );
  const byId = new Map<number, string>();
  for (const log of logs) {
    for (const iface of [gen1, gen2]) {
      let parsed: ReturnType<typeof iface.parseLog>;
      try {
        parsed = iface.parseLog(log);
      } catch {
        parsed = null; // this generation's signature, another layout: try the other one
      }
      if (!parsed) continue;
      const id = Number(parsed.args.taskDefinitionId);
      if (!isInternalTaskDefinitionId(id)) byId.set(id, String(parsed.args.name));
      break;
    }
  }
  return [...byId.entries()]
    .sort(([a], [b]) => a - b)
    .map(([taskDefinitionId, name]) => ({ taskDefinitionId, name }));
}

/**
 * The project's task definitions the devnet's first L2 holds now (`status`, `up`): those made
 * since `up` deployed the AVS (`task-def create`) included, the task engine's own left out.
 */
export async function devnetTaskDefinitions(
  state: Pick<DevnetState, "l2" | "engine">,
): Promise<DevnetState["taskDefinitions"]> {
  const l2 = state.l2[0];
  if (!l2) throw new Error("the devnet has no L2");
  const list = await chainTaskDefinitions(l2.rpcUrl, l2.attestationCenter);
  return list.filter((d) => d.taskDefinitionId !== state.engine?.taskDefinitionId);
}

/** What `status` expects on the chains: the deployment the state records. */
export interface ExpectedContracts {
  l1: { rpcUrl: string; avsGovernance: string };
  l2: Array<{ rpcUrl: string; attestationCenter: string; obls: string; internalTaskHandler: string }>;
  /** Created on every L2 at `up` (the same ids on each). */
  taskDefinitions: Array<{ taskDefinitionId: number; name: string }>;
}

/**
 * Whether the contracts `up` deployed are still there: code at every recorded address, and the
 * task definitions created at `up` on every L2. A chain restarted without its state answers
 * JSON-RPC like a healthy one, so only this tells it apart. Problems by component (`l1`,
 * `l2-1`, ...); a chain that does not answer is left to its component's own probe.
 */
export async function contractProblems(
  expected: ExpectedContracts,
  timeoutMs = 5000,
): Promise<Map<string, string[]>> {
  const problems = new Map<string, string[]>();
  const chains = [
    { component: "l1", rpcUrl: expected.l1.rpcUrl, contracts: { AvsGovernance: expected.l1.avsGovernance } },
    ...expected.l2.map((l, i) => ({
      component: `l2-${i + 1}`,
      rpcUrl: l.rpcUrl,
      contracts: {
        AttestationCenter: l.attestationCenter,
        OBLS: l.obls,
        InternalTaskHandler: l.internalTaskHandler,
      },
      attestationCenter: l.attestationCenter,
    })),
  ];
  await Promise.all(
    chains.map(async (chain) => {
      const found: string[] = [];
      try {
        for (const [name, address] of Object.entries(chain.contracts)) {
          if (!address) continue;
          const code = await jsonRpc<string>(chain.rpcUrl, "eth_getCode", [address, "latest"], { timeoutMs });
          if (!code || code === "0x") found.push(`no ${name} contract at ${address}`);
        }
        if ("attestationCenter" in chain && found.length === 0) {
          const onChain = await chainTaskDefinitions(chain.rpcUrl, chain.attestationCenter, timeoutMs);
          const ids = new Set(onChain.map((d) => d.taskDefinitionId));
          for (const d of expected.taskDefinitions)
            if (!ids.has(d.taskDefinitionId))
              found.push(`task definition ${d.taskDefinitionId} (${d.name}) is missing`);
        }
      } catch {
        return; // not answering: its component's probe says so
      }
      if (found.length > 0) problems.set(chain.component, found);
    }),
  );
  return problems;
}
