/**
 * The G1 way of checking a vote (docs/protocol.md, "Contracts"): operators' G1 keys beside
 * their G2 keys, the signers' G2 sum appended to submitTask, and one pairing over a random
 * linear combination. Everything the G2 way refuses is refused here too, whatever G2 sum the
 * submitter appends; a wrong sum only sends the check the G2 way.
 */

import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskInfo } from "../../../src/chain/contracts.js";
import {
  aggregatePublicKeys,
  aggregateSignatures,
  type BlsSecretKey,
  blsPublicKey,
  blsPublicKeyG1,
  DOMAIN_TASKS,
  type G1,
  G1_GENERATOR,
  type G2,
  g1Add,
  g1Mul,
  hashToPointWitness,
  randomBlsSecret,
  signRegistration,
  signTaskBls,
  signVote,
  withSubmitHints,
} from "../../../src/crypto/bls.js";
import { useAnvil } from "../../helpers/anvil.js";
import {
  createDefinition,
  ETH,
  expectRevert,
  hashOf,
  type Network2,
  newTask,
  type Operator,
  OUTSIDER_KEY,
  type SubmitCall,
  sendAsAggregator,
  setupNetwork,
  submitCalldata,
  voteOf,
} from "./fixture.js";

const chain = useAnvil({ chainId: 31337 });

interface RawSubmit extends SubmitCall {
  /** Appended after the arguments; default: the signers' G2 sum. null: nothing appended. */
  apk?: G2 | null;
  /** Witnesses for hashing the vote and the task to the curve (default: none). */
  votePoint?: bigint[] | null;
  taskPoint?: bigint[] | null;
}

function calldataOf(net: Network2, task: TaskInfo, o: RawSubmit): string {
  const { data } = submitCalldata(net, task, o);
  const apk = o.apk === undefined ? aggregatePublicKeys(o.signers.map((s) => s.publicKey)) : o.apk;
  return withSubmitHints(data, { apkG2: apk, votePoint: o.votePoint, taskPoint: o.taskPoint });
}

/** Sends as the aggregator; the receipt. */
function submitRaw(net: Network2, task: TaskInfo, o: RawSubmit) {
  return sendAsAggregator(net, calldataOf(net, task, o));
}

/**
 * Whether the transaction called the ecMul precompile: only the G1 way does. OBLS takes it when
 * it is the cheaper (docs/protocol.md): here with 4 of 6 signing, not with 2 signers.
 */
async function wentViaG1(net: Network2, txHash: string): Promise<boolean> {
  return calledPrecompile(net, txHash, 7);
}

async function calledPrecompile(net: Network2, txHash: string, precompile: number): Promise<boolean> {
  interface Frame {
    to?: string;
    calls?: Frame[];
  }
  const root = await net.provider.send("debug_traceTransaction", [txHash, { tracer: "callTracer" }]);
  const address = `0x${precompile.toString(16).padStart(40, "0")}`;
  const walk = (f: Frame): boolean => f.to?.toLowerCase() === address || (f.calls ?? []).some(walk);
  return walk(root as Frame);
}

async function registerG1(net: Network2, op: { address: string; secret: BlsSecretKey }) {
  return (await (await net.ac.registerBlsKeyG1(op.address, blsPublicKeyG1(op.secret))).wait())!;
}

const sumG1 = (ops: Operator[]): G1 => ops.map((o) => blsPublicKeyG1(o.secret)).reduce((a, b) => g1Add(a, b));
const words = (p: readonly bigint[]) => p.map((w) => BigInt(w));
const BN254_P = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47n;

describe("G1 keys beside the G2 keys", () => {
  let net: Network2;
  let def: number;
  let a: Operator;
  let b: Operator;
  let c: Operator;
  let e: Operator;
  let all: Operator[];
  /** 4 of the 6: just enough to approve. */
  let quorum: Operator[];
  beforeAll(async () => {
    net = await setupNetwork(chain(), [ETH, ETH, ETH, ETH, ETH, ETH]);
    all = net.attesters;
    quorum = all.slice(0, 4);
    [a, b, c] = all as [Operator, Operator, Operator];
    e = all[4]!;
    def = await createDefinition(net);
  });
  afterAll(() => net?.provider.destroy());

  it("registers each voter's G1 twin, from any sender, and keeps the voters' G1 sum", async () => {
    expect(await net.obls.numOfVotersWithoutG1Key()).toBe(6n);
    const receipt = await registerG1(net, a);
    const event = receipt.logs
      .map((l) => net.ac.interface.parseLog(l))
      .find((e) => e?.name === "OperatorBlsKeyG1Registered");
    expect(event?.args.operator).toBe(a.address);
    // the same key twice changes nothing
    await registerG1(net, a);
    for (const o of all.slice(1)) await registerG1(net, o);
    expect(await net.obls.numOfVotersWithoutG1Key()).toBe(0n);
    expect(words(await net.obls.getOperatorBlsKeyG1(a.id))).toEqual(blsPublicKeyG1(a.secret));
    expect(words(await net.obls.votersPublicKeyG1())).toEqual(sumG1(all));
  });

  it("refuses a G1 key that is not the twin of the registered G2 key: InvalidBlsKeyG1", async () => {
    const p = net.performer;
    await expectRevert(
      net.ac.registerBlsKeyG1.staticCall(p.address, blsPublicKeyG1(a.secret)),
      "InvalidBlsKeyG1",
    );
    await expectRevert(
      net.ac.registerBlsKeyG1.staticCall(p.address, g1Mul(G1_GENERATOR, randomBlsSecret())),
      "InvalidBlsKeyG1",
    );
    await expectRevert(net.ac.registerBlsKeyG1.staticCall(p.address, [0n, 0n]), "InvalidBlsKeyG1");
    await expectRevert(net.ac.registerBlsKeyG1.staticCall(p.address, [1n, 3n]), "InvalidBlsKeyG1");
    // -key: the right x, the wrong y
    const [x, y] = blsPublicKeyG1(p.secret);
    await expectRevert(net.ac.registerBlsKeyG1.staticCall(p.address, [x, BN254_P - y]), "InvalidBlsKeyG1");
    await expectRevert(
      net.ac.registerBlsKeyG1.staticCall(Wallet.createRandom().address, blsPublicKeyG1(a.secret)),
      "OperatorNotRegistered",
    );
    await registerG1(net, p);
    await registerG1(net, net.aggregator);
  });

  it("checks a quorum with the signers' G2 sum appended in G1, and without it in G2", async () => {
    const viaG1 = await submitRaw(net, newTask(net, def), { signers: quorum });
    expect(viaG1.status).toBe(1);
    expect(await wentViaG1(net, viaG1.hash)).toBe(true);
    const plain = await submitRaw(net, newTask(net, def), { signers: all.slice(1, 5), apk: null });
    expect(plain.status).toBe(1);
    expect(await wentViaG1(net, plain.hash)).toBe(false);
    // everyone signed: the stored G2 sum is exact, the appended one is not needed
    const everyone = await submitRaw(net, newTask(net, def), { signers: all });
    expect(everyone.status).toBe(1);
    expect(await wentViaG1(net, everyone.hash)).toBe(false);
    // two signers rejecting: adding their G2 keys is cheaper, the sum sent saves the inversion
    const rejected = await submitRaw(net, newTask(net, def), { signers: [a, b], isApproved: false });
    expect(rejected.status).toBe(1);
    expect(await wentViaG1(net, rejected.hash)).toBe(false);
    expect(rejected.logs.some((l) => net.ac.interface.parseLog(l)?.name === "TaskRejected")).toBe(true);
  });

  it("refuses a claimed signer that did not sign, whatever G2 sum comes with it", async () => {
    const task = newTask(net, def);
    // a, b and c signed; d is claimed too; the sum sent matches what was really signed, or the claim
    const three = quorum.slice(0, 3);
    const signed = aggregateSignatures(three.map((o) => signVote(o.secret, voteOf(net, task, true))));
    for (const apk of [
      aggregatePublicKeys(three.map((o) => o.publicKey)),
      aggregatePublicKeys(quorum.map((o) => o.publicKey)),
      null,
    ]) {
      await expectRevert(
        submitRaw(net, task, { signers: quorum, taSignature: signed, apk }),
        "InvalidOBLSSignature",
      );
    }
  });

  it("refuses a forged aggregate even with a G2 sum that verifies it", async () => {
    const task = newTask(net, def);
    // an outsider's key signs; its G2 key is offered as the quorum's sum
    const outsider = randomBlsSecret();
    const forged = signVote(outsider, voteOf(net, task, true));
    await expectRevert(
      submitRaw(net, task, { signers: quorum, taSignature: forged, apk: blsPublicKey(outsider) }),
      "InvalidOBLSSignature",
    );
    // a sum with the outsider's key added: the signature verifies under it, the quorum's G1 sum does not match it
    const rogue = aggregatePublicKeys([...quorum.map((o) => o.publicKey), blsPublicKey(outsider)]);
    const both = aggregateSignatures([
      ...quorum.map((o) => signVote(o.secret, voteOf(net, task, true))),
      forged,
    ]);
    await expectRevert(
      submitRaw(net, task, { signers: quorum, taSignature: both, apk: rogue }),
      "InvalidOBLSSignature",
    );
    // the signature at infinity with the G2 sum at infinity
    await expectRevert(
      submitRaw(net, task, { signers: quorum, taSignature: [0n, 0n], apk: [0n, 0n, 0n, 0n] }),
      "InvalidOBLSSignature",
    );
  });

  it("a wrong G2 sum only sends the check the G2 way: an honest quorum still lands", async () => {
    const receipt = await submitRaw(net, newTask(net, def), {
      signers: quorum,
      apk: aggregatePublicKeys([a.publicKey, b.publicKey, c.publicKey, e.publicKey]),
    });
    expect(receipt.status).toBe(1);
  });

  it("refuses too little voting power and unordered ids in the G1 way", async () => {
    await expectRevert(submitRaw(net, newTask(net, def), { signers: [a, b, c] }), "InsufficientVotingPower");
    const ids = quorum.map((o) => o.id);
    await expectRevert(
      submitRaw(net, newTask(net, def), { signers: quorum, ids: [ids[1]!, ids[0]!, ids[2]!, ids[3]!] }),
      "InvalidOperatorIndexes",
    );
    await expectRevert(
      submitRaw(net, newTask(net, def), { signers: quorum, ids: [ids[0]!, ids[0]!, ids[2]!, ids[3]!] }),
      "InvalidOperatorIndexes",
    );
  });

  it("checks a BLS performer's signature in the same pairing, and refuses a wrong one", async () => {
    const task = newTask(net, def);
    const good = signTaskBls(net.performer.secret, hashOf(task));
    await expectRevert(
      submitRaw(net, task, { signers: quorum, blsPerformer: signTaskBls(randomBlsSecret(), hashOf(task)) }),
      "InvalidPerformerSignature",
    );
    await expectRevert(
      submitRaw(net, task, { signers: quorum, blsPerformer: [0n, 0n] }),
      "InvalidPerformerSignature",
    );
    await expectRevert(
      submitRaw(net, task, { signers: quorum, blsPerformer: [1n, 3n] }),
      "InvalidPerformerSignature",
    );
    // the performer's signature is right, the attesters' is not
    await expectRevert(
      submitRaw(net, task, {
        signers: quorum,
        blsPerformer: good,
        taSignature: signVote(a.secret, voteOf(net, task, true)),
      }),
      "InvalidOBLSSignature",
    );
    const viaG1 = await submitRaw(net, task, { signers: quorum, blsPerformer: good });
    expect(viaG1.status).toBe(1);
    expect(await wentViaG1(net, viaG1.hash)).toBe(true);
    const task2 = newTask(net, def);
    const everyone = await submitRaw(net, task2, {
      signers: all,
      blsPerformer: signTaskBls(net.performer.secret, hashOf(task2)),
    });
    expect(everyone.status).toBe(1);
  });

  it("checks each signature on its own: a point shifted from one to the other is refused", async () => {
    const task = newTask(net, def);
    const performerSig = signTaskBls(net.performer.secret, hashOf(task));
    const attestersSig = aggregateSignatures(quorum.map((o) => signVote(o.secret, voteOf(net, task, true))));
    const shift = g1Mul(G1_GENERATOR, randomBlsSecret());
    const minus = (p: G1): G1 => [p[0], p[1] === 0n ? 0n : BN254_P - p[1]];
    // their sum is unchanged, so a check of the sum alone would take both
    for (const [ta, tp] of [
      [g1Add(attestersSig, shift), g1Add(performerSig, minus(shift))],
      [g1Add(attestersSig, minus(shift)), g1Add(performerSig, shift)],
    ] as const) {
      for (const apk of [undefined, null]) {
        await expectRevert(
          submitRaw(net, task, { signers: quorum, taSignature: ta, blsPerformer: tp, apk }),
          "InvalidPerformerSignature",
        );
      }
    }
    const everyone = aggregateSignatures(all.map((o) => signVote(o.secret, voteOf(net, task, true))));
    await expectRevert(
      submitRaw(net, task, {
        signers: all,
        taSignature: g1Add(everyone, shift),
        blsPerformer: g1Add(performerSig, minus(shift)),
      }),
      "InvalidPerformerSignature",
    );
    const landed = await submitRaw(net, task, {
      signers: quorum,
      taSignature: attestersSig,
      blsPerformer: performerSig,
    });
    expect(landed.status).toBe(1);
  });

  it("hashes to the curve from the submitter's witnesses, and the usual way when they do not hold", async () => {
    const witnessed = (task: TaskInfo, isApproved = true) => ({
      votePoint: hashToPointWitness(DOMAIN_TASKS, voteOf(net, task, isApproved)),
      taskPoint: hashToPointWitness(DOMAIN_TASKS, hashOf(task)),
    });
    // no modexp call at all: both points come from the witnesses
    const task = newTask(net, def);
    const good = await submitRaw(net, task, {
      signers: quorum,
      blsPerformer: signTaskBls(net.performer.secret, hashOf(task)),
      ...witnessed(task),
    });
    expect(good.status).toBe(1);
    expect(await calledPrecompile(net, good.hash, 5)).toBe(false);
    const plain = newTask(net, def);
    const everyone = await submitRaw(net, plain, { signers: all, votePoint: witnessed(plain).votePoint });
    expect(everyone.status).toBe(1);
    expect(await calledPrecompile(net, everyone.hash, 5)).toBe(false);
    // every number of rejected candidates (k = 0, 1, 2) in the first map of a vote witness
    const kOf = (w: bigint[]) => Number(w[1]! >> 254n);
    for (const k of [0, 1, 2]) {
      let t = newTask(net, def);
      while (kOf(witnessed(t).votePoint!) !== k) t = newTask(net, def);
      const receipt = await submitRaw(net, t, { signers: quorum, votePoint: witnessed(t).votePoint });
      expect(receipt.status).toBe(1);
      expect(await calledPrecompile(net, receipt.hash, 5)).toBe(false);
    }

    // the witness of another message, a wrong root of y·t (the trailer carries it in place of
    // y, so the sign of y is not the submitter's to choose), a wrong candidate count, a wrong
    // inverse, a cut one: the point is hashed the usual way and an honest submission still lands
    const P = BN254_P;
    const broken: ((w: bigint[], other: bigint[]) => bigint[])[] = [
      (_w, other) => other,
      (w) => [w[0]!, w[1]!, (w[2]! + 1n) % P, ...w.slice(3)],
      (w) => [w[0]!, w[1]! ^ (1n << 254n), ...w.slice(2)],
      (w) => [w[0]! + 1n, ...w.slice(1)],
      (w) => w.slice(0, 3),
    ];
    for (const spoil of broken) {
      for (const which of ["votePoint", "taskPoint"] as const) {
        const t = newTask(net, def);
        const w = witnessed(t);
        const receipt = await submitRaw(net, t, {
          signers: quorum,
          blsPerformer: signTaskBls(net.performer.secret, hashOf(t)),
          ...w,
          [which]: spoil(w[which]!, witnessed(t, false).votePoint!),
        });
        expect(receipt.status).toBe(1);
        expect(await calledPrecompile(net, receipt.hash, 5)).toBe(true);
      }
    }

    // witnesses that hold never make a wrong signature pass
    const forgedTask = newTask(net, def);
    await expectRevert(
      submitRaw(net, forgedTask, {
        signers: quorum,
        taSignature: signVote(a.secret, voteOf(net, forgedTask, true)),
        ...witnessed(forgedTask),
      }),
      "InvalidOBLSSignature",
    );
  });

  it("a voter without a G1 key sends votes the G2 way until it has one; leaving takes its key out", async () => {
    const secret = randomBlsSecret();
    const address = Wallet.createRandom().address;
    await (await net.ac.registerToNetwork(address, ETH, blsPublicKey(secret), address)).wait();
    const g: Operator = {
      id: await net.ac.operatorsIdsByAddress(address),
      address,
      secret,
      publicKey: blsPublicKey(secret),
      votingPower: ETH,
    };
    expect(await net.obls.numOfVotersWithoutG1Key()).toBe(1n);
    const g2Way = await submitRaw(net, newTask(net, def), { signers: [...quorum, g] });
    expect(g2Way.status).toBe(1);
    expect(await wentViaG1(net, g2Way.hash)).toBe(false);
    await registerG1(net, g);
    expect(await net.obls.numOfVotersWithoutG1Key()).toBe(0n);
    const g1Way = await submitRaw(net, newTask(net, def), { signers: [...quorum, g] });
    expect(g1Way.status).toBe(1);
    expect(await wentViaG1(net, g1Way.hash)).toBe(true);
    await (await net.ac.unRegisterOperatorFromNetwork(address)).wait();
    expect(words(await net.obls.votersPublicKeyG1())).toEqual(sumG1(all));
    // registered again with the same key: its G1 key counts again
    await (await net.ac.registerToNetwork(address, ETH, blsPublicKey(secret), address)).wait();
    expect(words(await net.obls.votersPublicKeyG1())).toEqual(sumG1([...all, g]));
    await (await net.ac.unRegisterOperatorFromNetwork(address)).wait();
  });

  it("a new G2 key (updateBlsKey) drops the G1 key proven against the old one", async () => {
    const wallet = new Wallet(OUTSIDER_KEY, net.provider);
    const old = randomBlsSecret();
    await (await net.ac.registerToNetwork(wallet.address, ETH, blsPublicKey(old), wallet.address)).wait();
    const id = await net.ac.operatorsIdsByAddress(wallet.address);
    await registerG1(net, { address: wallet.address, secret: old });
    expect(await net.obls.numOfVotersWithoutG1Key()).toBe(0n);
    const next = randomBlsSecret();
    const ac = net.ac.connect(wallet) as typeof net.ac;
    const proof = signRegistration(next, wallet.address, net.deployment.attestationCenter, net.chain.chainId);
    await (await ac.updateBlsKey(blsPublicKey(next), { signature: proof })).wait();
    expect(words(await net.obls.getOperatorBlsKeyG1(id))).toEqual([0n, 0n]);
    expect(await net.obls.numOfVotersWithoutG1Key()).toBe(1n);
    expect(words(await net.obls.votersPublicKeyG1())).toEqual(sumG1(all));
    await expectRevert(
      net.ac.registerBlsKeyG1.staticCall(wallet.address, blsPublicKeyG1(old)),
      "InvalidBlsKeyG1",
    );
    await registerG1(net, { address: wallet.address, secret: next });
    expect(await net.obls.numOfVotersWithoutG1Key()).toBe(0n);
    expect(words(await net.obls.votersPublicKeyG1())).toEqual(g1Add(sumG1(all), blsPublicKeyG1(next)));
    await (await net.ac.unRegisterOperatorFromNetwork(wallet.address)).wait();
  });
});
