import type { Interface, Log } from "ethers";
import { type AttestationCenterInterfaces, attestationCenterInterfaces } from "../chain/abi/interfaces.js";
import type { Generation, GenerationReport } from "../chain/generation.js";
import { pastableUrl } from "../chain/json-rpc.js";
import { chainDidNotAnswer, translateChainError } from "../chain/rpc.js";
import type { ChainTarget } from "../chain/target.js";
import { type PreparedCall, prepareCall } from "../chain/tx.js";
import { FIRST_INTERNAL_TASK_DEFINITION_ID, UINT256_MAX } from "../chain/units.js";
import { AvsctlError, invalidArgument } from "../errors.js";
import type { TaskDefinitionInfo, TaskDefinitionParams } from "./params.js";

/** An AttestationCenter of a known generation, with the calls task-def needs. */
export class TaskDefClient {
  readonly iface: Interface;
  private activeOperatorPowers?: Promise<Map<bigint, bigint> | undefined>;

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

  /**
   * The target flags of a command printed for pasting, to reach this AttestationCenter: none on
   * the devnet's L2 (--chain-id when the devnet has several), else --rpc-url and
   * --attestation-center, as given or from the environment or config.
   */
  targetFlags(): string {
    const { devnet, rpcFrom, chainId, rpcUrl, attestationCenter } = this.target;
    if (rpcFrom === undefined && devnet) return devnet.l2.length > 1 ? ` --chain-id ${chainId}` : "";
    return ` --rpc-url ${pastableUrl(rpcUrl, "<l2-url>")} --attestation-center ${attestationCenter}`;
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
            : `\`avsctl task-def list --rpc-url ${pastableUrl(this.target.rpcUrl, "<l2-url>")} --attestation-center ${this.target.attestationCenter}\` shows the existing ones`,
          details: { taskDefinitionId: id },
        },
      );
    }
    return found;
  }

  /**
   * The ids of the operators active on this AttestationCenter; undefined when it does not say.
   * Read once per client: `apply` asks for each definition it restricts.
   */
  /** Voting power of each active operator by id (undefined: the contract has no such view). */
  activeOperators(): Promise<Map<bigint, bigint> | undefined> {
    this.activeOperatorPowers ??= (async () => {
      const details = (await this.view("getActiveOperatorsDetails", [])) as
        | Array<{ operatorId: bigint; votingPower: bigint }>
        | undefined;
      return details
        ? new Map(details.map((d) => [BigInt(d.operatorId), BigInt(d.votingPower)] as const))
        : undefined;
    })();
    return this.activeOperatorPowers;
  }

  private async view(signature: string, args: unknown[]): Promise<unknown | undefined> {
    try {
      const data = this.iface.encodeFunctionData(signature, args);
      const result = await this.target.provider.call({ to: this.target.attestationCenter, data });
      return this.iface.decodeFunctionResult(signature, result)[0];
    } catch (error) {
      // a chain that does not answer has not said the view is missing: the event's value may be stale
      if (chainDidNotAnswer(error))
        throw await translateChainError(error, {
          action: `reading ${signature}`,
          rpcUrl: this.target.rpcUrl,
        });
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
