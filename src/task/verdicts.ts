import type { ChainTarget } from "../chain/target.js";
import { followVerdicts, readVerdicts, type TaskVerdict, verdictInTransaction } from "../client/verdicts.js";
import type { LoadedConfig } from "../config/load.js";
import { readDevnetState } from "../devnet/state.js";
import { resolveProjectTarget } from "../devnet/target.js";
import { AvsctlError } from "../errors.js";
import type { TaskStatusReport } from "../node/aggregator/tasks.js";

type Project = Pick<LoadedConfig, "root" | "config">;

function targetOf(project: Project, chainId: number | undefined): Promise<ChainTarget> {
  return resolveProjectTarget({
    projectDir: project.root,
    config: project.config,
    chainId,
    chainFlag: "--target-chain",
  });
}

/** A task by its number (`number`) or its hash (`0x` + 64 hex digits). */
export type TaskRef = { number: number } | { hash: string };

/**
 * A task with no verdict on-chain, as the devnet aggregator's journal has it: in progress
 * (`pending`, `submitting`) or ended without a verdict (`unreachable`, `timeout`, `failed`),
 * with the reason when the aggregator gave one.
 */
export type JournalTaskStatus = Pick<
  JournalRow,
  "taskHash" | "chainId" | "taskDefinitionId" | "performer" | "proofOfTask" | "txHash" | "error" | "reason"
> & { status: "pending" | "submitting" | "unreachable" | "timeout" | "failed" };

/** A task as the devnet aggregator's journal has it: its `avsctl_taskStatus` answer. */
export type JournalRow = TaskStatusReport;

/** What the devnet's aggregator journaled about a task; undefined when it cannot say. */
export async function journalRow(
  project: Pick<Project, "root">,
  hash: string,
  chainId: number,
): Promise<JournalRow | undefined> {
  const url = readDevnetState(project.root)?.aggregator.rpcUrl;
  if (!url) return undefined;
  const { rpcRequest } = await import("../chain/json-rpc.js");
  const answer = await rpcRequest<JournalRow>(url, "avsctl_taskStatus", [hash, chainId], {
    timeoutMs: 5_000,
  }).catch(() => undefined);
  return answer?.result ?? undefined;
}

/** A journaled task without a verdict, as `task status` shows it. */
function withoutVerdict(row: JournalRow | undefined): JournalTaskStatus | undefined {
  if (!row || row.status === "approved" || row.status === "rejected") return undefined;
  return {
    status: row.status,
    taskHash: String(row.taskHash),
    chainId: Number(row.chainId),
    taskDefinitionId: Number(row.taskDefinitionId),
    performer: String(row.performer),
    proofOfTask: String(row.proofOfTask),
    txHash: row.txHash ?? null,
    error: row.error ?? null,
    reason: row.reason ?? null,
  };
}

/**
 * A task's verdict on the target chain, by number or hash. A hash the devnet journal has a
 * submission for is read from that transaction's receipt; anything else, from every verdict of
 * the chain. The verdict is always the chain's: the journal only says where to look.
 */
export async function findVerdict(
  target: Pick<ChainTarget, "provider" | "attestationCenter" | "chainId">,
  ref: TaskRef,
  journal: JournalRow | undefined,
): Promise<TaskVerdict | undefined> {
  if ("hash" in ref && journal?.txHash && (journal.status === "approved" || journal.status === "rejected")) {
    const verdict = await verdictInTransaction(target, journal.txHash, ref.hash);
    if (verdict) return verdict;
  }
  const verdicts = await readVerdicts(target);
  return verdicts.find((x) =>
    "hash" in ref ? x.taskHash.toLowerCase() === ref.hash.toLowerCase() : x.taskNumber === ref.number,
  );
}

/**
 * `task status`: one task's verdict on the target L2; for a task hash the chain has no verdict
 * for, what the devnet aggregator's journal says (in progress, or why no verdict came);
 * NOT_FOUND when neither knows it.
 */
export async function findTaskVerdict(opts: {
  project: Project;
  ref: TaskRef;
  targetChain?: number;
}): Promise<TaskVerdict | JournalTaskStatus> {
  const target = await targetOf(opts.project, opts.targetChain);
  try {
    const { ref } = opts;
    const journal = "hash" in ref ? await journalRow(opts.project, ref.hash, target.chainId) : undefined;
    const v = await findVerdict(target, ref, journal);
    if (!v) {
      const journaled = withoutVerdict(journal);
      if (journaled) return journaled;
      const shown = "hash" in ref ? ref.hash : String(ref.number);
      throw new AvsctlError("NOT_FOUND", `no verdict on chain ${target.chainId} for task ${shown}`, {
        hint: "a task appears once the aggregator submits it; `avsctl task list` shows the known ones",
      });
    }
    return v;
  } finally {
    target.provider.destroy();
  }
}

/**
 * The L2s `task list` reads: the --target-chain one, else the configured network, else every
 * L2 of the devnet (a task can land on any of them).
 */
async function listTargets(project: Project, chainId: number | undefined): Promise<ChainTarget[]> {
  const devnet = readDevnetState(project.root);
  const network = project.config.network;
  const configured =
    network.rpcUrl !== undefined || network.attestationCenter !== undefined || network.chainId !== undefined;
  const chains = !devnet || configured || chainId !== undefined ? [chainId] : devnet.l2.map((l) => l.chainId);
  const targets: ChainTarget[] = [];
  try {
    for (const id of chains) targets.push(await targetOf(project, id));
  } catch (error) {
    for (const t of targets) t.provider.destroy();
    throw error;
  }
  return targets;
}

export interface ListTasksOptions {
  project: Project;
  taskDefinitionId?: number;
  status?: "approved" | "rejected";
  fromBlock?: number;
  toBlock?: number;
  targetChain?: number;
}

/** `task list`: the verdicts of the chosen L2s, filtered. */
export async function listTasks(opts: ListTasksOptions): Promise<{ chains: number[]; tasks: TaskVerdict[] }> {
  const targets = await listTargets(opts.project, opts.targetChain);
  try {
    const perChain = await Promise.all(
      targets.map((target) =>
        readVerdicts({
          provider: target.provider,
          attestationCenter: target.attestationCenter,
          chainId: target.chainId,
          fromBlock: opts.fromBlock ?? 0,
          toBlock: opts.toBlock ?? "latest",
        }).catch(async (error: unknown) => {
          const { translateChainError } = await import("../chain/rpc.js");
          throw await translateChainError(error, {
            action: `reading the verdicts of chain ${target.chainId}`,
            rpcUrl: target.rpcUrl,
          });
        }),
      ),
    );
    const tasks = perChain
      .flat()
      .filter(
        (v) =>
          (opts.taskDefinitionId === undefined || v.taskDefinitionId === opts.taskDefinitionId) &&
          (!opts.status || v.status === opts.status),
      );
    return { chains: targets.map((t) => t.chainId), tasks };
  } finally {
    for (const t of targets) t.provider.destroy();
  }
}

export interface WatchTasksOptions {
  project: Project;
  targetChain?: number;
  /** Stop after this long (default: until `signal`). */
  timeoutMs?: number;
  /** The first block to report (default: the block after the head when the watch starts). */
  fromBlock?: number;
  signal?: AbortSignal;
  /** Called once the watch starts, with what it watches. */
  onStart?: (target: { chainId: number; attestationCenter: string }) => void;
}

/** `task watch`: the verdicts that land from the next block on, as they land. */
export async function* watchTasks(opts: WatchTasksOptions): AsyncGenerator<TaskVerdict> {
  const target = await targetOf(opts.project, opts.targetChain);
  const until = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
  try {
    const fromBlock = opts.fromBlock ?? Number(await target.provider.send("eth_blockNumber", [])) + 1;
    opts.onStart?.({ chainId: target.chainId, attestationCenter: target.attestationCenter });
    const q = {
      provider: target.provider,
      attestationCenter: target.attestationCenter,
      chainId: target.chainId,
      fromBlock,
    };
    yield* followVerdicts(q, { until, signal: opts.signal, pollMs: 200 });
  } finally {
    target.provider.destroy();
  }
}
