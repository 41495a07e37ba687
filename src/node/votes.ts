/**
 * Vote collection for one task: voting power per verdict, the thresholds of
 * docs/protocol.md#consensus (approve at total*2/3, reject at total/3, integer division), and
 * the choice of signers submitted on-chain (strictly ascending operator ids, at most the
 * definition's maximum number of attesters).
 */

import type { G1 } from "../crypto/hash-to-point.js";

export type Verdict = "approve" | "reject";

export interface Vote {
  operatorId: bigint;
  power: bigint;
  isApproved: boolean;
  signature: G1;
}

/** The voting power each verdict needs. Required power 0 is refused on-chain, so it is never "reached". */
export function requiredPower(total: bigint): { approve: bigint; reject: bigint } {
  return { approve: (total * 2n) / 3n, reject: total / 3n };
}

/** Whether `power` meets a required amount (the contracts check `>=`). */
export function meets(power: bigint, required: bigint): boolean {
  return required > 0n && power >= required;
}

/**
 * Chooses which votes of one verdict go on-chain: all of them when no maximum applies,
 * otherwise the strongest ones up to `max`, as long as they still meet `required`. Returned in
 * strictly ascending operator id order (OBLS rejects any other order). Undefined when the
 * votes cannot meet the requirement.
 */
export function selectSigners(votes: Vote[], required: bigint, max?: number): Vote[] | undefined {
  let chosen = votes;
  if (max !== undefined && max > 0 && votes.length > max) {
    chosen = [...votes].sort((a, b) => (b.power > a.power ? 1 : b.power < a.power ? -1 : 0)).slice(0, max);
  }
  const power = chosen.reduce((sum, v) => sum + v.power, 0n);
  if (!meets(power, required)) return undefined;
  return [...chosen].sort((a, b) => (a.operatorId < b.operatorId ? -1 : a.operatorId > b.operatorId ? 1 : 0));
}

/** The votes gathered so far for one task on one chain. */
export class VoteTally {
  private readonly votes = new Map<bigint, Vote>();
  private approvePower = 0n;
  private rejectPower = 0n;

  constructor(
    readonly required: { approve: bigint; reject: bigint },
    readonly maxAttesters?: number,
  ) {}

  /** Records a vote (an attester's later vote replaces its earlier one). */
  add(vote: Vote): void {
    this.remove(vote.operatorId);
    this.votes.set(vote.operatorId, vote);
    if (vote.isApproved) this.approvePower += vote.power;
    else this.rejectPower += vote.power;
  }

  /** Forgets a vote (e.g. one whose signature did not verify). */
  remove(operatorId: bigint): void {
    const old = this.votes.get(operatorId);
    if (!old) return;
    this.votes.delete(operatorId);
    if (old.isApproved) this.approvePower -= old.power;
    else this.rejectPower -= old.power;
  }

  has(operatorId: bigint): boolean {
    return this.votes.has(operatorId);
  }

  get size(): number {
    return this.votes.size;
  }

  power(verdict: Verdict): bigint {
    return verdict === "approve" ? this.approvePower : this.rejectPower;
  }

  /** The verdict whose threshold is met (approval first), or undefined. */
  reached(): Verdict | undefined {
    if (meets(this.approvePower, this.required.approve)) return "approve";
    if (meets(this.rejectPower, this.required.reject)) return "reject";
    return undefined;
  }

  /** The votes for approval (true) or rejection (false). */
  votesOf(isApproved: boolean): Vote[] {
    return [...this.votes.values()].filter((v) => v.isApproved === isApproved);
  }

  /** The signers to submit for `verdict` (see selectSigners). */
  signers(verdict: Verdict): Vote[] | undefined {
    const isApproved = verdict === "approve";
    const list = [...this.votes.values()].filter((v) => v.isApproved === isApproved);
    return selectSigners(list, isApproved ? this.required.approve : this.required.reject, this.maxAttesters);
  }
}
