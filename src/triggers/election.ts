/**
 * The runner's election: which operator performs a firing at a block (round robin, leader.ts)
 * and whether this runner holds that operator's key. Operator lists are cached per block, so
 * several firings at one block see one list and the node is asked once.
 */

import { AvsctlError } from "../errors.js";
import {
  type ActiveOperator,
  type ActiveOperatorsSource,
  electPerformer,
  readActiveOperators,
} from "./leader.js";

/** Blocks whose operator lists are kept; older ones are dropped first. */
const CACHED_BLOCKS = 32;

/**
 * The keys a runner may perform with, by lowercase address. Throws INVALID_KEY for a key that
 * is not a private key or belongs to another address than the one it is given for.
 */
export async function operatorKeys(operators: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  if (operators.size === 0) return keys;
  const { Wallet } = await import("ethers");
  for (const [address, key] of operators) {
    let derived: string;
    try {
      derived = new Wallet(key).address.toLowerCase();
    } catch (error) {
      throw new AvsctlError("INVALID_KEY", `the key given for operator ${address} is not a private key`, {
        cause: error,
      });
    }
    if (derived !== address.toLowerCase()) {
      throw new AvsctlError("INVALID_KEY", `the key given for operator ${address} belongs to ${derived}`);
    }
    keys.set(derived, key);
  }
  return keys;
}

export interface Elected {
  leader: ActiveOperator;
  /** The leader's key when this runner holds it: then this runner performs. */
  key: string | undefined;
}

export class Election {
  private readonly cache = new Map<number, Promise<ReadonlyArray<ActiveOperator>>>();
  private readonly source: ActiveOperatorsSource;

  constructor(
    private readonly opts: {
      keys: ReadonlyMap<string, string>;
      epochBlocks: number;
      /** Default: getActiveOperatorsDetails() of the AttestationCenter at the block. */
      source?: ActiveOperatorsSource;
      rpcUrl: string;
      attestationCenter: string;
      signal: AbortSignal;
    },
  ) {
    this.source =
      opts.source ??
      ((block) => readActiveOperators(opts.rpcUrl, opts.attestationCenter, block, opts.signal));
  }

  /** The performer at `blockNumber`; COMMAND_FAILED when no operator is active there. */
  async elect(blockNumber: number): Promise<Elected> {
    const leader = electPerformer(await this.operatorsAt(blockNumber), blockNumber, this.opts.epochBlocks);
    if (!leader) {
      throw new AvsctlError(
        "COMMAND_FAILED",
        `no active operator at block ${blockNumber} to perform the task`,
      );
    }
    return { leader, key: this.opts.keys.get(leader.operator.toLowerCase()) };
  }

  private operatorsAt(block: number): Promise<ReadonlyArray<ActiveOperator>> {
    let p = this.cache.get(block);
    if (!p) {
      p = this.source(block);
      p.catch(() => this.cache.delete(block));
      this.cache.set(block, p);
      if (this.cache.size > CACHED_BLOCKS) this.cache.delete(this.cache.keys().next().value!);
    }
    return p;
  }
}
