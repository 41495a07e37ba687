/**
 * The contracts' BLS agrees with src/crypto bit for bit: hashToPoint, single and aggregate
 * verification, the G2 key sums (both the signers' sum and the voters'-sum-minus-non-signers
 * path, with doubling and cancellation), and Othentic's known-answer vector.
 */

import { readFileSync } from "node:fs";
import { AbiCoder, hexlify, keccak256, randomBytes, toUtf8Bytes, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { attestationCenter } from "../../../src/chain/contracts.js";
import {
  aggregatePublicKeys,
  blsPublicKey,
  blsSign,
  blsVerify,
  DOMAIN_AUTH,
  DOMAIN_TASKS,
  type G1,
  type G2,
  g2Neg,
  hashToPoint,
  randomBlsSecret,
  signRegistration,
} from "../../../src/crypto/bls.js";
import { useAnvil } from "../../helpers/anvil.js";
import {
  createDefinition,
  ETH,
  expectRevert,
  type Network2,
  newTask,
  setupNetwork,
  submitEcdsa,
} from "./fixture.js";

const chain = useAnvil({ chainId: 31337 });
const vector = JSON.parse(readFileSync(new URL("../../fixtures/bls-othentic.json", import.meta.url), "utf8"));

const big = (words: readonly (bigint | string)[]) => words.map((w) => BigInt(w));
type G1Words = [bigint, bigint];
type G2Words = [bigint, bigint, bigint, bigint];
const randomInt = (max: number) => Math.floor(Math.random() * max);

describe("BLS on-chain vs src/crypto", () => {
  let net: Network2;
  beforeAll(async () => {
    // ten voters, one attester with no voting power (id 13)
    net = await setupNetwork(chain(), [...Array.from({ length: 10 }, () => ETH), 0n]);
  });
  afterAll(() => net?.provider.destroy());

  it("hashToPoint agrees for random domains and messages of random length", async () => {
    for (let i = 0; i < 24; i++) {
      const domain = hexlify(randomBytes(32));
      const message = hexlify(randomBytes(randomInt(120)));
      const onChain = big(await net.obls.hashToPoint(domain, message));
      expect(onChain, `case ${i}: ${domain} ${message}`).toEqual([...hashToPoint(domain, message)]);
    }
  });

  it("verifies signatures made by src/crypto, and both sides refuse the same forgeries", async () => {
    for (let i = 0; i < 12; i++) {
      const sk = randomBlsSecret();
      const pk = blsPublicKey(sk);
      const message = hexlify(randomBytes(32));
      const signature = blsSign(sk, DOMAIN_TASKS, message);
      const point = hashToPoint(DOMAIN_TASKS, message);
      expect(await net.obls.verifySingle(signature, pk, point)).toBe(true);
      expect(blsVerify(signature, pk, DOMAIN_TASKS, message)).toBe(true);

      const otherPk = blsPublicKey(randomBlsSecret());
      expect(await net.obls.verifySingle(signature, otherPk, point)).toBe(false);
      expect(blsVerify(signature, otherPk, DOMAIN_TASKS, message)).toBe(false);

      const otherMessage = hexlify(randomBytes(32));
      expect(await net.obls.verifySingle(signature, pk, hashToPoint(DOMAIN_TASKS, otherMessage))).toBe(false);
      expect(blsVerify(signature, pk, DOMAIN_TASKS, otherMessage)).toBe(false);

      // a point that is not on the curve is a failed verification, not a revert
      const offCurve: G1 = [signature[0], signature[1] ^ 1n];
      expect(await net.obls.verifySingle(offCurve, pk, point)).toBe(false);
    }
  });

  it("passes Othentic's known-answer vector through the contract", async () => {
    const coder = AbiCoder.defaultAbiCoder();
    const t = vector.task;
    const taskHash = keccak256(
      coder.encode(
        ["string", "bytes", "address", "uint16"],
        [t.proofOfTask, t.data, t.performer, t.taskDefinitionId],
      ),
    );
    expect(taskHash).toBe(t.taskHash);
    expect(keccak256(toUtf8Bytes("TasksManager"))).toBe(DOMAIN_TASKS);
    const point = big(await net.obls.hashToPoint(DOMAIN_TASKS, coder.encode(["bytes32"], [taskHash])));
    expect(point).toEqual(big([vector.messagePointG1.x, vector.messagePointG1.y]));
    const signature = big([vector.signatureG1.x, vector.signatureG1.y]);
    const publicKey = big(vector.publicKeyG2);
    expect(await net.obls.verifySingle(signature as G1Words, publicKey as G2Words, point as G1Words)).toBe(
      true,
    );
    // the contract reorders [x.c0, x.c1, y.c0, y.c1] for the precompile; the swapped layout fails
    const swapped = [publicKey[1]!, publicKey[0]!, publicKey[3]!, publicKey[2]!];
    expect(
      await net.obls
        .verifySingle(signature as G1Words, swapped as G2Words, point as G1Words)
        .catch(() => false),
    ).toBe(false);
  });

  it("sums signers' keys like src/crypto, by either path", async () => {
    const all = net.attesters;
    for (let i = 0; i < 12; i++) {
      // random ascending subsets of every size, including the powerless attester now and then
      const chosen = all.filter(() => Math.random() < (i % 3 === 0 ? 0.9 : 0.5));
      if (chosen.length === 0) continue;
      const onChain = big(await net.obls.signersPublicKey(chosen.map((a) => a.id)));
      expect(onChain, `subset ${chosen.map((a) => a.id).join(",")}`).toEqual([
        ...aggregatePublicKeys(chosen.map((a) => a.publicKey)),
      ]);
    }
    // everyone, and everyone but one: the voters' sum with nothing or one key taken off
    const voters = all.slice(0, 10);
    expect(big(await net.obls.signersPublicKey(voters.map((a) => a.id)))).toEqual([
      ...(await net.obls.votersPublicKey()),
    ]);
    expect(big(await net.obls.signersPublicKey(all.map((a) => a.id)))).toEqual([
      ...aggregatePublicKeys(all.map((a) => a.publicKey)),
    ]);
    const allButOne = voters.slice(1);
    expect(big(await net.obls.signersPublicKey(allButOne.map((a) => a.id)))).toEqual([
      ...aggregatePublicKeys(allButOne.map((a) => a.publicKey)),
    ]);
  });

  it("accepts a task signed by 8 of 10 voters (voters' sum minus two keys)", async () => {
    const definition = await createDefinition(net);
    const signers = net.attesters.slice(0, 8);
    const receipt = await submitEcdsa(net, newTask(net, definition), { signers });
    expect(receipt.logs.map((l) => net.ac.interface.parseLog(l)?.name)).toContain("TaskSubmitted");
    // and refuses the same signature claimed for a different set
    await expectRevert(
      submitEcdsa(net, newTask(net, definition), {
        signers,
        ids: net.attesters.slice(1, 9).map((a) => a.id),
      }),
      "InvalidOBLSSignature",
    );
  });

  it("checks registration proofs like src/crypto (verifyAuthSignature, updateBlsKey)", async () => {
    const sk = randomBlsSecret();
    const pk = blsPublicKey(sk);
    const operator = net.performer.address;
    const ac = net.deployment.attestationCenter;
    const proof = signRegistration(sk, operator, ac, net.chain.chainId);
    await net.obls.verifyAuthSignature(proof, operator, ac, pk);
    await expectRevert(
      net.obls.verifyAuthSignature(proof, operator, net.deployment.obls, pk),
      "InvalidAuthSignature",
    );
    await expectRevert(
      net.obls.verifyAuthSignature(signRegistration(sk, operator, ac, 1), operator, ac, pk),
      "InvalidAuthSignature",
    );
    expect(DOMAIN_AUTH).toBe(keccak256(toUtf8Bytes("OthenticBLSAuth")));
    // the performer replaces its key on L2 with a proof made for the AttestationCenter
    const asPerformer = attestationCenter(ac, net.performer.wallet);
    await (await asPerformer.updateBlsKey(pk, { signature: proof })).wait();
    expect(big(await net.obls.getOperatorBlsKey(net.performer.id))).toEqual([...pk]);
    await expectRevert(
      asPerformer.updateBlsKey(blsPublicKey(randomBlsSecret()), { signature: proof }),
      "InvalidAuthSignature",
    );
  });
});

describe("G2 sums with repeated and opposite keys", () => {
  let net: Network2;
  let key: G2;
  beforeAll(async () => {
    net = await setupNetwork(chain(), []);
    key = blsPublicKey(randomBlsSecret());
    const other = blsPublicKey(randomBlsSecret());
    // ids 3, 4: the same key (doubling); id 5: its negation (cancels); id 6: another key
    for (const [k, vp] of [
      [key, ETH],
      [key, ETH],
      [g2Neg(key), ETH],
      [other, ETH],
    ] as const) {
      const address = Wallet.createRandom().address;
      await (await net.ac.registerToNetwork(address, vp, k, address)).wait();
    }
  });
  afterAll(() => net?.provider.destroy());

  it("doubles a repeated key and cancels opposite keys, in the running sum and per task", async () => {
    const sum = (ids: bigint[]) => net.obls.signersPublicKey(ids).then(big);
    expect(await sum([3n, 4n])).toEqual([...aggregatePublicKeys([key, key])]);
    expect(await sum([3n, 5n])).toEqual([0n, 0n, 0n, 0n]);
    expect(await sum([3n, 4n, 5n])).toEqual([...key]);
    expect(await sum([3n, 4n, 5n, 6n])).toEqual(big(await net.obls.votersPublicKey()));
    const other = big(await net.obls.getOperatorBlsKey(6n)) as unknown as G2;
    expect(await sum([3n, 4n, 6n])).toEqual([...aggregatePublicKeys([key, key, other])]);
  });
});
