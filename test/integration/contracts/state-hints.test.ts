/**
 * The state way of checking a vote (docs/protocol.md, "Contracts"): the submitter appends the
 * voters' key sum, total and bitmap and each non-signer's key and voting power, which OBLS takes
 * only when they hash to its commitments. Whatever the section says, OBLS accepts and refuses
 * exactly what it does without it: a wrong section only sends the check to storage.
 */

import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { obls, ROLES, type TaskInfo } from "../../../src/chain/contracts.js";
import {
  aggregatePublicKeys,
  aggregateSignatures,
  blsPublicKey,
  DOMAIN_TASKS,
  type G2,
  hashToPointWitness,
  randomBlsSecret,
  signRegistration,
  signTaskBls,
  signVote,
  stateHint,
  type Voter,
  withSubmitHints,
} from "../../../src/crypto/bls.js";
import { fpInv } from "../../../src/crypto/bn254-field.js";
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

interface StateSubmit extends SubmitCall {
  /** The state section's words; default: stateHint of the voters for the ids. null: none. */
  state?: bigint[] | null;
  /** Also append the vote point's witness (after the section). */
  votePoint?: boolean;
}

function votersOf(ops: Operator[]): Voter[] {
  return ops.map((o) => ({ id: o.id, votingPower: o.votingPower, key: o.publicKey }));
}

function calldataOf(net: Network2, task: TaskInfo, voters: Operator[], o: StateSubmit): string {
  const { data, ids, vote } = submitCalldata(net, task, o);
  const performer = o.blsPerformer
    ? { id: net.performer.id, votingPower: net.performer.votingPower, key: net.performer.publicKey }
    : null;
  const state = o.state === undefined ? stateHint(votersOf(voters), ids, performer) : o.state;
  return withSubmitHints(data, {
    state,
    votePoint: o.votePoint ? hashToPointWitness(DOMAIN_TASKS, vote) : null,
  });
}

/** How many of OBLS's storage slots the transaction read: 2 the state way with one non-signer. */
async function oblsSlots(net: Network2, txHash: string): Promise<number> {
  const pre = (await net.provider.send("debug_traceTransaction", [
    txHash,
    { tracer: "prestateTracer" },
  ])) as Record<string, { storage?: Record<string, string> }>;
  const entry = Object.entries(pre).find(([a]) => a.toLowerCase() === net.deployment.obls.toLowerCase());
  return Object.keys(entry?.[1].storage ?? {}).length;
}

const BN254_P = 0x30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47n;
/** Words of a state section: [m, key sum (4), total, bitmap, then per non-signer key (4), power, slope (2)]. */
const ENTRY = 7;
const FIRST_ENTRY = 7;

describe("the state way", () => {
  let net: Network2;
  let def: number;
  let voters: Operator[];
  /** 3 of the 4: just enough to approve. */
  let quorum: Operator[];
  beforeAll(async () => {
    net = await setupNetwork(chain(), [ETH, ETH, ETH, ETH]);
    voters = net.attesters;
    quorum = voters.slice(0, 3);
    def = await createDefinition(net);
  });
  afterAll(() => net?.provider.destroy());

  const submit = (o: StateSubmit, task = newTask(net, def), who = voters) =>
    sendAsAggregator(net, calldataOf(net, task, who, o));

  it("takes the voters' sum and the non-signers from the call, and keeps refusing what storage refuses", async () => {
    const everyone = await submit({ signers: voters, votePoint: true });
    expect(everyone.status).toBe(1);
    expect(await oblsSlots(net, everyone.hash)).toBe(1);
    const quorate = await submit({ signers: quorum, votePoint: true });
    expect(quorate.status).toBe(1);
    expect(await oblsSlots(net, quorate.hash)).toBe(2);
    const rejected = await submit({ signers: quorum, isApproved: false });
    expect(rejected.status).toBe(1);
    expect(rejected.logs.some((l) => net.ac.interface.parseLog(l)?.name === "TaskRejected")).toBe(true);
    // a claimed signer that did not sign, too little power, unordered ids
    const task = newTask(net, def);
    const two = aggregateSignatures(
      quorum.slice(0, 2).map((o) => signVote(o.secret, voteOf(net, task, true))),
    );
    await expectRevert(submit({ signers: quorum, taSignature: two }, task), "InvalidOBLSSignature");
    await expectRevert(submit({ signers: quorum.slice(0, 2) }), "InsufficientVotingPower");
    const [a, b, c] = quorum as [Operator, Operator, Operator];
    await expectRevert(submit({ signers: quorum, ids: [b.id, a.id, c.id] }), "InvalidOperatorIndexes");
  });

  it("refuses a forged aggregate whatever state comes with it", async () => {
    const task = newTask(net, def);
    const outsider = randomBlsSecret();
    const forged = signVote(outsider, voteOf(net, task, true));
    // the outsider's key offered as the voters' sum, with slopes that fit it
    const rogue = stateHint(
      [{ id: voters[0]!.id, votingPower: 4n * ETH, key: blsPublicKey(outsider) }],
      [voters[0]!.id],
    );
    const rogueState = stateHint(
      votersOf(voters),
      voters.map((v) => v.id),
    )!;
    rogueState.splice(1, 4, ...rogue!.slice(1, 5));
    await expectRevert(
      submit({ signers: voters, taSignature: forged, state: rogueState }, task),
      "InvalidOBLSSignature",
    );
    // a non-signer's key swapped for one that leaves the outsider's key once subtracted from
    // the real voters' sum, with the slope that fits: only its commitment stands in the way
    const sum = aggregatePublicKeys(voters.map((o) => o.publicKey));
    const rogueKey = aggregatePublicKeys([sum, negate(blsPublicKey(outsider))]);
    const swapped = stateHint(
      votersOf(voters),
      quorum.map((o) => o.id),
    )!;
    swapped.splice(FIRST_ENTRY, 4, ...rogueKey);
    swapped.splice(FIRST_ENTRY + 5, 2, ...slopeOfSubtracting(sum, rogueKey));
    await expectRevert(
      submit({ signers: quorum, taSignature: forged, state: swapped }, task),
      "InvalidOBLSSignature",
    );
  });

  it("a wrong key, power, slope or entry order only sends the check to storage", async () => {
    const honest = stateHint(
      votersOf(voters),
      quorum.map((o) => o.id),
    )!;
    const variants: Array<[string, bigint[]]> = [];
    const other = blsPublicKey(randomBlsSecret());
    const wrongKey = [...honest];
    wrongKey.splice(FIRST_ENTRY, 4, ...other);
    variants.push(["wrong key", wrongKey]);
    const lowPower = [...honest];
    lowPower[FIRST_ENTRY + 4] = 0n;
    variants.push(["power 0", lowPower]);
    const badSlope = [...honest];
    badSlope[FIRST_ENTRY + 5] = (badSlope[FIRST_ENTRY + 5]! + 1n) % BN254_P;
    variants.push(["wrong slope", badSlope]);
    const unreduced = [...honest];
    unreduced[FIRST_ENTRY + 5] = unreduced[FIRST_ENTRY + 5]! + BN254_P;
    variants.push(["slope not reduced", unreduced]);
    const wrongTotal = [...honest];
    wrongTotal[5] = wrongTotal[5]! * 2n;
    variants.push(["doubled total", wrongTotal]);
    const extra = [...honest, ...honest.slice(FIRST_ENTRY, FIRST_ENTRY + ENTRY)];
    extra[0] = 2n;
    variants.push(["an entry too many", extra]);
    const missing = honest.slice(0, FIRST_ENTRY);
    missing[0] = 0n;
    variants.push(["no entry", missing]);
    const truncated = [...honest];
    truncated[0] = 5n;
    variants.push(["more entries claimed than sent", truncated]);
    for (const [what, state] of variants) {
      const receipt = await submit({ signers: quorum, state, votePoint: true });
      expect(receipt.status, what).toBe(1);
      expect(await oblsSlots(net, receipt.hash), what).toBeGreaterThan(2);
    }
    // too little power stays too little, whatever power the section claims for the non-signers
    const two = quorum.slice(0, 2);
    const claimed = stateHint(
      votersOf(voters),
      two.map((o) => o.id),
    )!;
    for (let i = 0; i < 2; i++) claimed[FIRST_ENTRY + i * ENTRY + 4] = 0n;
    await expectRevert(submit({ signers: two, state: claimed }), "InsufficientVotingPower");
  });

  it("a signer that is no voter sends the check to storage", async () => {
    const withAggregator = [net.aggregator, ...quorum];
    const receipt = await submit({
      signers: withAggregator,
      state: stateHint(
        votersOf(voters),
        quorum.map((o) => o.id),
      ),
    });
    expect(receipt.status).toBe(1);
    expect(await oblsSlots(net, receipt.hash)).toBeGreaterThan(2);
  });

  it("checks a BLS performer's signature in the same pairing, its key from the section", async () => {
    const task = newTask(net, def);
    const good = await submit(
      { signers: quorum, blsPerformer: signTaskBls(net.performer.secret, hashOf(task)) },
      task,
    );
    expect(good.status).toBe(1);
    // the state section and the performer's commitment: two words, plus the non-signer's
    expect(await oblsSlots(net, good.hash)).toBe(3);
    const next = newTask(net, def);
    await expectRevert(
      submit({ signers: quorum, blsPerformer: signTaskBls(randomBlsSecret(), hashOf(next)) }, next),
      "InvalidPerformerSignature",
    );
    // another key in the performer's entry (the one that did sign): its commitment does not
    // hold, the stored key decides, and refuses
    const outsider = randomBlsSecret();
    const forged = newTask(net, def);
    const performer = { id: net.performer.id, votingPower: 0n, key: blsPublicKey(outsider) };
    const withOutsider = stateHint(
      votersOf(voters),
      quorum.map((o) => o.id),
      performer,
    );
    await expectRevert(
      submit(
        { signers: quorum, blsPerformer: signTaskBls(outsider, hashOf(forged)), state: withOutsider },
        forged,
      ),
      "InvalidPerformerSignature",
    );
    // a wrong performer entry only costs the stored key's reads
    const task2 = newTask(net, def);
    const wrongEntry = await submit(
      {
        signers: quorum,
        blsPerformer: signTaskBls(net.performer.secret, hashOf(task2)),
        state: withOutsider,
      },
      task2,
    );
    expect(wrongEntry.status).toBe(1);
    expect(await oblsSlots(net, wrongEntry.hash)).toBeGreaterThan(3);
  });

  it("the commitments follow voting power, keys and membership", async () => {
    const wallet = new Wallet(OUTSIDER_KEY, net.provider);
    const secret = randomBlsSecret();
    await (await net.ac.registerToNetwork(wallet.address, ETH, blsPublicKey(secret), wallet.address)).wait();
    const joined: Operator = {
      id: await net.ac.operatorsIdsByAddress(wallet.address),
      address: wallet.address,
      secret,
      publicKey: blsPublicKey(secret),
      votingPower: ETH,
    };
    const five = [...voters, joined];
    // a section from before it joined no longer holds: storage decides, and still approves
    const stale = await submit({
      signers: voters,
      state: stateHint(
        votersOf(voters),
        voters.map((v) => v.id),
      ),
    });
    expect(stale.status).toBe(1);
    expect(await oblsSlots(net, stale.hash)).toBeGreaterThan(2);
    const fresh = await submit({ signers: voters }, newTask(net, def), five);
    expect(fresh.status).toBe(1);
    expect(await oblsSlots(net, fresh.hash)).toBe(2);
    // more voting power: a section with the old power no longer holds
    const asAdmin = obls(net.deployment.obls, net.deployer);
    await (await asAdmin.grantRole(ROLES.VOTING_POWER_SYNCER, net.deployer.address)).wait();
    await (
      await asAdmin.increaseBatchOperatorVotingPower([{ operatorId: joined.id, votingPower: ETH }])
    ).wait();
    const oldPower = await submit({ signers: voters }, newTask(net, def), five);
    expect(oldPower.status).toBe(1);
    expect(await oblsSlots(net, oldPower.hash)).toBeGreaterThan(2);
    joined.votingPower = 2n * ETH;
    const newPower = await submit({ signers: voters }, newTask(net, def), five);
    expect(newPower.status).toBe(1);
    expect(await oblsSlots(net, newPower.hash)).toBe(2);
    // a new key: the old one in the section no longer holds
    const rotated = randomBlsSecret();
    const ac = net.ac.connect(wallet) as typeof net.ac;
    const proof = signRegistration(
      rotated,
      wallet.address,
      net.deployment.attestationCenter,
      net.chain.chainId,
    );
    await (await ac.updateBlsKey(blsPublicKey(rotated), { signature: proof })).wait();
    const before = await submit({ signers: voters }, newTask(net, def), five);
    expect(before.status).toBe(1);
    expect(await oblsSlots(net, before.hash)).toBeGreaterThan(2);
    const now = [...voters, { ...joined, secret: rotated, publicKey: blsPublicKey(rotated) }];
    const after = await submit({ signers: voters }, newTask(net, def), now);
    expect(after.status).toBe(1);
    expect(await oblsSlots(net, after.hash)).toBe(2);
    // the sum the contract keeps is the one the section carries
    const state = stateHint(
      votersOf(now),
      now.map((v) => v.id),
    )!;
    expect((await net.obls.votersPublicKey()).map(BigInt)).toEqual(state.slice(1, 5));
    // leaving: the four alone hold again
    await (await net.ac.unRegisterOperatorFromNetwork(wallet.address)).wait();
    const back = await submit({ signers: quorum });
    expect(back.status).toBe(1);
    expect(await oblsSlots(net, back.hash)).toBe(2);
  });
});

/** (-k.y - s.y) / (k.x - s.x) over Fp2: the slope OBLS checks when it subtracts k from s. */
function slopeOfSubtracting(s: G2, k: G2): [bigint, bigint] {
  const P = BN254_P;
  const dx: [bigint, bigint] = [(k[0] - s[0] + P) % P, (k[1] - s[1] + P) % P];
  const dy: [bigint, bigint] = [(2n * P - k[2] - s[2]) % P, (2n * P - k[3] - s[3]) % P];
  const n = fpInv((dx[0] * dx[0] + dx[1] * dx[1]) % P);
  const inv: [bigint, bigint] = [(dx[0] * n) % P, ((P - dx[1]) * n) % P];
  return [(((dy[0] * inv[0] - dy[1] * inv[1]) % P) + P) % P, (dy[0] * inv[1] + dy[1] * inv[0]) % P];
}

function negate(p: G2): G2 {
  return [p[0], p[1], p[2] === 0n ? 0n : BN254_P - p[2], p[3] === 0n ? 0n : BN254_P - p[3]];
}
