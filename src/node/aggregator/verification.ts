/**
 * Between a decision and its submission: the signers' BLS signatures are summed and checked
 * against their summed keys. Tasks decided close together wait for one batched pairing check
 * (see batch-verify.ts): under load many tasks share a pairing, at light load the batch is a
 * single task. When a batch fails, each task is checked alone, then each vote, and forged
 * votes are dropped before the task collects again.
 */

import { fastVoteHash } from "../../chain/abi-fast.js";
import {
  aggregatePublicKeys,
  aggregateSignatures,
  DOMAIN_TASKS,
  type G1,
  type G2,
  hashToPoint,
  hashToPointWitnessed,
  verifyVote,
} from "../../crypto/bls.js";
import { verifyBatch } from "../batch-verify.js";
import type { Verdict, Vote } from "../votes.js";
import type { AggregatorContext, ChainCtx, LiveTask, VotePoint } from "./tasks.js";

/**
 * Above this many decisions a second, verification waits BATCH_WINDOW_MS to batch pairings;
 * below it a task is verified at once (with whatever else is queued), as latency matters more
 * than CPU there.
 */
const BATCH_RATE_THRESHOLD = 50;
// A batch costs about 4 ms of pairing in mcl-wasm whatever its size, and each task in it a
// tenth of that: at 100 tasks/s a 150 ms window shares one pairing between ~15 tasks, not ~2.
// Its submitTask transactions then also land in fewer blocks, and each block costs anvil a
// state root over all its storage.
const BATCH_WINDOW_MS = 150;
/** A batch this large is verified at once, without waiting out the window. */
const BATCH_MAX = 32;
/** Aggregated keys kept per chain before the cache starts over. */
const MAX_CACHED_KEYS = 256;

interface PendingCheck {
  task: LiveTask;
  verdict: Verdict;
  signers: Vote[];
  signature: G1;
  publicKey: G2;
  voteHash: string;
  messagePoint: G1;
}

export type SubmitVerified = (task: LiveTask, verdict: Verdict, signers: Vote[], signature: G1) => void;

export class Verification {
  private checks: PendingCheck[] = [];
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly recentDecisions: number[] = [];

  constructor(
    private readonly ctx: AggregatorContext,
    private readonly submit: SubmitVerified,
  ) {}

  /** Queues a task for verification as soon as its votes decide a verdict. */
  tryConclude(task: LiveTask): void {
    const decision = task.consensus.decision();
    if (!decision) return;
    const { verdict, signers } = decision;
    const publicKey = aggregateKey(task.chain, signers);
    if (!publicKey) return;
    task.consensus.verifying(verdict);
    this.checks.push({
      task,
      verdict,
      signers,
      signature: aggregateSignatures(signers.map((s) => s.signature)),
      publicKey,
      voteHash: voteHashOf(task, verdict),
      messagePoint: votePointOf(task, verdict).point,
    });
    const now = performance.now();
    const recent = this.recentDecisions;
    recent.push(now);
    while (recent.length > 0 && now - recent[0]! > 1_000) recent.shift();
    if (this.scheduled) {
      if (this.timer && this.checks.length >= BATCH_MAX) {
        clearTimeout(this.timer);
        this.timer = undefined;
        setImmediate(() => this.run());
      }
      return;
    }
    this.scheduled = true;
    // Under load, wait a moment so that several tasks share one pairing; at light load verify now.
    if (recent.length >= BATCH_RATE_THRESHOLD) this.timer = setTimeout(() => this.run(), BATCH_WINDOW_MS);
    else setImmediate(() => this.run());
  }

  private run(): void {
    this.scheduled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.checks.filter((c) => c.task.consensus.phase === "verifying");
    this.checks = [];
    if (batch.length === 0 || this.ctx.state.stopping) return;
    for (const c of batch) widen(c);
    if (verifyBatch(batch)) {
      // One journal commit for the batch's submissions, before any of them is broadcast.
      this.ctx.tasks.journal.batch(() => {
        for (const c of batch) this.submit(c.task, c.verdict, c.signers, c.signature);
      });
      return;
    }
    for (const c of batch) {
      if (batch.length > 1 && verifyBatch([c])) {
        this.submit(c.task, c.verdict, c.signers, c.signature);
        continue;
      }
      this.dropForgedVotes(c);
    }
  }

  /** Some vote is bad: finds it with one check per vote, drops it, and looks again. */
  private dropForgedVotes(c: PendingCheck): void {
    const { log, metrics } = this.ctx;
    const bad: bigint[] = [];
    for (const s of c.signers) {
      const op = c.task.chain.view.operatorById(s.operatorId);
      if (!op || !verifyVote(s.signature, op.blsKey, c.voteHash)) {
        bad.push(s.operatorId);
        metrics.badVotes.inc({ attester: String(s.operatorId) });
        log.warn("vote signature does not verify; dropped", {
          taskHash: c.task.msg.taskHash,
          attester: s.operatorId,
        });
      }
    }
    c.task.consensus.reopen(bad);
    if (bad.length > 0) this.tryConclude(c.task);
    else log.error("aggregate does not verify although every vote does", { taskHash: c.task.msg.taskHash });
  }
}

/** Takes in the votes that joined a check while it waited for its batch. */
function widen(c: PendingCheck): void {
  const now = c.task.consensus.signersNow();
  if (!now || sameIds(now, c.signers)) return;
  const publicKey = aggregateKey(c.task.chain, now);
  if (!publicKey) return;
  c.signers = now;
  c.publicKey = publicKey;
  c.signature = aggregateSignatures(now.map((s) => s.signature));
}

function sameIds(a: Vote[], b: Vote[]): boolean {
  return a.length === b.length && a.every((v, i) => v.operatorId === b[i]!.operatorId);
}

function voteHashOf(task: LiveTask, verdict: Verdict): string {
  let h = task.voteHashes[verdict];
  if (!h) {
    h = fastVoteHash(
      task.msg,
      task.chain.target.attestationCenter,
      task.chain.target.chainId,
      verdict === "approve",
    );
    task.voteHashes[verdict] = h;
  }
  return h;
}

/**
 * The vote hash's message point and its witness, computed once per task and verdict from the
 * same square roots: the witness goes to the attesters (approve) and into the submission's
 * hints, and the point is what verification pairs with.
 */
export function votePointOf(task: LiveTask, verdict: Verdict): VotePoint {
  let vp = task.votePoints[verdict];
  if (!vp) {
    const hash = voteHashOf(task, verdict);
    const witnessed = hashToPointWitnessed(DOMAIN_TASKS, hash);
    vp = witnessed ?? { point: hashToPoint(DOMAIN_TASKS, hash), witness: null };
    task.votePoints[verdict] = vp;
  }
  return vp;
}

/** The signers' G2 key sum (cached per key set); undefined while a signer's key is unknown. */
export function aggregateKey(chain: ChainCtx, signers: Vote[]): G2 | undefined {
  const id = `${chain.view.keysVersion}:${signers.map((s) => s.operatorId.toString()).join(",")}`;
  let key = chain.aggKeys.get(id);
  if (!key) {
    const keys = signers.map((s) => chain.view.operatorById(s.operatorId)?.blsKey);
    if (keys.some((k) => k === undefined)) return undefined;
    key = aggregatePublicKeys(keys as G2[]);
    if (chain.aggKeys.size > MAX_CACHED_KEYS) chain.aggKeys.clear();
    chain.aggKeys.set(id, key);
  }
  return key;
}
