/**
 * What a node knows about one L2: active operators (id, voting power, BLS key), total voting
 * power, task definitions and the block height, read from the AttestationCenter and OBLS and
 * cached. Everything is refreshed periodically and on demand when a request names something
 * unknown (rate-limited), so a sendTask never waits on more than one round of reads.
 */

import { Interface } from "ethers/abi";
import type { G2 } from "../crypto/bls.js";
import { namedRevert, RpcCallError, revertDataOf } from "./chain-errors.js";
import { type ConsensusRules, consensusRules } from "./consensus.js";
import type { Logger } from "./log.js";
import type { L2Target } from "./options.js";
import { isUnreachable, Reachability } from "./reachable.js";
import type { RpcClient } from "./rpc-client.js";

export interface OperatorInfo {
  address: string;
  operatorId: bigint;
  votingPower: bigint;
  blsKey: G2;
}

export interface TaskDefinitionInfo {
  id: number;
  minimumVotingPower: bigint;
  restrictedAttesterIds: bigint[];
  maximumNumberOfAttesters: number;
  /** The total the contract compares signers against (per-definition when it has restrictions). */
  totalVotingPower: bigint;
  fetchedAt: number;
}

/** The AttestationCenter and OBLS reads a node needs (names of docs/protocol.md / contracts/interfaces). */
export const NODE_VIEW_ABI = [
  "function getActiveOperatorsDetails() view returns ((address operator, uint256 operatorId, uint256 votingPower, uint256 feeToClaim)[])",
  "function obls() view returns (address)",
  "function getTaskDefinitionMinimumVotingPower(uint16) view returns (uint256)",
  "function getTaskDefinitionRestrictedAttesters(uint16) view returns (uint256[])",
  "function getTaskDefinitionMaximumNumberOfAttesters(uint16) view returns (uint256)",
  "function verifyOperatorValidForTaskDefinition(address, uint16) view",
  "function isSignedTask(bytes32) view returns (bool)",
  "function totalVotingPower() view returns (uint256)",
  "function totalVotingPowerPerTaskDefinition(uint256) view returns (uint256)",
  "function getOperatorBlsKey(uint256) view returns (uint256[4])",
] as const;

const iface = new Interface(NODE_VIEW_ABI as unknown as string[]);

/**
 * Both generations' TaskDefinitionCreated: blockExpiry (argument 2) is in no view, and no
 * setter changes it after creation.
 */
const DEFINITION_CREATED = [
  "event TaskDefinitionCreated(uint16 taskDefinitionId, string name, uint256 blockExpiry, uint256 baseRewardFeeForAttesters, uint256 baseRewardFeeForPerformer, uint256 baseRewardFeeForAggregator, uint256 disputePeriodBlocks, uint256 minimumVotingPower, uint256[] restrictedAttesterIds, uint256 maximumNumberOfAttesters)",
  "event TaskDefinitionCreated(uint16 taskDefinitionId, string name, uint256 blockExpiry, uint256 baseRewardFeeForAttesters, uint256 baseRewardFeeForPerformer, uint256 baseRewardFeeForAggregator, uint256 disputePeriodBlocks, uint256 minimumVotingPower, uint256[] restrictedOperatorIndexes)",
].map((e) => new Interface([e]));

/** The contract stores blockExpiry saturated to uint64; a chain never reaches that block. */
export const NEVER_EXPIRES = 2n ** 64n - 1n;

const MIN_ON_DEMAND_REFRESH_MS = 500;
const DEFINITION_TTL_MS = 5_000;
const OPERATOR_CHECK_TTL_MS = 2_000;
/**
 * A cached read older than its TTL but younger than this many TTLs is still answered while one
 * refresh runs: under load the chain is slowest, and every request would otherwise wait for it
 * (each with its own eth_call, until one came back).
 */
const STALE_TTLS = 4;

/**
 * The read a caller of a cached value must wait for, or undefined when the cached value answers:
 * while younger than `ttl`, and until STALE_TTLS times `ttl` while one read refreshes it. One
 * read per key at a time: concurrent callers share the read in flight. `age` is Infinity when
 * nothing is cached.
 */
function readToWaitFor<K, T>(
  inFlight: Map<K, Promise<T>>,
  key: K,
  age: number,
  ttl: number,
  read: () => Promise<T>,
): Promise<T> | undefined {
  if (age < ttl) return undefined;
  let p = inFlight.get(key);
  if (!p) {
    p = read().finally(() => inFlight.delete(key));
    inFlight.set(key, p);
  }
  if (age < ttl * STALE_TTLS) {
    p.catch(() => undefined);
    return undefined;
  }
  return p;
}

export class ChainView {
  private byAddress = new Map<string, OperatorInfo>();
  private byId = new Map<bigint, OperatorInfo>();
  private readonly blsKeys = new Map<bigint, G2>();
  private readonly definitions = new Map<number, TaskDefinitionInfo>();
  private readonly operatorChecks = new Map<string, number>();
  private readonly definitionReads = new Map<number, Promise<TaskDefinitionInfo>>();
  private readonly expiries = new Map<number, bigint>();
  private readonly expiryReads = new Map<number, Promise<bigint>>();
  private headRead: Promise<bigint> | undefined;
  private readonly operatorCheckReads = new Map<
    string,
    Promise<{ name: string; args: Record<string, string> } | undefined>
  >();
  total = 0n;
  /** Bumped whenever a known operator's BLS key changed on-chain (aggregate keys must be redone). */
  keysVersion = 0;
  /** Bumped whenever the operators were read again (operators() may have changed). */
  operatorsVersion = 0;
  blockNumber = 0n;
  obls = "";
  private refreshedAt = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly target: L2Target,
    readonly rpc: RpcClient,
    private readonly log: Logger,
    private readonly refreshMs: number,
  ) {}

  get chainId(): number {
    return this.target.chainId;
  }

  get attestationCenter(): string {
    return this.target.attestationCenter;
  }

  /** First full read, then periodic refreshes. */
  async start(): Promise<void> {
    this.obls = iface.decodeFunctionResult(
      "obls",
      await this.ethCall(this.target.attestationCenter, "obls", []),
    )[0] as string;
    await this.refresh();
    // A chain that goes away (and comes back) is said once each way, not at every refresh.
    const reach = new Reachability(this.log, "L2", { chainId: this.chainId });
    this.timer = setInterval(() => {
      this.refresh().then(
        () => reach.answered(),
        (error: Error) =>
          isUnreachable(error)
            ? reach.failed(error)
            : this.log.warn("chain refresh failed", { chainId: this.chainId, error: error.message }),
      );
    }, this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async ethCall(to: string, fn: string, args: unknown[]): Promise<string> {
    return this.rpc.call<string>("eth_call", [{ to, data: iface.encodeFunctionData(fn, args) }, "latest"]);
  }

  /** Re-reads operators, totals and the block height; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.inFlight ??= this.doRefresh().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** A refresh when the last one is older than a short floor (for cache misses). */
  async refreshIfStale(): Promise<void> {
    if (Date.now() - this.refreshedAt >= MIN_ON_DEMAND_REFRESH_MS) await this.refresh();
    else if (this.inFlight) await this.inFlight;
  }

  private async doRefresh(): Promise<void> {
    const ac = this.target.attestationCenter;
    const calls: Array<[string, unknown[]]> = [
      ["eth_call", [{ to: ac, data: iface.encodeFunctionData("getActiveOperatorsDetails", []) }, "latest"]],
      ["eth_call", [{ to: this.obls, data: iface.encodeFunctionData("totalVotingPower", []) }, "latest"]],
      ["eth_blockNumber", []],
    ];
    const [ops, total, block] = await this.rpc.batch(calls);
    for (const a of [ops, total, block]) if (a?.error) throw a.error;
    const details = iface.decodeFunctionResult(
      "getActiveOperatorsDetails",
      ops!.result as string,
    )[0] as Array<{
      operator: string;
      operatorId: bigint;
      votingPower: bigint;
    }>;
    // Every key is read again (one batched request): an operator may rotate its key on-chain
    // (updateBlsKey), and a stale key would make its votes look forged.
    const ids = details.map((d) => d.operatorId);
    const keys = await this.rpc.batch(
      ids.map((id) => [
        "eth_call",
        [{ to: this.obls, data: iface.encodeFunctionData("getOperatorBlsKey", [id]) }, "latest"],
      ]),
    );
    keys.forEach((k, i) => {
      if (k.error) throw k.error;
      const key = iface.decodeFunctionResult("getOperatorBlsKey", k.result as string)[0] as bigint[];
      const id = ids[i]!;
      const next: G2 = [key[0]!, key[1]!, key[2]!, key[3]!];
      const old = this.blsKeys.get(id);
      if (old?.some((c, j) => c !== next[j])) this.keysVersion++;
      this.blsKeys.set(id, next);
    });
    const byAddress = new Map<string, OperatorInfo>();
    const byId = new Map<bigint, OperatorInfo>();
    for (const d of details) {
      const info: OperatorInfo = {
        address: d.operator,
        operatorId: d.operatorId,
        votingPower: d.votingPower,
        blsKey: this.blsKeys.get(d.operatorId)!,
      };
      byAddress.set(d.operator.toLowerCase(), info);
      byId.set(d.operatorId, info);
    }
    this.byAddress = byAddress;
    this.byId = byId;
    this.operatorsVersion++;
    this.total = iface.decodeFunctionResult("totalVotingPower", total!.result as string)[0] as bigint;
    this.blockNumber = BigInt(block!.result as string);
    this.refreshedAt = Date.now();
  }

  operators(): OperatorInfo[] {
    return [...this.byId.values()];
  }

  operatorByAddress(address: string): OperatorInfo | undefined {
    return this.byAddress.get(address.toLowerCase());
  }

  operatorById(id: bigint): OperatorInfo | undefined {
    return this.byId.get(id);
  }

  /**
   * Othentic's `verifyOperatorValidForTaskDefinition(operator, id)`: undefined when the operator
   * is active and may take part in the definition (it exists, has not expired, the operator is
   * in its restricted set and holds its minimum voting power), else the custom error's name and
   * arguments. Successes are cached for two seconds.
   */
  async checkOperatorForDefinition(
    address: string,
    id: number,
  ): Promise<{ name: string; args: Record<string, string> } | undefined> {
    const key = `${address.toLowerCase()}:${id}`;
    const at = this.operatorChecks.get(key);
    const age = at === undefined ? Number.POSITIVE_INFINITY : Date.now() - at;
    // a cached success answers undefined
    return readToWaitFor(this.operatorCheckReads, key, age, OPERATOR_CHECK_TTL_MS, () =>
      this.readOperatorCheck(key, address, id),
    );
  }

  private async readOperatorCheck(
    key: string,
    address: string,
    id: number,
  ): Promise<{ name: string; args: Record<string, string> } | undefined> {
    try {
      await this.ethCall(this.target.attestationCenter, "verifyOperatorValidForTaskDefinition", [
        address,
        id,
      ]);
    } catch (error) {
      const data = revertDataOf(error);
      if (data === undefined) throw error;
      // the next request waits for a check of its own
      this.operatorChecks.delete(key);
      return namedRevert(data) ?? { name: "UnknownRevert", args: { data } };
    }
    if (this.operatorChecks.size > 10_000) this.operatorChecks.clear();
    this.operatorChecks.set(key, Date.now());
    return undefined;
  }

  /** Whether a task hash was already submitted on this chain (AttestationCenter.isSignedTask). */
  async isSignedTask(taskHash: string): Promise<boolean> {
    const out = await this.ethCall(this.target.attestationCenter, "isSignedTask", [taskHash]);
    return iface.decodeFunctionResult("isSignedTask", out)[0] as boolean;
  }

  /**
   * The consensus parameters of a task definition, cached for a few seconds. They read as
   * zeros for a definition that does not exist: existence is checkOperatorForDefinition's job.
   */
  async definition(id: number): Promise<TaskDefinitionInfo> {
    const cached = this.definitions.get(id);
    const age = cached ? Date.now() - cached.fetchedAt : Number.POSITIVE_INFINITY;
    const wait = readToWaitFor(this.definitionReads, id, age, DEFINITION_TTL_MS, () =>
      this.readDefinition(id),
    );
    // nothing to wait for only when something is cached (its age is finite)
    return wait ?? (cached as TaskDefinitionInfo);
  }

  private async readDefinition(id: number): Promise<TaskDefinitionInfo> {
    const ac = this.target.attestationCenter;
    const call = (fn: string, args: unknown[], to = ac): [string, unknown[]] => [
      "eth_call",
      [{ to, data: iface.encodeFunctionData(fn, args) }, "latest"],
    ];
    const answers = await this.rpc.batch([
      call("getTaskDefinitionMinimumVotingPower", [id]),
      call("getTaskDefinitionRestrictedAttesters", [id]),
      call("getTaskDefinitionMaximumNumberOfAttesters", [id]),
      call("totalVotingPowerPerTaskDefinition", [id], this.obls),
    ]);
    const [min, restricted, max, perDef] = answers;
    const decode = (fn: string, a: (typeof answers)[number] | undefined): unknown => {
      if (!a) throw new RpcCallError(fn, -32603, "missing answer");
      if (a.error) throw a.error;
      return iface.decodeFunctionResult(fn, a.result as string)[0];
    };
    const info: TaskDefinitionInfo = {
      id,
      minimumVotingPower: decode("getTaskDefinitionMinimumVotingPower", min) as bigint,
      restrictedAttesterIds: [...(decode("getTaskDefinitionRestrictedAttesters", restricted) as bigint[])],
      maximumNumberOfAttesters: Number(decode("getTaskDefinitionMaximumNumberOfAttesters", max) as bigint),
      totalVotingPower: decode("totalVotingPowerPerTaskDefinition", perDef) as bigint,
      fetchedAt: Date.now(),
    };
    this.definitions.set(id, info);
    return info;
  }

  /**
   * A definition's blockExpiry, from its TaskDefinitionCreated event and kept for good (it
   * never changes). A definition with no event was made by the constructor (0, 10001, 10002)
   * and never expires. Only for a definition known to exist: one created later would read as
   * never expiring.
   */
  async blockExpiry(id: number): Promise<bigint> {
    const known = this.expiries.get(id);
    if (known !== undefined) return known;
    let p = this.expiryReads.get(id);
    if (!p) {
      p = this.readBlockExpiry(id).finally(() => this.expiryReads.delete(id));
      this.expiryReads.set(id, p);
    }
    return p;
  }

  private async readBlockExpiry(id: number): Promise<bigint> {
    const logs = await this.rpc.call<Array<{ topics: string[]; data: string }>>("eth_getLogs", [
      {
        address: this.target.attestationCenter,
        topics: [DEFINITION_CREATED.map((i) => i.getEvent("TaskDefinitionCreated")!.topicHash)],
        fromBlock: "0x0",
        toBlock: "latest",
      },
    ]);
    // One read holds every definition created so far: each is kept, not only the one asked for.
    for (const log of logs) {
      const parsed = DEFINITION_CREATED.map((i) => i.parseLog(log)).find((p) => p);
      if (parsed) this.expiries.set(Number(parsed.args[0]), parsed.args[2] as bigint);
    }
    const expiry = this.expiries.get(id) ?? NEVER_EXPIRES;
    this.expiries.set(id, expiry);
    return expiry;
  }

  /**
   * The chain's head now (eth_blockNumber; concurrent callers share one read), for what the
   * periodic refresh would learn too late: `devnet advance` mines blocks between two refreshes.
   */
  head(): Promise<bigint> {
    this.headRead ??= this.rpc
      .call<string>("eth_blockNumber")
      .then((h) => {
        const head = BigInt(h);
        if (head > this.blockNumber) this.blockNumber = head;
        return head;
      })
      .finally(() => {
        this.headRead = undefined;
      });
    return this.headRead;
  }

  /** Who may sign for a definition and how much power each verdict needs (see consensusRules). */
  consensusFor(def: TaskDefinitionInfo): ConsensusRules {
    return consensusRules(def, this.total);
  }
}
