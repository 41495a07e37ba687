/**
 * The aggregator's check between a decision and its submission, with real BLS keys and
 * signatures (mcl) and no process: a vote that comes while the decision waits for its check is
 * submitted with it, and a forged one that does cannot stop the task.
 */

import { beforeAll, describe, expect, it } from "vitest";
import { fastVoteHash } from "../../../src/chain/abi-fast.js";
import {
  aggregatePublicKeys,
  type BlsSecretKey,
  blsPublicKey,
  type G1,
  initBls,
  randomBlsSecret,
  signVote,
  verifyVote,
} from "../../../src/crypto/bls.js";
import type { AggregatorContext, ChainCtx, LiveTask } from "../../../src/node/aggregator/tasks.js";
import { Verification } from "../../../src/node/aggregator/verification.js";
import { consensusRules, TaskConsensus } from "../../../src/node/consensus.js";
import type { Verdict } from "../../../src/node/votes.js";

const AC = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const CHAIN_ID = 31338;

interface Submitted {
  verdict: Verdict;
  ids: number[];
  signature: G1;
}

let secrets: BlsSecretKey[];

beforeAll(async () => {
  await initBls();
  secrets = [randomBlsSecret(), randomBlsSecret(), randomBlsSecret()];
});

function setup() {
  const operators = secrets.map((sk, i) => ({
    operatorId: BigInt(i + 1),
    votingPower: 1n,
    blsKey: blsPublicKey(sk),
  }));
  const chain = {
    target: { attestationCenter: AC, chainId: CHAIN_ID },
    view: { keysVersion: 1, operatorById: (id: bigint) => operators.find((o) => o.operatorId === id) },
    aggKeys: new Map(),
  } as unknown as ChainCtx;
  const warnings: string[] = [];
  const ctx = {
    log: { warn: (msg: string) => warnings.push(msg), error: (msg: string) => warnings.push(msg) },
    metrics: { badVotes: { inc: () => undefined } },
    tasks: { journal: { batch: (fn: () => void) => fn() } },
    state: { stopping: false },
  } as unknown as AggregatorContext;
  const submitted: Submitted[] = [];
  const verification = new Verification(ctx, (_task, verdict, signers, signature) =>
    submitted.push({ verdict, ids: signers.map((s) => Number(s.operatorId)), signature }),
  );
  const msg = {
    chainId: CHAIN_ID,
    attestationCenter: AC,
    taskHash: `0x${"11".repeat(32)}`,
    proofOfTask: "QmProof",
    data: "0xabcd",
    performer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    taskDefinitionId: 1,
    deadline: Date.now() + 30_000,
  };
  const task = {
    chain,
    msg,
    consensus: new TaskConsensus(
      consensusRules(
        {
          minimumVotingPower: 0n,
          restrictedAttesterIds: [],
          maximumNumberOfAttesters: 0,
          totalVotingPower: 0n,
        },
        3n,
      ),
    ),
    voteHashes: {},
    votePoints: {},
  } as unknown as LiveTask;
  const voteHash = fastVoteHash(msg, AC, CHAIN_ID, true);
  const vote = (i: number, signature: G1 = signVote(secrets[i]!, voteHash)) =>
    task.consensus.vote(operators[i]!, {
      isApproved: true,
      signature: [`0x${signature[0].toString(16)}`, `0x${signature[1].toString(16)}`],
    });
  const settled = () => new Promise((resolve) => setImmediate(resolve));
  const keyOf = (ids: number[]) => aggregatePublicKeys(ids.map((id) => operators[id - 1]!.blsKey));
  return { verification, task, vote, settled, submitted, warnings, voteHash, keyOf };
}

describe("verification of a decided task", () => {
  it("submits a vote that came while the decision waited for its check", async () => {
    const { verification, task, vote, settled, submitted, voteHash, keyOf } = setup();
    vote(0);
    vote(2);
    verification.tryConclude(task);
    expect(task.consensus.phase).toBe("verifying");
    // before the check runs (the next turn, or the end of a batch window under load)
    expect(vote(1).kind).toBe("counted");
    await settled();
    expect(submitted).toHaveLength(1);
    expect(submitted[0]!.ids).toEqual([1, 2, 3]);
    expect(verifyVote(submitted[0]!.signature, keyOf([1, 2, 3]), voteHash)).toBe(true);
  });

  it("submits the signers of the decision when nothing joined", async () => {
    const { verification, task, vote, settled, submitted, voteHash, keyOf } = setup();
    vote(1);
    vote(0);
    verification.tryConclude(task);
    await settled();
    expect(submitted.map((s) => s.ids)).toEqual([[1, 2]]);
    expect(verifyVote(submitted[0]!.signature, keyOf([1, 2]), voteHash)).toBe(true);
    // once submitting, a vote is late
    task.consensus.phase = "submitting";
    expect(vote(2).kind).toBe("late");
  });

  it("drops a forged vote that joined and still submits the decision", async () => {
    const { verification, task, vote, settled, submitted, warnings, voteHash, keyOf } = setup();
    vote(0);
    vote(1);
    verification.tryConclude(task);
    // attester 3's vote signed by attester 1's key
    expect(vote(2, signVote(secrets[0]!, voteHash)).kind).toBe("counted");
    await settled();
    await settled();
    expect(warnings).toContain("vote signature does not verify; dropped");
    expect(submitted.map((s) => s.ids)).toEqual([[1, 2]]);
    expect(verifyVote(submitted[0]!.signature, keyOf([1, 2]), voteHash)).toBe(true);
  });
});
