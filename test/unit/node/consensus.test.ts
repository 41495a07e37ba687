/**
 * Consensus without any process or chain: thresholds (docs/protocol.md#consensus), approve and
 * reject, duplicate and late votes, ineligible attesters, and voting power changes.
 */

import { describe, expect, it } from "vitest";
import {
  type Ballot,
  type ConsensusRules,
  connectedShortfall,
  consensusRules,
  type DefinitionParams,
  TaskConsensus,
  type Voter,
} from "../../../src/node/consensus.js";
import { requiredPower } from "../../../src/node/votes.js";

const SIG = ["0x01", "0x02"];
const approve: Ballot = { isApproved: true, signature: SIG };
const reject: Ballot = { isApproved: false, signature: SIG };
const voter = (id: number, power: bigint): Voter => ({ operatorId: BigInt(id), votingPower: power });

/** A definition with no restrictions: thresholds come from OBLS' total. */
const open: DefinitionParams = {
  minimumVotingPower: 0n,
  restrictedAttesterIds: [],
  maximumNumberOfAttesters: 0,
  totalVotingPower: 0n,
};

const consensusOver = (total: bigint, def: DefinitionParams = open): TaskConsensus =>
  new TaskConsensus(consensusRules(def, total));

const ids = (c: TaskConsensus): number[] => c.decision()!.signers.map((s) => Number(s.operatorId));

describe("thresholds", () => {
  it("approve needs total*2/3 and reject total/3, with integer division", () => {
    for (let total = 0n; total <= 100n; total++) {
      expect(requiredPower(total)).toEqual({ approve: (total * 2n) / 3n, reject: total / 3n });
    }
    expect(requiredPower(10n)).toEqual({ approve: 6n, reject: 3n });
    expect(requiredPower(5n)).toEqual({ approve: 3n, reject: 1n });
  });

  it("is decided exactly when the power reaches the threshold (>=), not before", () => {
    const c = consensusOver(10n);
    expect(c.vote(voter(1, 5n), approve).kind).toBe("counted");
    expect(c.decision()).toBeUndefined();
    c.vote(voter(2, 1n), approve);
    expect(c.decision()).toMatchObject({ verdict: "approve" });
  });

  it("never decides when the required power rounds down to 0", () => {
    const c = consensusOver(2n);
    expect(c.rules.required).toEqual({ approve: 1n, reject: 0n });
    c.vote(voter(1, 1n), reject);
    expect(c.decision()).toBeUndefined();
    const tiny = consensusOver(1n);
    tiny.vote(voter(1, 1n), approve);
    expect(tiny.decision()).toBeUndefined();
  });
});

describe("approve and reject", () => {
  it("approves with the approving signers in ascending operator id order", () => {
    const c = consensusOver(9n);
    c.vote(voter(7, 3n), approve);
    c.vote(voter(2, 3n), approve);
    c.vote(voter(5, 3n), reject);
    expect(c.decision()?.verdict).toBe("approve");
    expect(ids(c)).toEqual([2, 7]);
  });

  it("rejects at a third of the power, submitting only the rejecting signers", () => {
    const c = consensusOver(9n);
    c.vote(voter(4, 2n), approve);
    c.vote(voter(3, 3n), reject);
    expect(c.decision()?.verdict).toBe("reject");
    expect(ids(c)).toEqual([3]);
  });

  it("prefers approval when both thresholds are met", () => {
    const c = consensusOver(9n);
    c.vote(voter(1, 3n), reject);
    c.vote(voter(2, 6n), approve);
    expect(c.decision()?.verdict).toBe("approve");
  });
});

describe("duplicate, late and ineligible votes", () => {
  it("counts an attester once however often it votes", () => {
    const c = consensusOver(9n);
    expect(c.vote(voter(1, 3n), approve)).toEqual({ kind: "counted", verdict: "approve", replaced: false });
    expect(c.vote(voter(1, 3n), approve)).toEqual({ kind: "counted", verdict: "approve", replaced: true });
    expect(c.tally.power("approve")).toBe(3n);
    expect(c.decision()).toBeUndefined();
  });

  it("lets a later vote replace the attester's earlier one", () => {
    const c = consensusOver(9n);
    c.vote(voter(1, 3n), reject);
    expect(c.decision()?.verdict).toBe("reject");
    c.vote(voter(1, 3n), approve);
    expect(c.tally.power("reject")).toBe(0n);
    expect(c.tally.power("approve")).toBe(3n);
    expect(c.decision()).toBeUndefined();
  });

  it("takes no other vote after the decision", () => {
    const c = consensusOver(3n);
    c.vote(voter(1, 2n), approve);
    expect(c.decision()?.verdict).toBe("approve");
    c.verifying("approve");
    expect(c.vote(voter(2, 1n), reject)).toEqual({ kind: "late" });
    expect(c.vote(voter(1, 2n), approve)).toEqual({ kind: "late" });
    expect(c.vote(voter(2, 1n), { abstain: "busy" })).toEqual({ kind: "late" });
    expect(c.decision()).toBeUndefined();
    for (const phase of ["submitting", "done"] as const) {
      c.phase = phase;
      expect(c.vote(voter(3, 1n), approve)).toEqual({ kind: "late" });
    }
    expect(c.tally.size).toBe(1);
  });

  it("lets a first vote for the verdict under verification join its signers", () => {
    const c = consensusOver(9n);
    c.vote(voter(3, 3n), approve);
    c.vote(voter(1, 3n), approve);
    expect(ids(c)).toEqual([1, 3]);
    c.verifying("approve");
    expect(c.signersNow()!.map((s) => Number(s.operatorId))).toEqual([1, 3]);
    expect(c.vote(voter(2, 3n), approve)).toEqual({ kind: "counted", verdict: "approve", replaced: false });
    expect(c.signersNow()!.map((s) => Number(s.operatorId))).toEqual([1, 2, 3]);
    // not a second decision: the one under verification takes it in
    expect(c.decision()).toBeUndefined();
    expect(c.vote(voter(4, 0n), approve)).toEqual({ kind: "ineligible" });
  });

  it("lets no vote join a rejection it does not reject with, nor one beyond the maximum of signers", () => {
    const c = consensusOver(9n, { ...open, maximumNumberOfAttesters: 2 });
    c.vote(voter(1, 3n), reject);
    c.verifying("reject");
    expect(c.vote(voter(2, 3n), approve)).toEqual({ kind: "late" });
    expect(c.vote(voter(3, 4n), reject).kind).toBe("counted");
    // at most two signers: the strongest
    expect(c.signersNow()!.map((s) => Number(s.operatorId))).toEqual([1, 3]);
    expect(c.vote(voter(4, 5n), reject).kind).toBe("counted");
    expect(c.signersNow()!.map((s) => Number(s.operatorId))).toEqual([3, 4]);
  });

  it("collects again after forged votes are dropped", () => {
    const c = consensusOver(3n);
    c.vote(voter(1, 2n), approve);
    c.verifying("approve");
    c.reopen([1n]);
    expect(c.phase).toBe("collecting");
    expect(c.decision()).toBeUndefined();
    c.vote(voter(2, 2n), approve);
    expect(ids(c)).toEqual([2]);
  });

  it("ignores attesters outside a restricted set or under the minimum voting power", () => {
    const def: DefinitionParams = {
      minimumVotingPower: 2n,
      restrictedAttesterIds: [1n, 2n, 3n],
      maximumNumberOfAttesters: 0,
      totalVotingPower: 6n,
    };
    const c = consensusOver(100n, def);
    expect(c.vote(voter(9, 50n), approve)).toEqual({ kind: "ineligible" });
    expect(c.vote(voter(3, 1n), approve)).toEqual({ kind: "ineligible" });
    expect(c.tally.size).toBe(0);
    c.vote(voter(1, 2n), approve);
    c.vote(voter(2, 2n), approve);
    expect(ids(c)).toEqual([1, 2]);
  });

  it("records abstentions without counting them and refuses malformed ballots", () => {
    const c = consensusOver(9n);
    expect(c.vote(voter(1, 9n), { abstain: "x".repeat(500) })).toEqual({
      kind: "abstain",
      reason: "x".repeat(300),
    });
    expect(c.vote(voter(1, 9n), { isApproved: "yes", signature: SIG }).kind).toBe("malformed");
    expect(c.vote(voter(1, 9n), { isApproved: true, signature: ["0x01"] }).kind).toBe("malformed");
    expect(c.vote(voter(1, 9n), { isApproved: true, signature: ["0x01", `0x${"f".repeat(65)}`] }).kind).toBe(
      "malformed",
    );
    expect(c.vote(voter(1, 9n), { isApproved: true }).kind).toBe("malformed");
    expect(c.tally.size).toBe(0);
    expect(c.voters.size).toBe(0);
  });

  it("times out only while still collecting", () => {
    const c = consensusOver(9n);
    expect(c.expired(1_000, 999)).toBe(false);
    expect(c.expired(1_000, 1_000)).toBe(true);
    c.phase = "submitting";
    expect(c.expired(1_000, 5_000)).toBe(false);
  });
});

describe("voting power changes", () => {
  it("uses the per-definition total when the definition restricts attesters or sets a minimum", () => {
    const restricted = { ...open, restrictedAttesterIds: [4n], totalVotingPower: 30n };
    expect(consensusRules(restricted, 300n)).toMatchObject({
      total: 30n,
      required: { approve: 20n, reject: 10n },
    });
    const minimum = { ...open, minimumVotingPower: 1n, totalVotingPower: 12n };
    expect(consensusRules(minimum, 300n)).toMatchObject({
      total: 12n,
      required: { approve: 8n, reject: 4n },
    });
    expect(consensusRules({ ...open, totalVotingPower: 12n }, 300n)).toMatchObject({
      total: 300n,
      required: { approve: 200n, reject: 100n },
    });
  });

  it("follows the total it is given: more power raises the threshold", () => {
    const before = consensusOver(9n);
    const after = consensusOver(15n);
    for (const c of [before, after]) {
      c.vote(voter(1, 3n), approve);
      c.vote(voter(2, 3n), approve);
    }
    expect(before.decision()?.verdict).toBe("approve");
    expect(after.decision()).toBeUndefined();
    after.vote(voter(3, 4n), approve);
    expect(after.decision()?.verdict).toBe("approve");
  });

  it("leaves an attester whose voting power went to 0 out of the signers", () => {
    const c = consensusOver(20n);
    expect(c.vote(voter(1, 0n), approve)).toEqual({ kind: "ineligible" });
    c.vote(voter(2, 10n), approve);
    c.vote(voter(3, 10n), approve);
    expect(ids(c)).toEqual([2, 3]);
  });

  it("counts each vote with the voting power its attester has when it votes", () => {
    const c = consensusOver(30n);
    c.vote(voter(1, 5n), approve);
    c.vote(voter(1, 15n), approve);
    expect(c.tally.power("approve")).toBe(15n);
    expect(c.decision()).toBeUndefined();
    c.vote(voter(2, 5n), approve);
    expect(c.decision()?.verdict).toBe("approve");
  });

  it("submits at most the maximum number of attesters, the strongest that still meet the threshold", () => {
    const def = { ...open, maximumNumberOfAttesters: 2 };
    const rules: ConsensusRules = consensusRules(def, 12n);
    expect(rules.maxAttesters).toBe(2);
    const c = new TaskConsensus(rules);
    c.vote(voter(9, 1n), approve);
    c.vote(voter(3, 5n), approve);
    c.vote(voter(5, 2n), approve);
    expect(c.decision()).toBeUndefined();
    c.vote(voter(7, 3n), approve);
    expect(c.decision()?.verdict).toBe("approve");
    expect(ids(c)).toEqual([3, 7]);
    expect(consensusRules(open, 12n).maxAttesters).toBeUndefined();
  });

  it("does not decide when the maximum number of attesters cannot carry the threshold", () => {
    const c = new TaskConsensus(consensusRules({ ...open, maximumNumberOfAttesters: 2 }, 12n));
    for (const id of [1, 2, 3, 4, 5, 6]) c.vote(voter(id, 2n), approve);
    expect(c.tally.reached()).toBe("approve");
    expect(c.decision()).toBeUndefined();
  });
});

describe("reachability: a task ends as soon as no verdict can be reached", () => {
  const abstain = (reason: string): Ballot => ({ abstain: reason });
  const three = [voter(1, 1n), voter(2, 1n), voter(3, 1n)];

  it("every connected attester abstaining leaves no verdict, with who abstained and why", () => {
    const c = consensusOver(3n);
    c.vote(three[0]!, abstain("validation service answered HTTP 500"));
    c.vote(three[1]!, abstain("validation service answered HTTP 500"));
    expect(c.unreachable(three)).toBeUndefined();
    c.vote(three[2]!, abstain("validation service timed out"));
    const short = c.unreachable(three);
    expect(short).toMatchObject({ connectedPower: 3n, possible: { approve: 0n, reject: 0n } });
    expect(short!.abstained).toEqual([
      { operatorId: 1n, reason: "validation service answered HTTP 500" },
      { operatorId: 2n, reason: "validation service answered HTTP 500" },
      { operatorId: 3n, reason: "validation service timed out" },
    ]);
  });

  it("one approval and two abstentions of three: approval can reach 1 of 2, rejection nothing", () => {
    const c = consensusOver(3n);
    c.vote(three[0]!, approve);
    c.vote(three[1]!, abstain("down"));
    expect(c.unreachable(three)).toBeUndefined(); // the third could still approve
    c.vote(three[2]!, abstain("down"));
    expect(c.unreachable(three)?.possible).toEqual({ approve: 1n, reject: 0n });
  });

  it("with one of three connected, rejection stays possible until that attester approves", () => {
    const c = consensusOver(3n);
    const online = [three[0]!];
    expect(c.unreachable(online)).toBeUndefined();
    c.vote(three[0]!, approve);
    expect(c.unreachable(online)).toMatchObject({
      connectedPower: 1n,
      possible: { approve: 1n, reject: 0n },
    });
  });

  it("a vote counts after its attester disconnects; undecided power counts only while connected", () => {
    const c = consensusOver(3n);
    c.vote(three[0]!, approve);
    expect(c.unreachable([three[1]!])).toBeUndefined(); // 1 voted + 1 connected = 2 of 2
    expect(c.unreachable([])).toMatchObject({ possible: { approve: 1n, reject: 0n } });
  });

  it("a later vote takes an abstention back; a counted vote is not undone by abstaining", () => {
    const c = consensusOver(3n);
    c.vote(three[0]!, abstain("slow"));
    c.vote(three[0]!, approve);
    c.vote(three[1]!, approve);
    c.vote(three[1]!, abstain("changed its mind"));
    expect(c.shortfall(three).abstained).toEqual([]);
    expect(c.decision()?.verdict).toBe("approve");
  });

  it("only eligible attesters count, and no more than the definition's maximum of signers", () => {
    const restricted = new TaskConsensus(
      consensusRules({ ...open, restrictedAttesterIds: [1n], totalVotingPower: 3n }, 30n),
    );
    expect(restricted.unreachable(three)).toBeUndefined(); // attester 1 alone holds the definition's power
    restricted.vote(three[0]!, abstain("no"));
    expect(restricted.unreachable(three)).toMatchObject({ connectedPower: 1n });

    const capped = new TaskConsensus(consensusRules({ ...open, maximumNumberOfAttesters: 1 }, 9n));
    const strong = [voter(1, 3n), voter(2, 3n), voter(3, 3n)];
    // approval needs 6, but only one signer (3) may be submitted: only rejection (3) remains
    expect(capped.shortfall(strong).possible).toEqual({ approve: 3n, reject: 3n });
    expect(capped.unreachable(strong)).toBeUndefined();
    expect(connectedShortfall(capped.rules, strong)).toEqual({ connectedPower: 3n, requiredPower: 6n });
  });

  it("is judged only while collecting, and `changed` marks a task whose ballots moved", () => {
    const c = consensusOver(3n);
    expect(c.changed).toBe(false);
    c.vote(three[0]!, abstain("x"));
    expect(c.changed).toBe(true);
    c.unreachable(three);
    expect(c.changed).toBe(false);
    c.phase = "submitting";
    expect(c.unreachable([])).toBeUndefined();
  });
});

describe("connected voting power at intake", () => {
  it("refuses while the connected attesters cannot approve, with the power connected and needed", () => {
    const rules = consensusRules(open, 3n);
    expect(connectedShortfall(rules, [voter(1, 1n), voter(2, 1n)])).toBeUndefined();
    expect(connectedShortfall(rules, [voter(1, 1n)])).toEqual({ connectedPower: 1n, requiredPower: 2n });
    expect(connectedShortfall(rules, [])).toEqual({ connectedPower: 0n, requiredPower: 2n });
    // an attester with two sessions counts once
    expect(connectedShortfall(rules, [voter(1, 1n), voter(1, 1n)])).toMatchObject({ connectedPower: 1n });
  });
});
