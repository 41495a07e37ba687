/**
 * The devnet's saved state: what survives `down`, a crash or a SIGKILL until `down --volumes`.
 * The chains keep theirs in anvil state files (`.avsctl/chains/<chain>.json` for processes, a
 * `chain-<chain>` volume in Docker), the aggregator its journal (`.avsctl/aggregator.db`, the
 * `aggregator` volume), the IPFS node its blocks. `.avsctl/chains/deployment.json` records what
 * was deployed and registered on those chains, so the next `up` resumes instead of deploying.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chainStateDir } from "./chain-storage.js";
import type { RuntimeKind } from "./runtime/types.js";
import { stateDir } from "./state.js";
import type { Chains } from "./up/chains.js";
import type { Registration } from "./up/register.js";
import type { StartPlan } from "./up/start-plan.js";

/** Where the aggregator keeps its journal inside its container (the `aggregator` volume). */
export const CONTAINER_JOURNAL_DIR = "/data";

export { chainStateDir };

/** The aggregator's journal as the host sees it (process runtime). */
export function journalFile(projectDir: string): string {
  return path.join(stateDir(projectDir), "aggregator.db");
}

/** How an `up` that did not finish was to start the devnet (up/repair.ts): the next `up` starts it so. */
export function unfinishedStartFile(projectDir: string): string {
  return path.join(stateDir(projectDir), "unfinished-start.json");
}

/**
 * What `down --volumes` deletes on this machine: a process devnet's saved state (Docker keeps the
 * same in volumes), and how an `up` that did not finish was to start the devnet, which goes with
 * the chains it was to start.
 */
export function savedPaths(projectDir: string): string[] {
  const journal = journalFile(projectDir);
  const engine = path.join(stateDir(projectDir), "engine.sqlite");
  return [
    chainStateDir(projectDir),
    unfinishedStartFile(projectDir),
    journal,
    `${journal}-wal`,
    `${journal}-shm`,
    path.join(stateDir(projectDir), "ipfs"),
    ...[engine, `${engine}-wal`, `${engine}-shm`],
  ];
}

export interface SavedDevnet {
  version: 1;
  runtime: RuntimeKind;
  /** L1, then every L2. */
  chainIds: number[];
  /** Deployer, aggregator, performer, then attesters: the keys the contracts registered. */
  accounts: string[];
  registration: Registration;
  /** Attesters `operator add` registered on these chains since: `up` starts them again. */
  addedOperators?: AddedOperator[];
  /** The `--operator-keys` directory the attesters' keys came from, when they did. */
  operatorKeys?: string;
  /** Attesters `up` registered that `operator remove` unregistered since: `up` leaves them out. */
  removedOperators?: RemovedOperator[];
  savedAt: string;
}

/** An attester `operator add` added; its key is re-derived from the devnet mnemonic. */
export interface AddedOperator {
  name: string;
  /** BIP-44 index on the devnet mnemonic (m/44'/60'/0'/0/index). */
  index: number;
  address: string;
  /** Its BLS key is derived from its private key (no AVSCTL_BLS_SECRET_KEY). */
  bls: "from-private-key";
  operatorId: number;
  votingPower: string;
}

/** An attester of the plan's own (`attester-<n>`) that `operator remove` unregistered. */
export interface RemovedOperator {
  name: string;
  address: string;
}

function savedFile(projectDir: string): string {
  return path.join(chainStateDir(projectDir), "deployment.json");
}

const BIGINT = "$bigint";

export function readSaved(projectDir: string): SavedDevnet | undefined {
  const file = savedFile(projectDir);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, "utf8"), (_k, v) =>
      v && typeof v === "object" && BIGINT in v ? BigInt(v[BIGINT]) : v,
    ) as SavedDevnet;
  } catch {
    // An unreadable record is as good as none: the chains are redeployed.
    return undefined;
  }
}

/** Written right after registration, so a crash while the nodes start still resumes. */
export function writeSaved(
  projectDir: string,
  runtime: RuntimeKind,
  plan: StartPlan,
  registration: Registration,
) {
  writeRecord(projectDir, {
    version: 1,
    runtime,
    chainIds: [plan.topology.l1ChainId, ...plan.topology.l2ChainIds],
    accounts: accountsOf(plan),
    registration,
    ...(plan.operators ? { operatorKeys: plan.operators.dir } : {}),
    savedAt: new Date().toISOString(),
  });
}

/**
 * Records (or, with `undefined`, forgets) an attester `operator add` added, so the next `up` on
 * this saved state starts it too. No record (an older devnet): nothing to keep it in.
 */
export function saveAddedOperator(projectDir: string, name: string, added: AddedOperator | undefined): void {
  const saved = readSaved(projectDir);
  if (!saved) return;
  const others = (saved.addedOperators ?? []).filter((o) => o.name !== name);
  writeRecord(projectDir, { ...saved, addedOperators: added ? [...others, added] : others });
}

/**
 * Records that `operator remove` unregistered this attester. One `operator add` added is
 * forgotten; one `up` registered stays in `accounts` (the keys must still match the plan) and is
 * listed as removed, so the next `up` does not start a node the chains no longer count.
 */
export function saveRemovedOperator(projectDir: string, name: string, address: string): void {
  const saved = readSaved(projectDir);
  if (!saved) return;
  const other = (o: { address: string }) => o.address.toLowerCase() !== address.toLowerCase();
  const added = saved.addedOperators ?? [];
  const wasAdded = !added.every(other);
  const removed = (saved.removedOperators ?? []).filter(other);
  writeRecord(projectDir, {
    ...saved,
    addedOperators: added.filter(other),
    removedOperators: wasAdded ? removed : [...removed, { name, address }],
  });
}

function writeRecord(projectDir: string, saved: SavedDevnet): void {
  mkdirSync(chainStateDir(projectDir), { recursive: true });
  const file = savedFile(projectDir);
  const tmp = `${file}.${process.pid}.tmp`;
  const text = JSON.stringify(saved, (_k, v) => (typeof v === "bigint" ? { [BIGINT]: v.toString() } : v), 2);
  writeFileSync(tmp, `${text}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

function accountsOf(plan: StartPlan): string[] {
  const { keys } = plan;
  return [keys.deployer, keys.aggregator, keys.performer, ...keys.attesters].map((k) =>
    k.address.toLowerCase(),
  );
}

/** Why the saved state cannot serve this plan, or undefined when it can. */
export function savedMismatch(saved: SavedDevnet, plan: StartPlan, runtime: RuntimeKind): string | undefined {
  if (saved.version !== 1) return "it was saved by another version of avsctl";
  if (saved.runtime !== runtime)
    return `it was saved by the ${saved.runtime} runtime, this one is ${runtime}`;
  const chainIds = [plan.topology.l1ChainId, ...plan.topology.l2ChainIds];
  if (saved.chainIds.join(",") !== chainIds.join(","))
    return `its chains are ${saved.chainIds.join(", ")}, asked ${chainIds.join(", ")}`;
  const accounts = accountsOf(plan);
  if (saved.accounts.length !== accounts.length)
    return `it registered ${saved.accounts.length - 3} attester(s), asked ${accounts.length - 3}`;
  if (saved.accounts.join(",") !== accounts.join(",")) return "its operators' keys differ from this run's";
  return undefined;
}

/** Why the started chains do not hold the recorded contracts, or undefined when they do. */
export async function savedContractsMissing(saved: SavedDevnet, chains: Chains): Promise<string | undefined> {
  const { jsonRpc } = await import("../chain/json-rpc.js");
  const { deployment } = saved.registration;
  // Every contract a node reads, not only the entry points: a state file that lost one is no use.
  const checks: Array<[string, string, string]> = [
    ["L1", chains.l1.hostUrl("rpc"), deployment.avsGovernance],
    ...chains.l2s.flatMap((l, i): Array<[string, string, string]> => {
      const d = deployment.l2[i];
      return [d?.attestationCenter ?? "", d?.obls, d?.internalTaskHandler]
        .filter((a): a is string => a !== undefined)
        .map((address) => [`L2 ${saved.chainIds[i + 1]}`, l.hostUrl("rpc"), address]);
    }),
  ];
  for (const [chain, url, address] of checks) {
    const code = await jsonRpc<string>(url, "eth_getCode", [address, "latest"]).catch(() => "0x");
    if (!code || code === "0x") return `no contract at ${address} on ${chain}`;
  }
  return undefined;
}

/** Deletes the saved state on this machine's disk (the Docker volumes go with `removeProject`). */
export function removeSavedFiles(projectDir: string): string[] {
  const removed = savedPaths(projectDir).filter((p) => existsSync(p));
  for (const p of removed) rmSync(p, { recursive: true, force: true });
  return removed;
}
