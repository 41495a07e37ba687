import type { Interface, Log, Wallet } from "ethers";
import { type AttestationCenterInterfaces, attestationCenterInterfaces } from "../chain/abi/interfaces.js";
import type { Generation, GenerationReport } from "../chain/generation.js";
import { translateChainError } from "../chain/rpc.js";
import type { ChainTarget } from "../chain/target.js";
import { type PreparedCall, prepareCall, sendCall } from "../chain/tx.js";
import {
  FIRST_INTERNAL_TASK_DEFINITION_ID,
  parseAmount,
  parseBlockExpiry,
  parseOperatorIds,
  parseUint,
  UINT256_MAX,
} from "../chain/units.js";
import type { TaskDefinitionConfig } from "../config/schema.js";
import { AvsctlError, invalidArgument } from "../errors.js";

/** What `task-def list --json` prints for each definition (uint256 as decimal strings). */
export interface TaskDefinitionInfo {
  taskDefinitionId: number;
  name: string;
  blockExpiry: string;
  baseRewardFeeForAttesters: string;
  baseRewardFeeForPerformer: string;
  baseRewardFeeForAggregator: string;
  disputePeriodBlocks: string;
  minimumVotingPower: string;
  restrictedOperatorIndexes: string[];
  maximumNumberOfAttesters: string;
}

export interface TaskDefinitionParams {
  name: string;
  blockExpiry: bigint;
  baseRewardFeeForAttesters: bigint;
  baseRewardFeeForPerformer: bigint;
  baseRewardFeeForAggregator: bigint;
  disputePeriodBlocks: bigint;
  minimumVotingPower: bigint;
  restrictedOperatorIndexes: bigint[];
  maximumNumberOfAttesters: bigint;
}

/** The raw values a user gives (flags or config); every one is checked before anything is sent. */
export interface TaskDefinitionInput {
  name?: string;
  blockExpiry?: string;
  rewardAttesters?: string;
  rewardPerformer?: string;
  rewardAggregator?: string;
  disputePeriod?: string | number;
  minVotingPower?: string;
  restrictedOperators?: string | readonly (string | number)[];
  maxAttesters?: string | number;
}

export interface ParsedInput {
  params: TaskDefinitionParams;
  warnings: string[];
}

/** Checks and converts user input; names the flag on every failure (exit 2, nothing sent). */
export function parseTaskDefinitionInput(input: TaskDefinitionInput): ParsedInput {
  const warnings: string[] = [];
  const name = input.name?.trim();
  if (!name) throw invalidArgument("--name", "required: the task definition name");
  if (name.length > 256) throw invalidArgument("--name", "at most 256 characters");
  const restricted =
    input.restrictedOperators === undefined
      ? { ids: [], sorted: false }
      : parseOperatorIds(input.restrictedOperators, "--restricted-operators");
  if (restricted.sorted)
    warnings.push(
      `restricted operator ids sorted ascending as the contract requires: ${restricted.ids.join(",")}`,
    );
  const maximumNumberOfAttesters = parseUint(input.maxAttesters ?? "0", "--max-attesters");
  if (restricted.ids.length > 0 && maximumNumberOfAttesters > BigInt(restricted.ids.length)) {
    throw invalidArgument(
      "--max-attesters",
      `${maximumNumberOfAttesters} exceeds the ${restricted.ids.length} restricted operators (InvalidMaximumNumberOfAttesters)`,
    );
  }
  return {
    params: {
      name,
      blockExpiry: parseBlockExpiry(input.blockExpiry),
      baseRewardFeeForAttesters: parseAmount(input.rewardAttesters ?? "0", "--reward-attesters"),
      baseRewardFeeForPerformer: parseAmount(input.rewardPerformer ?? "0", "--reward-performer"),
      baseRewardFeeForAggregator: parseAmount(input.rewardAggregator ?? "0", "--reward-aggregator"),
      disputePeriodBlocks: parseUint(input.disputePeriod ?? "0", "--dispute-period"),
      minimumVotingPower: parseAmount(input.minVotingPower ?? "0", "--min-voting-power"),
      restrictedOperatorIndexes: restricted.ids,
      maximumNumberOfAttesters,
    },
    warnings,
  };
}

export function configToInput(def: TaskDefinitionConfig): TaskDefinitionInput {
  return {
    name: def.name,
    blockExpiry: def.blockExpiry,
    rewardAttesters: def.rewardAttesters,
    rewardPerformer: def.rewardPerformer,
    rewardAggregator: def.rewardAggregator,
    disputePeriod: def.disputePeriod,
    minVotingPower: def.minVotingPower,
    restrictedOperators: def.restrictedOperators,
    maxAttesters: def.maxAttesters,
  };
}

/** An AttestationCenter of a known generation, with the calls task-def needs. */
export class TaskDefClient {
  readonly iface: Interface;

  private constructor(
    readonly target: ChainTarget,
    readonly generation: GenerationReport,
    private readonly ifaces: AttestationCenterInterfaces,
  ) {
    this.iface = generation.generation === "gen2" ? ifaces.gen2 : ifaces.gen1;
  }

  static async open(target: ChainTarget, generation: GenerationReport): Promise<TaskDefClient> {
    return new TaskDefClient(target, generation, await attestationCenterInterfaces());
  }

  get gen(): Generation {
    return this.generation.generation;
  }

  private call(signature: string, values: readonly unknown[]): PreparedCall {
    return prepareCall(this.iface, this.target.attestationCenter, signature, values);
  }

  /**
   * Checks that need the chain (expiry in the future, generation supports the flags). The
   * expiry matters only for a definition about to be created (`creating: false` skips it).
   */
  async checkAgainstChain(params: TaskDefinitionParams, opts: { creating?: boolean } = {}): Promise<void> {
    if (this.gen === "gen1" && params.maximumNumberOfAttesters !== 0n) {
      throw invalidArgument(
        "--max-attesters",
        "this AttestationCenter is generation 1, which has no maximum number of attesters",
      );
    }
    if (opts.creating !== false && params.blockExpiry !== UINT256_MAX) {
      const block = BigInt(await this.target.provider.getBlockNumber());
      if (params.blockExpiry <= block) {
        throw invalidArgument(
          "--block-expiry",
          `${params.blockExpiry} is not in the future (current block ${block})`,
        );
      }
    }
  }

  prepareCreate(p: TaskDefinitionParams): PreparedCall {
    const common = [
      p.blockExpiry,
      p.baseRewardFeeForAttesters,
      p.baseRewardFeeForPerformer,
      p.baseRewardFeeForAggregator,
      p.disputePeriodBlocks,
      p.minimumVotingPower,
      p.restrictedOperatorIndexes,
    ];
    return this.gen === "gen2"
      ? this.call(
          "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
          [p.name, [...common, p.maximumNumberOfAttesters]],
        )
      : this.call(
          "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[]))",
          [p.name, common],
        );
  }

  prepareSetMinVotingPower(id: number, wei: bigint): PreparedCall {
    return this.call("setTaskDefinitionMinVotingPower", [id, wei]);
  }

  prepareSetRestricted(id: number, ids: bigint[]): PreparedCall {
    return this.gen === "gen2"
      ? this.call("setTaskDefinitionRestrictedAttesters", [id, ids])
      : this.call("setTaskDefinitionRestrictedOperators", [id, ids]);
  }

  prepareSetMaxAttesters(id: number, n: bigint): PreparedCall {
    if (this.gen === "gen1") {
      throw invalidArgument(
        "set-max-attesters",
        "this AttestationCenter is generation 1, which has no maximum number of attesters",
      );
    }
    return this.call("setTaskDefinitionMaximumNumberOfAttesters", [id, n]);
  }

  /**
   * The definition a create transaction made, from its own TaskDefinitionCreated event, with
   * the setter-controlled values read back from the views.
   */
  async created(logs: readonly Log[]): Promise<TaskDefinitionInfo | undefined> {
    for (const log of logs) {
      if (log.address.toLowerCase() !== this.target.attestationCenter.toLowerCase()) continue;
      const info = this.parseCreated(log);
      if (info) {
        await this.refresh(info);
        return info;
      }
    }
    return undefined;
  }

  private parseCreated(log: Log): TaskDefinitionInfo | undefined {
    // Either generation's event may appear, whatever the contract's generation today.
    const iface = [this.ifaces.gen2, this.ifaces.gen1].find(
      (i) => i.getEvent("TaskDefinitionCreated")!.topicHash === log.topics[0],
    );
    const parsed = iface?.parseLog(log);
    if (parsed?.name !== "TaskDefinitionCreated") return undefined;
    const a = parsed.args;
    return {
      taskDefinitionId: Number(a[0]),
      name: String(a[1]),
      blockExpiry: String(a[2]),
      baseRewardFeeForAttesters: String(a[3]),
      baseRewardFeeForPerformer: String(a[4]),
      baseRewardFeeForAggregator: String(a[5]),
      disputePeriodBlocks: String(a[6]),
      minimumVotingPower: String(a[7]),
      restrictedOperatorIndexes: Array.from(a[8] as bigint[], String),
      maximumNumberOfAttesters: a.length > 9 ? String(a[9]) : "0",
    };
  }

  /**
   * Every definition from the TaskDefinitionCreated events of both generations, with the
   * setter-controlled values read back from the views (they change after creation).
   */
  async list(opts: { includeInternal?: boolean; fromBlock?: number } = {}): Promise<TaskDefinitionInfo[]> {
    const topics = [this.ifaces.gen1, this.ifaces.gen2].map(
      (i) => i.getEvent("TaskDefinitionCreated")!.topicHash,
    );
    let logs: Log[];
    try {
      // The head is asked for directly: ethers may answer "latest" from a block number cached
      // before a transaction this very command just sent.
      const head = Number(await this.target.provider.send("eth_blockNumber", []));
      logs = await this.target.provider.getLogs({
        address: this.target.attestationCenter,
        topics: [topics],
        fromBlock: opts.fromBlock ?? 0,
        toBlock: head,
      });
    } catch (error) {
      throw await translateChainError(error, {
        action: "reading TaskDefinitionCreated events",
        rpcUrl: this.target.rpcUrl,
      });
    }
    const byId = new Map<number, TaskDefinitionInfo>();
    for (const log of logs) {
      const info = this.parseCreated(log);
      if (info && (opts.includeInternal || info.taskDefinitionId < FIRST_INTERNAL_TASK_DEFINITION_ID)) {
        byId.set(info.taskDefinitionId, info);
      }
    }
    const defs = [...byId.values()].sort((a, b) => a.taskDefinitionId - b.taskDefinitionId);
    await Promise.all(defs.map((d) => this.refresh(d)));
    return defs;
  }

  async show(id: number): Promise<TaskDefinitionInfo> {
    const found = (await this.list({ includeInternal: true })).find((d) => d.taskDefinitionId === id);
    if (!found) {
      const onDevnet = this.target.devnet?.l2.some((l) => l.rpcUrl === this.target.rpcUrl) === true;
      throw new AvsctlError(
        "TASK_DEF_NOT_FOUND",
        `task definition ${id} does not exist on ${this.target.attestationCenter}`,
        {
          hint: onDevnet
            ? "`avsctl task-def list` shows the existing ones"
            : "`avsctl task-def list` with the same --rpc-url and --attestation-center shows the existing ones",
          details: { taskDefinitionId: id },
        },
      );
    }
    return found;
  }

  private async view(signature: string, args: unknown[]): Promise<unknown | undefined> {
    try {
      const data = this.iface.encodeFunctionData(signature, args);
      const result = await this.target.provider.call({ to: this.target.attestationCenter, data });
      return this.iface.decodeFunctionResult(signature, result)[0];
    } catch {
      return undefined; // a foreign contract without this view: keep the event's value
    }
  }

  private async refresh(d: TaskDefinitionInfo): Promise<void> {
    const id = d.taskDefinitionId;
    const [minVp, restricted, max] = await Promise.all([
      this.view("getTaskDefinitionMinimumVotingPower", [id]),
      this.view(
        this.gen === "gen2" ? "getTaskDefinitionRestrictedAttesters" : "getTaskDefinitionRestrictedOperators",
        [id],
      ),
      this.gen === "gen2"
        ? this.view("getTaskDefinitionMaximumNumberOfAttesters", [id])
        : Promise.resolve(undefined),
    ]);
    if (minVp !== undefined) d.minimumVotingPower = String(minVp);
    if (restricted !== undefined) d.restrictedOperatorIndexes = Array.from(restricted as bigint[], String);
    if (max !== undefined) d.maximumNumberOfAttesters = String(max);
  }
}

export interface CreateResult {
  taskDefinitionId: number;
  name: string;
  txHash: string;
  transactions: Array<{ method: string; txHash: string; gasUsed: string }>;
  params: Record<string, unknown>;
  generation: Generation;
  warnings: string[];
}

export interface DryRunResult {
  dryRun: true;
  generation: Generation;
  calls: Array<Omit<PreparedCall, "to"> & { to: string }>;
  warnings: string[];
}

export function paramsJson(p: TaskDefinitionParams): Record<string, unknown> {
  return {
    name: p.name,
    blockExpiry: p.blockExpiry.toString(),
    baseRewardFeeForAttesters: p.baseRewardFeeForAttesters.toString(),
    baseRewardFeeForPerformer: p.baseRewardFeeForPerformer.toString(),
    baseRewardFeeForAggregator: p.baseRewardFeeForAggregator.toString(),
    disputePeriodBlocks: p.disputePeriodBlocks.toString(),
    minimumVotingPower: p.minimumVotingPower.toString(),
    restrictedOperatorIndexes: p.restrictedOperatorIndexes.map(String),
    maximumNumberOfAttesters: p.maximumNumberOfAttesters.toString(),
  };
}

/**
 * Creates a definition, then calls the setters for whatever the contract did not take from
 * the struct (read back from the views), so the chain ends up holding what was asked.
 */
export async function createTaskDefinition(
  client: TaskDefClient,
  signer: Wallet,
  parsed: ParsedInput,
): Promise<CreateResult> {
  const p = parsed.params;
  await client.checkAgainstChain(p);
  const sent = await sendCall(signer, client.prepareCreate(p), client.target.rpcUrl);
  const now = await client.created(sent.receipt.logs);
  if (now === undefined) {
    throw new AvsctlError(
      "TX_FAILED",
      `createNewTaskDefinition (tx ${sent.txHash}) emitted no TaskDefinitionCreated event`,
      {
        hint: "is --attestation-center really an AttestationCenter?",
      },
    );
  }
  const id = now.taskDefinitionId;
  const transactions = [{ method: sent.method, txHash: sent.txHash, gasUsed: sent.gasUsed }];
  const followUps: PreparedCall[] = [];
  if (now.minimumVotingPower !== p.minimumVotingPower.toString()) {
    followUps.push(client.prepareSetMinVotingPower(id, p.minimumVotingPower));
  }
  if (now.restrictedOperatorIndexes.join(",") !== p.restrictedOperatorIndexes.join(",")) {
    followUps.push(client.prepareSetRestricted(id, p.restrictedOperatorIndexes));
  }
  if (client.gen === "gen2" && now.maximumNumberOfAttesters !== p.maximumNumberOfAttesters.toString()) {
    followUps.push(client.prepareSetMaxAttesters(id, p.maximumNumberOfAttesters));
  }
  for (const call of followUps) {
    const s = await sendCall(signer, call, client.target.rpcUrl);
    transactions.push({ method: s.method, txHash: s.txHash, gasUsed: s.gasUsed });
  }
  return {
    taskDefinitionId: id,
    name: p.name,
    txHash: sent.txHash,
    transactions,
    params: paramsJson(p),
    generation: client.gen,
    warnings: parsed.warnings,
  };
}

export interface ApplyStep {
  action: "create" | "setMinVotingPower" | "setRestrictedOperators" | "setMaxAttesters" | "drift";
  name: string;
  taskDefinitionId?: number;
  from?: unknown;
  to?: unknown;
  /** For `drift`: what differs but has no setter (it stays as it is on-chain). */
  note?: string;
}

/**
 * Compares the desired definitions (by name) with the chain: missing ones are created, setter
 * values fixed; values without a setter are reported as drift. An empty plan sends nothing.
 */
export function planApply(
  desired: readonly ParsedInput[],
  current: readonly TaskDefinitionInfo[],
  gen: Generation,
): ApplyStep[] {
  const plan: ApplyStep[] = [];
  for (const { params: p } of desired) {
    const existing = current
      .filter((c) => c.name === p.name)
      .sort((a, b) => a.taskDefinitionId - b.taskDefinitionId)[0];
    if (!existing) {
      plan.push({ action: "create", name: p.name });
      continue;
    }
    const id = existing.taskDefinitionId;
    if (existing.minimumVotingPower !== p.minimumVotingPower.toString()) {
      plan.push({
        action: "setMinVotingPower",
        name: p.name,
        taskDefinitionId: id,
        from: existing.minimumVotingPower,
        to: p.minimumVotingPower.toString(),
      });
    }
    const want = p.restrictedOperatorIndexes.map(String);
    const restrictedStep: ApplyStep | undefined =
      existing.restrictedOperatorIndexes.join(",") !== want.join(",")
        ? {
            action: "setRestrictedOperators",
            name: p.name,
            taskDefinitionId: id,
            from: existing.restrictedOperatorIndexes,
            to: want,
          }
        : undefined;
    const maxStep: ApplyStep | undefined =
      gen === "gen2" && existing.maximumNumberOfAttesters !== p.maximumNumberOfAttesters.toString()
        ? {
            action: "setMaxAttesters",
            name: p.name,
            taskDefinitionId: id,
            from: existing.maximumNumberOfAttesters,
            to: p.maximumNumberOfAttesters.toString(),
          }
        : undefined;
    // Each setter checks max <= restricted count against the other's current value: lower the
    // maximum first unless it is about to exceed the restricted ids still on-chain.
    const currentCount = BigInt(existing.restrictedOperatorIndexes.length);
    const maxFirst = currentCount === 0n || p.maximumNumberOfAttesters <= currentCount;
    const ordered = maxFirst ? [maxStep, restrictedStep] : [restrictedStep, maxStep];
    for (const step of ordered) if (step) plan.push(step);
    for (const [key, want2] of [
      ["blockExpiry", p.blockExpiry],
      ["baseRewardFeeForAttesters", p.baseRewardFeeForAttesters],
      ["baseRewardFeeForPerformer", p.baseRewardFeeForPerformer],
      ["baseRewardFeeForAggregator", p.baseRewardFeeForAggregator],
      ["disputePeriodBlocks", p.disputePeriodBlocks],
    ] as const) {
      if (existing[key] !== want2.toString()) {
        plan.push({
          action: "drift",
          name: p.name,
          taskDefinitionId: id,
          from: existing[key],
          to: want2.toString(),
          note: `${key} has no setter; create a new definition to change it`,
        });
      }
    }
  }
  return plan;
}

export async function executePlan(
  client: TaskDefClient,
  signer: Wallet,
  plan: readonly ApplyStep[],
  desired: readonly ParsedInput[],
): Promise<Array<ApplyStep & { txHash?: string; gasUsed?: string; taskDefinitionId?: number }>> {
  const applied: Array<ApplyStep & { txHash?: string; gasUsed?: string }> = [];
  for (const step of plan) {
    if (step.action === "drift") continue;
    if (step.action === "create") {
      const input = desired.find((d) => d.params.name === step.name)!;
      const r = await createTaskDefinition(client, signer, input);
      applied.push({
        ...step,
        taskDefinitionId: r.taskDefinitionId,
        txHash: r.txHash,
        gasUsed: r.transactions[0]!.gasUsed,
      });
      continue;
    }
    const id = step.taskDefinitionId!;
    const call =
      step.action === "setMinVotingPower"
        ? client.prepareSetMinVotingPower(id, BigInt(step.to as string))
        : step.action === "setRestrictedOperators"
          ? client.prepareSetRestricted(id, (step.to as string[]).map(BigInt))
          : client.prepareSetMaxAttesters(id, BigInt(step.to as string));
    const s = await sendCall(signer, call, client.target.rpcUrl);
    applied.push({ ...step, txHash: s.txHash, gasUsed: s.gasUsed });
  }
  return applied;
}
