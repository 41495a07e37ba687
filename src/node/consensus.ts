/**
 * Consensus for one task, without I/O: who may vote for a task definition and how much voting
 * power each verdict needs (docs/protocol.md#consensus), what one attester answer does to the
 * tally (counted, replaced, late, ineligible, malformed), when a verdict is decided, and when
 * none can be any more (abstentions, votes and the connected attesters' power). The aggregator
 * feeds it votes and acts on what it returns; BLS checks and submission are not here.
 */

import type { G1 } from "../crypto/hash-to-point.js";
import { meets, requiredPower, type Verdict, type Vote, VoteTally } from "./votes.js";

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

/** An attester that abstained on a task, and the reason it gave. */
export interface Abstention {
  operatorId: bigint;
  reason: string;
}

/** Why no verdict can be reached any more (or could not be, at a deadline). */
export interface Shortfall {
  /** Eligible voting power of the attesters connected now. */
  connectedPower: bigint;
  /** The most power each verdict could still gather: its votes plus the undecided connected. */
  possible: { approve: bigint; reject: bigint };
  abstained: Abstention[];
}

/**
 * Sum of the strongest `max` powers (all of them without a maximum): the most a verdict can
 * put on-chain, since only that many signers are submitted.
 */
function strongest(powers: bigint[], max: number | undefined): bigint {
  const chosen =
    max !== undefined && max > 0 && powers.length > max
      ? [...powers].sort((a, b) => (b > a ? 1 : b < a ? -1 : 0)).slice(0, max)
      : powers;
  return chosen.reduce((sum, p) => sum + p, 0n);
}

/** Eligible voters, once each (an attester may hold more than one session). */
function eligibleOnce(rules: ConsensusRules, voters: Iterable<Voter>): Map<bigint, Voter> {
  const out = new Map<bigint, Voter>();
  for (const v of voters) if (rules.eligible(v)) out.set(v.operatorId, v);
  return out;
}

/**
 * Whether the connected attesters could approve a new task at all: undefined when they could,
 * else their eligible power. The approval threshold is the one asked: a network that can only
 * reject cannot do what a performer sends a task for, and says so before taking the task.
 */
export function connectedShortfall(
  rules: ConsensusRules,
  connected: Iterable<Voter>,
): { connectedPower: bigint; requiredPower: bigint } | undefined {
  const voters = [...eligibleOnce(rules, connected).values()];
  const power = strongest(
    voters.map((v) => v.votingPower),
    rules.maxAttesters,
  );
  if (meets(power, rules.required.approve)) return undefined;
  // The power that could sign: with a maximum of signers, only the strongest count.
  return { connectedPower: power, requiredPower: rules.required.approve };
}

/** The votes of one task and where it stands. */
export class TaskConsensus {
  phase: Phase = "collecting";
  /** The verdict being verified while the phase is "verifying". */
  private checking: Verdict | undefined;
  readonly tally: VoteTally;
  /** Operator ids that voted, for the timeout report. */
  readonly voters = new Set<string>();
  /** Attesters that abstained (and did not vote since), by operator id. */
  readonly abstentions = new Map<bigint, string>();
  /** Set by every ballot that changed the task: its reachability is worth checking again. */
  changed = false;

  constructor(readonly rules: ConsensusRules) {
    this.tally = new VoteTally(rules.required, rules.maxAttesters);
  }

  /**
   * Applies one attester answer. While the decision is verified, a first vote for its verdict
   * still joins it (see verifying); anything else that comes then is late.
   */
  vote(voter: Voter, ballot: Ballot): BallotOutcome {
    if (this.phase === "verifying") {
      const joins =
        this.checking !== undefined &&
        ballot.isApproved === (this.checking === "approve") &&
        typeof ballot.abstain !== "string" &&
        !this.tally.has(voter.operatorId);
      if (!joins) return { kind: "late" };
    } else if (this.phase !== "collecting") return { kind: "late" };
    if (typeof ballot.abstain === "string") {
      const reason = ballot.abstain.slice(0, 300);
      // A counted vote stands: abstaining afterwards does not take it back.
      if (this.rules.eligible(voter) && !this.tally.has(voter.operatorId)) {
        this.abstentions.set(voter.operatorId, reason);
        this.changed = true;
      }
      return { kind: "abstain", reason };
    }
    if (!this.rules.eligible(voter)) return { kind: "ineligible" };
    const sig = ballot.signature as { 0?: unknown; 1?: unknown } | null | undefined;
    const x = parseWord(sig?.[0]);
    const y = parseWord(sig?.[1]);
    if (x === undefined || y === undefined || typeof ballot.isApproved !== "boolean") {
      return { kind: "malformed" };
    }
    const replaced = this.tally.has(voter.operatorId);
    this.voters.add(String(voter.operatorId));
    this.abstentions.delete(voter.operatorId);
    this.changed = true;
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

  /**
   * Moves a decided task to verification. Until it is submitted, a vote for the same verdict
   * from an attester that had not voted is still counted: the signers are chosen again just
   * before the check (signersNow), so under load, where verification waits for a batch, the
   * vote that came after the threshold is submitted too. On-chain that is cheaper (every
   * voter signing needs no non-signer's key) and, with fees, it pays the attester that did the work.
   */
  verifying(verdict: Verdict): void {
    this.phase = "verifying";
    this.checking = verdict;
  }

  /** The signers for the verdict under verification, with the votes that joined it. */
  signersNow(): Vote[] | undefined {
    return this.checking === undefined ? undefined : this.tally.signers(this.checking);
  }

  /** Drops votes whose signatures did not verify and takes votes again. */
  reopen(bad: bigint[]): void {
    for (const id of bad) this.tally.remove(id);
    this.phase = "collecting";
    this.checking = undefined;
    this.changed = true;
  }

  /**
   * Where the task falls short, given the attesters connected now: each verdict's power so far
   * plus that of every eligible connected attester that has neither voted nor abstained. A
   * disconnected attester's vote still counts; its undecided power does not (it would have to
   * reconnect, and the task is replayed to it then).
   */
  shortfall(connected: Iterable<Voter>): Shortfall {
    const online = eligibleOnce(this.rules, connected);
    const undecided: bigint[] = [];
    for (const v of online.values()) {
      if (!this.tally.has(v.operatorId) && !this.abstentions.has(v.operatorId)) undecided.push(v.votingPower);
    }
    const votes = (isApproved: boolean): bigint[] => this.tally.votesOf(isApproved).map((v) => v.power);
    return {
      connectedPower: [...online.values()].reduce((sum, v) => sum + v.votingPower, 0n),
      possible: {
        approve: strongest([...votes(true), ...undecided], this.rules.maxAttesters),
        reject: strongest([...votes(false), ...undecided], this.rules.maxAttesters),
      },
      abstained: [...this.abstentions].map(([operatorId, reason]) => ({ operatorId, reason })),
    };
  }

  /**
   * Why neither verdict can be reached any more, or undefined while one still can (or the task
   * is no longer collecting). Clears `changed`.
   */
  unreachable(connected: Iterable<Voter>): Shortfall | undefined {
    this.changed = false;
    if (this.phase !== "collecting") return undefined;
    const s = this.shortfall(connected);
    const { required } = this.rules;
    if (meets(s.possible.approve, required.approve) || meets(s.possible.reject, required.reject))
      return undefined;
    return s;
  }

  /** Whether the task ran out of time without a decision. */
  expired(deadline: number, now: number): boolean {
    return this.phase === "collecting" && deadline <= now;
  }
}
