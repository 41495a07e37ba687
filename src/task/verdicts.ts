import { boundChainRequests } from "../chain/rpc.js";
import type { ChainTarget } from "../chain/target.js";
import { followVerdicts, readVerdicts, type TaskVerdict, verdictInTransaction } from "../client/verdicts.js";
import type { LoadedConfig } from "../config/load.js";
import { readDevnetState } from "../devnet/state.js";
import { resolveProjectTarget } from "../devnet/target.js";
import { AvsctlError } from "../errors.js";
import type { TaskStatusReport } from "../node/aggregator/tasks.js";

type Project = Pick<LoadedConfig, "root" | "config"> & Partial<Pick<LoadedConfig, "sources">>;

function targetOf(project: Project, chainId: number | undefined): Promise<ChainTarget> {
  return resolveProjectTarget({
    projectDir: project.root,
    config: project.config,
    sources: project.sources,
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

/** Where a lookup found a task: its L2 (the caller destroys the provider), verdict and journal row. */
export interface LocatedTask {
  target: ChainTarget;
  verdict: TaskVerdict | undefined;
  journal: JournalRow | undefined;
}

/**
 * Finds the L2 a task is on. With --target-chain, a configured network or a devnet with one L2,
 * that one target (`found` whatever it knows). On a devnet with several L2s: a hash where the
 * aggregator's journal has it, else (as a number always) the L2 whose verdicts have it; on
 * several, MISSING_ARGUMENT naming them (task hashes and numbers are per chain). `searched`: the
 * chains looked at.
 */
export async function locateTask(opts: {
  project: Project;
  ref: TaskRef;
  targetChain?: number;
  /** The command whose rerun a refusal suggests ("status", "trace"). */
  command: string;
}): Promise<{ found: LocatedTask | undefined; searched: number[] }> {
  const { project, ref } = opts;
  const chains = lookupChains(project, opts.targetChain);
  if (chains.length === 1) {
    const found = await lookOn(project, chains[0], ref);
    return { found, searched: [found.target.chainId] };
  }
  const ids = chains as number[];
  if ("hash" in ref) {
    const rows = (await Promise.all(ids.map((id) => journalRow(project, ref.hash, id)))).filter(
      (r): r is JournalRow => r !== undefined,
    );
    if (rows.length > 1)
      throw onSeveralChains(
        ref,
        rows.map((r) => Number(r.chainId)),
        opts.command,
      );
    if (rows.length === 1) {
      const found = await lookOn(project, Number(rows[0]!.chainId), ref, rows[0]);
      return { found, searched: [found.target.chainId] };
    }
  }
  const targets = await connectAll(project, ids);
  let kept: ChainTarget | undefined;
  try {
    const verdicts = await Promise.all(targets.map((t) => findVerdict(t, ref, undefined)));
    const hits = targets.flatMap((target, i) => (verdicts[i] ? [{ target, verdict: verdicts[i] }] : []));
    if (hits.length > 1)
      throw onSeveralChains(
        ref,
        hits.map((h) => h.target.chainId),
        opts.command,
      );
    const searched = targets.map((t) => t.chainId);
    if (hits.length === 0) return { found: undefined, searched };
    kept = hits[0]!.target;
    return { found: { ...hits[0]!, journal: undefined }, searched };
  } finally {
    for (const t of targets) if (t !== kept) t.provider.destroy();
  }
}

/** The task on one L2 (its journal row read there for a hash, unless given); the caller destroys the provider. */
async function lookOn(
  project: Project,
  chainId: number | undefined,
  ref: TaskRef,
  journal?: JournalRow,
): Promise<LocatedTask> {
  const target = await targetOf(project, chainId);
  try {
    const row = journal ?? ("hash" in ref ? await journalRow(project, ref.hash, target.chainId) : undefined);
    return { target, verdict: await findVerdict(target, ref, row), journal: row };
  } catch (error) {
    target.provider.destroy();
    throw error;
  }
}

/** A task on several L2s: which one is for --target-chain to say. */
function onSeveralChains(ref: TaskRef, chains: number[], command: string): AvsctlError {
  const shown = "hash" in ref ? ref.hash : String(ref.number);
  const per = "hash" in ref ? "the aggregator keeps tasks per chain" : "task numbers are per chain";
  return chainNeeded(`task ${shown} is on chains ${chains.join(" and ")} (${per})`, shown, chains, command);
}

/** MISSING_ARGUMENT for --target-chain: `why` it is needed, and the command on each chain. */
export function chainNeeded(why: string, shown: string, chains: number[], command: string): AvsctlError {
  return new AvsctlError("MISSING_ARGUMENT", `${why}: --target-chain says which`, {
    hint: chains.map((id) => `\`avsctl task ${command} ${shown} --target-chain ${id}\``).join(" or "),
    details: { argument: "--target-chain", chains },
  });
}

/** "chain 31338", or "chains 31338, 31339" when a lookup searched several. */
export function chainsSearched(chains: number[]): string {
  return `${chains.length === 1 ? "chain" : "chains"} ${chains.join(", ")}`;
}

/**
 * `task status`: one task's verdict on its L2; for a task hash the chain has no verdict for,
 * what the devnet aggregator's journal says (in progress, or why no verdict came); NOT_FOUND
 * when neither knows it.
 */
export async function findTaskVerdict(opts: {
  project: Project;
  ref: TaskRef;
  targetChain?: number;
}): Promise<TaskVerdict | JournalTaskStatus> {
  const { ref } = opts;
  const { found, searched } = await locateTask({ ...opts, command: "status" });
  try {
    if (found?.verdict) return found.verdict;
    const journaled = withoutVerdict(found?.journal);
    if (journaled) return journaled;
    const shown = "hash" in ref ? ref.hash : String(ref.number);
    throw new AvsctlError("NOT_FOUND", `no verdict on ${chainsSearched(searched)} for task ${shown}`, {
      hint:
        searched.length === 1
          ? "a task appears once the aggregator submits it; `avsctl task list` shows the known ones"
          : "a task appears once the aggregator submits it; `avsctl task list` shows the known ones of every L2, and `--target-chain <id>` looks on one",
    });
  } finally {
    found?.target.provider.destroy();
  }
}

/**
 * The L2s a lookup reads: the --target-chain one, else the configured network, else every L2 of
 * the devnet (a task can land on any of them). `undefined` stands for the one target.
 */
function lookupChains(project: Project, chainId: number | undefined): Array<number | undefined> {
  const devnet = readDevnetState(project.root);
  const network = project.config.network;
  const configured =
    network.rpcUrl !== undefined || network.attestationCenter !== undefined || network.chainId !== undefined;
  return !devnet || configured || chainId !== undefined ? [chainId] : devnet.l2.map((l) => l.chainId);
}

async function connectAll(project: Project, chains: Array<number | undefined>): Promise<ChainTarget[]> {
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
  const targets = await connectAll(opts.project, lookupChains(opts.project, opts.targetChain));
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
  /** Called once the watch starts, with what it watches and the first block it reports. */
  onStart?: (target: { chainId: number; attestationCenter: string; fromBlock: number }) => void;
}

/** `task watch`: the verdicts that land from the next block on, as they land. */
export async function* watchTasks(opts: WatchTasksOptions): AsyncGenerator<TaskVerdict> {
  const target = await targetOf(opts.project, opts.targetChain);
  const until = opts.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + opts.timeoutMs;
  // a chain that stops answering (frozen) ends the watch by --timeout, not a request's bound later
  if (opts.timeoutMs !== undefined) boundChainRequests(target.provider, until);
  try {
    const fromBlock = opts.fromBlock ?? Number(await target.provider.send("eth_blockNumber", [])) + 1;
    opts.onStart?.({ chainId: target.chainId, attestationCenter: target.attestationCenter, fromBlock });
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
