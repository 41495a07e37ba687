/**
 * Verification of many aggregated votes with one multi-pairing. Each item i claims
 * e(sig_i, -g2) * e(H(m_i), pk_i) == 1. With random 64-bit weights r_i the whole batch holds
 * (except with probability 2^-64 for a forgery) iff
 *   e(sum r_i*sig_i, -g2) * prod_k e(sum_{i in k} r_i*H(m_i), pk_k) == 1,
 * where k runs over the distinct aggregate keys (usually one: the same attesters sign every
 * task). A batch therefore costs one pairing plus one Miller loop per extra key, instead of a
 * pairing per task. When it fails the caller checks items one by one.
 */

import crypto from "node:crypto";
import type * as Mcl from "mcl-wasm";
import { DOMAIN_TASKS, type G1, type G2, hashToPoint } from "../crypto/bls.js";
import { g1ToMcl, g2Lines, mcl, negG2Lines } from "../crypto/mcl.js";

export interface BatchItem {
  /** The aggregated signature. */
  signature: G1;
  /** The aggregated public key of its signers. */
  publicKey: G2;
  /** The 32-byte vote hash (0x-hex) they signed, under the TasksManager domain. */
  voteHash: string;
  /** hashToPoint(TasksManager, voteHash) when the caller has it already (it must be that point). */
  messagePoint?: G1;
}

function randomScalar(m: typeof Mcl): Mcl.Fr {
  const fr = new m.Fr();
  // Non-zero 64-bit weights: enough against an adversary who cannot see them in advance.
  let v = 0n;
  while (v === 0n) v = crypto.randomBytes(8).readBigUInt64BE();
  fr.setStr(v.toString(16), 16);
  return fr;
}

/** Whether every item verifies (one multi-pairing). Malformed points make it false. */
export function verifyBatch(items: readonly BatchItem[]): boolean {
  if (items.length === 0) return true;
  const m = mcl();
  try {
    const sigs: Mcl.G1[] = [];
    const weights: Mcl.Fr[] = [];
    const groups = new Map<string, { key: G2; points: Mcl.G1[]; weights: Mcl.Fr[] }>();
    for (const item of items) {
      const sig = g1ToMcl(item.signature, "signature");
      if (sig.isZero() || item.publicKey.every((c) => c === 0n)) return false;
      const w = randomScalar(m);
      sigs.push(sig);
      weights.push(w);
      const id = item.publicKey.join(",");
      let group = groups.get(id);
      if (!group) {
        group = { key: item.publicKey, points: [], weights: [] };
        groups.set(id, group);
      }
      group.points.push(
        g1ToMcl(item.messagePoint ?? hashToPoint(DOMAIN_TASKS, item.voteHash), "message point"),
      );
      group.weights.push(w);
    }
    const s = m.mulVec(sigs, weights);
    let acc = m.precomputedMillerLoop(s, negG2Lines());
    for (const group of groups.values()) {
      const h = m.mulVec(group.points, group.weights);
      acc = m.mul(acc, m.precomputedMillerLoop(h, g2Lines(group.key, "publicKey")));
    }
    return m.finalExp(acc).isOne();
  } catch {
    return false;
  }
}
