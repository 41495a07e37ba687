/**
 * Consensus for one task, without I/O: who may vote for a task definition and how much voting
 * power each verdict needs (docs/protocol.md#consensus), what one attester answer does to the
 * tally (counted, replaced, late, ineligible, malformed), and when a verdict is decided. The
 * aggregator feeds it votes and acts on what it returns; BLS checks and submission are not here.
 */

import type { G1 } from "../crypto/hash-to-point.js";
import { requiredPower, type Verdict, type Vote, VoteTally } from "./votes.js";

/** What consensus needs to know of an attester (a subset of the chain view's operator). */
export interface Voter {
  operatorId: bigint;
  votingPower: bigint;
}

/** The consensus parameters of a task definition (as read from the AttestationCenter / OBLS). */
export interface DefinitionParams {
  minimumVotingPower: bigint;
  restrictedAttesterIds: bigint[];
  maximumNumberOfAttesters: number;
  /** OBLS' total for the definition (totalVotingPowerPerTaskDefinition). */
  totalVotingPower: bigint;
}

export interface ConsensusRules {
  /** The voting power the thresholds are computed from. */
  total: bigint;
  required: { approve: bigint; reject: bigint };
  /** Signers submitted at most (undefined: no maximum). */
  maxAttesters: number | undefined;
  eligible(voter: Voter): boolean;
}

/**
 * Who may sign for a definition and how much power each verdict needs: the per-definition total
 * when the definition restricts attesters or sets a minimum, else OBLS' total (`total`).
 */
export function consensusRules(def: DefinitionParams, total: bigint): ConsensusRules {
  const restricted = new Set(def.restrictedAttesterIds);
  const perDefinition = restricted.size > 0 || def.minimumVotingPower > 0n;
  const base = perDefinition ? def.totalVotingPower : total;
  return {
    total: base,
    required: requiredPower(base),
    maxAttesters: def.maximumNumberOfAttesters || undefined,
    // A voter without voting power adds nothing to a threshold: its signature is not submitted.
    eligible: (voter) =>
      voter.votingPower > 0n &&
      voter.votingPower >= def.minimumVotingPower &&
      (restricted.size === 0 || restricted.has(voter.operatorId)),
  };
}

/** One attester answer as it arrives (untrusted: every field is checked). */
export interface Ballot {
  isApproved?: unknown;
  signature?: unknown;
  abstain?: unknown;
}

/** What one ballot did. */
export type BallotOutcome =
  /** The task is no longer collecting votes (decided, submitted or over). */
  | { kind: "late" }
  | { kind: "abstain"; reason: string }
  | { kind: "ineligible" }
  | { kind: "malformed" }
  /** Counted; `replaced` when it took the place of the same attester's earlier vote. */
  | { kind: "counted"; verdict: Verdict; replaced: boolean };

/** Where a task stands: votes are taken only while collecting. */
export type Phase = "collecting" | "verifying" | "submitting" | "done";

export interface Decision {
  verdict: Verdict;
  /** The votes to submit, in strictly ascending operator id order. */
  signers: Vote[];
}

const WORD = /^0x[0-9a-fA-F]{1,64}$/;
const parseWord = (value: unknown): bigint | undefined =>
  typeof value === "string" && WORD.test(value) ? BigInt(value) : undefined;

/** The votes of one task and where it stands. */
export class TaskConsensus {
  phase: Phase = "collecting";
  readonly tally: VoteTally;
  /** Operator ids that voted, for the timeout report. */
  readonly voters = new Set<string>();

  constructor(readonly rules: ConsensusRules) {
    this.tally = new VoteTally(rules.required, rules.maxAttesters);
  }

  /** Applies one attester answer. */
  vote(voter: Voter, ballot: Ballot): BallotOutcome {
    if (this.phase !== "collecting") return { kind: "late" };
    if (typeof ballot.abstain === "string") return { kind: "abstain", reason: ballot.abstain.slice(0, 300) };
    if (!this.rules.eligible(voter)) return { kind: "ineligible" };
    const sig = ballot.signature as { 0?: unknown; 1?: unknown } | null | undefined;
    const x = parseWord(sig?.[0]);
    const y = parseWord(sig?.[1]);
    if (x === undefined || y === undefined || typeof ballot.isApproved !== "boolean") {
      return { kind: "malformed" };
    }
    const replaced = this.tally.has(voter.operatorId);
    this.voters.add(String(voter.operatorId));
    this.tally.add({
      operatorId: voter.operatorId,
      power: voter.votingPower,
      isApproved: ballot.isApproved,
      signature: [x, y] as G1,
    });
    return { kind: "counted", verdict: ballot.isApproved ? "approve" : "reject", replaced };
  }

  /** The verdict decided by the votes so far and its signers, while still collecting. */
  decision(): Decision | undefined {
    if (this.phase !== "collecting") return undefined;
    const verdict = this.tally.reached();
    if (!verdict) return undefined;
    const signers = this.tally.signers(verdict);
    return signers ? { verdict, signers } : undefined;
  }

  /** Drops votes whose signatures did not verify and takes votes again. */
  reopen(bad: bigint[]): void {
    for (const id of bad) this.tally.remove(id);
    this.phase = "collecting";
  }

  /** Whether the task ran out of time without a decision. */
  expired(deadline: number, now: number): boolean {
    return this.phase === "collecting" && deadline <= now;
  }
}
