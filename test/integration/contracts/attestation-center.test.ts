/**
 * AttestationCenter + OBLS on a real anvil: task definitions through the exact ethers calls of
 * Othentic's docs, every revert by name, and consensus with real BLS aggregates from src/crypto.
 */

import { AbiCoder, Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAbi } from "../../../src/chain/artifacts.js";
import {
  attestationCenter,
  decodeVotingPowerUpdate,
  encodeVotingPowerUpdate,
  internalTaskHandler,
  ROLES,
  SIGNATURES,
} from "../../../src/chain/contracts.js";
import { aggregateSignatures, blsPublicKey, randomBlsSecret, signVote } from "../../../src/crypto/bls.js";
import { signTaskEcdsa } from "../../../src/crypto/ecdsa.js";
import { useAnvil } from "../../helpers/anvil.js";
import {
  createDefinition,
  ETH,
  expectRevert,
  hashOf,
  mine,
  NEVER,
  type Network2,
  newTask,
  OUTSIDER_KEY,
  setupNetwork,
  submitBls,
  submitEcdsa,
  voteOf,
} from "./fixture.js";

const chain = useAnvil({ chainId: 31337 });

describe("task definitions", () => {
  let net: Network2;
  beforeAll(async () => {
    net = await setupNetwork(chain(), [ETH]);
  });
  afterAll(() => net?.provider.destroy());

  it("takes the exact ethers call of Othentic's docs (gen 1) and numbers definitions from 1", async () => {
    const contract = new Contract(
      net.deployment.attestationCenter,
      loadAbi("AttestationCenter"),
      net.deployer,
    );
    const create =
      contract[
        "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[]))"
      ]!;
    const params = [NEVER, 1000n, 2000n, 3000n, 10n, 0n, []];
    expect(await create.staticCall("first", params)).toBe(1n);
    await (await create("first", params)).wait();
    expect(await create.staticCall("second", params)).toBe(2n);
    const receipt = await (await create("second", params)).wait();
    expect(await net.ac.numOfTaskDefinitions()).toBe(2n);
    const created = receipt!.logs
      .map((l: import("ethers").Log) => net.ac.interface.parseLog(l))
      .find((l: import("ethers").LogDescription | null) => l?.name === "TaskDefinitionCreated");
    expect(created?.args.taskDefinitionId).toBe(2n);
    expect(created?.args.name).toBe("second");
    expect(created?.args.baseRewardFeeForAggregator).toBe(3000n);
    expect(created?.args.maximumNumberOfAttesters).toBe(0n);
  });

  it("takes the gen 2 overload, with a maximum number of attesters", async () => {
    const contract = new Contract(
      net.deployment.attestationCenter,
      loadAbi("AttestationCenter"),
      net.deployer,
    );
    const create =
      contract[
        "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))"
      ]!;
    const params = [NEVER, 0n, 0n, 0n, 0n, 0n, [3n, 5n, 9n], 2n];
    const id = await create.staticCall("gen2", params);
    await (await create("gen2", params)).wait();
    expect(id).toBe(await net.ac.numOfTaskDefinitions());
    expect(await net.ac.getTaskDefinitionRestrictedAttesters(id)).toEqual([3n, 5n, 9n]);
    expect(await net.ac.getTaskDefinitionRestrictedOperators(id)).toEqual([3n, 5n, 9n]);
    expect(await net.ac.getTaskDefinitionMaximumNumberOfAttesters(id)).toBe(2n);
  });

  it("sets and reads back minimum voting power, restricted attesters (both names) and maximum", async () => {
    const id = await createDefinition(net);
    await (await net.ac.setTaskDefinitionMinVotingPower(id, 5n)).wait();
    expect(await net.ac.getTaskDefinitionMinimumVotingPower(id)).toBe(5n);
    await (await net.ac.setTaskDefinitionRestrictedOperators(id, [3n, 4n])).wait();
    expect(await net.ac.getTaskDefinitionRestrictedOperators(id)).toEqual([3n, 4n]);
    await (await net.ac.setTaskDefinitionRestrictedAttesters(id, [3n, 4n, 7n])).wait();
    expect(await net.ac.getTaskDefinitionRestrictedAttesters(id)).toEqual([3n, 4n, 7n]);
    await (await net.ac.setTaskDefinitionMaximumNumberOfAttesters(id, 3n)).wait();
    expect(await net.ac.getTaskDefinitionMaximumNumberOfAttesters(id)).toBe(3n);
    await expectRevert(
      net.ac.setTaskDefinitionMaximumNumberOfAttesters(id, 4n),
      "InvalidMaximumNumberOfAttesters",
    );
  });

  it("refuses an expiry at or below the current block: InvalidBlockExpiry", async () => {
    const block = BigInt(await net.provider.getBlockNumber());
    await expectRevert(
      net.ac[SIGNATURES.createNewTaskDefinitionGen1]("late", {
        blockExpiry: block,
        baseRewardFeeForAttesters: 0n,
        baseRewardFeeForPerformer: 0n,
        baseRewardFeeForAggregator: 0n,
        disputePeriodBlocks: 0n,
        minimumVotingPower: 0n,
        restrictedOperatorIndexes: [],
      }),
      "InvalidBlockExpiry",
    );
    await expectRevert(createDefinition(net, { blockExpiry: 1n }), "InvalidBlockExpiry");
  });

  it("refuses restricted ids that are not strictly ascending, by generation", async () => {
    await expectRevert(
      net.ac[SIGNATURES.createNewTaskDefinitionGen1]("dup", {
        blockExpiry: NEVER,
        baseRewardFeeForAttesters: 0n,
        baseRewardFeeForPerformer: 0n,
        baseRewardFeeForAggregator: 0n,
        disputePeriodBlocks: 0n,
        minimumVotingPower: 0n,
        restrictedOperatorIndexes: [4n, 3n],
      }),
      "InvalidRestrictedOperatorIndexes",
    );
    await expectRevert(
      createDefinition(net, { restrictedAttesterIds: [3n, 3n] }),
      "InvalidRestrictedAttesterIds",
    );
    const id = await createDefinition(net);
    await expectRevert(
      net.ac.setTaskDefinitionRestrictedOperators(id, [5n, 4n]),
      "InvalidRestrictedOperatorIndexes",
    );
    await expectRevert(
      net.ac.setTaskDefinitionRestrictedAttesters(id, [5n, 5n]),
      "InvalidRestrictedAttesterIds",
    );
  });

  it("refuses a maximum number of attesters above the restricted set: InvalidMaximumNumberOfAttesters", async () => {
    await expectRevert(
      createDefinition(net, { restrictedAttesterIds: [3n, 4n], maximumNumberOfAttesters: 3n }),
      "InvalidMaximumNumberOfAttesters",
    );
  });

  it("lets only the governance multisig create definitions and call the setters", async () => {
    const outsider = attestationCenter(
      net.deployment.attestationCenter,
      new Wallet(OUTSIDER_KEY, net.provider),
    );
    const id = await createDefinition(net);
    const decoded = await expectRevert(
      outsider.setTaskDefinitionMinVotingPower(id, 1n),
      "AccessControlUnauthorizedAccount",
    );
    expect(decoded.namedArgs.neededRole).toBe(ROLES.AVS_GOVERNANCE_MULTISIG);
    expect(String(decoded.namedArgs.account).toLowerCase()).toBe(
      new Wallet(OUTSIDER_KEY).address.toLowerCase(),
    );
    await expectRevert(
      outsider.setTaskDefinitionRestrictedAttesters(id, [3n]),
      "AccessControlUnauthorizedAccount",
    );
    await expectRevert(
      outsider.setTaskDefinitionRestrictedOperators(id, [3n]),
      "AccessControlUnauthorizedAccount",
    );
    await expectRevert(
      outsider.setTaskDefinitionMaximumNumberOfAttesters(id, 1n),
      "AccessControlUnauthorizedAccount",
    );
    await expectRevert(
      outsider[SIGNATURES.createNewTaskDefinitionGen2]("x", {
        blockExpiry: NEVER,
        baseRewardFeeForAttesters: 0n,
        baseRewardFeeForPerformer: 0n,
        baseRewardFeeForAggregator: 0n,
        disputePeriodBlocks: 0n,
        minimumVotingPower: 0n,
        restrictedAttesterIds: [],
        maximumNumberOfAttesters: 0n,
      }),
      "AccessControlUnauthorizedAccount",
    );
    await expectRevert(
      outsider.registerToNetwork(
        Wallet.createRandom().address,
        1n,
        blsPublicKey(randomBlsSecret()),
        net.deployer.address,
      ),
      "AccessControlUnauthorizedAccount",
    );
  });

  it("names a missing definition: TaskDefinitionNotFound", async () => {
    const decoded = await expectRevert(
      net.ac.setTaskDefinitionMinVotingPower(999, 1n),
      "TaskDefinitionNotFound",
    );
    expect(decoded.args).toEqual([999n]);
  });
});

describe("consensus of 3 attesters with equal voting power", () => {
  let net: Network2;
  let definition: number;
  beforeAll(async () => {
    net = await setupNetwork(chain(), [ETH, ETH, ETH]);
    definition = await createDefinition(net);
  });
  afterAll(() => net?.provider.destroy());

  it("accepts 2 of 3 approving: TaskSubmitted with the task number and the attester ids", async () => {
    const [a, b] = net.attesters;
    expect(await net.ac.taskNumber()).toBe(1n);
    const task = newTask(net, definition);
    const receipt = await submitEcdsa(net, task, { signers: [a!, b!] });
    const log = receipt.logs
      .map((l: import("ethers").Log) => net.ac.interface.parseLog(l))
      .find((l) => l?.name === "TaskSubmitted");
    expect(log).toBeDefined();
    expect(log!.args.operator).toBe(net.performer.address);
    expect(log!.args.taskNumber).toBe(1n);
    expect(log!.args.proofOfTask).toBe(task.proofOfTask);
    expect(log!.args.data).toBe(task.data);
    expect(log!.args.taskDefinitionId).toBe(BigInt(definition));
    expect([...log!.args.attestersIds]).toEqual([a!.id, b!.id]);
    expect(await net.ac.taskNumber()).toBe(2n);
    expect(await net.ac.isSignedTask(hashOf(task))).toBe(true);
  });

  it("accepts tasks of the default definition 0, which Othentic's examples submit to", async () => {
    const receipt = await submitEcdsa(net, newTask(net, 0));
    const log = receipt.logs
      .map((l: import("ethers").Log) => net.ac.interface.parseLog(l))
      .find((l) => l?.name === "TaskSubmitted");
    expect(log?.args.taskDefinitionId).toBe(0n);
    expect(await net.ac.numOfTaskDefinitions()).toBe(1n);
  });

  it("refuses 1 of 3 approving: InsufficientVotingPower", async () => {
    await expectRevert(
      submitEcdsa(net, newTask(net, definition), { signers: [net.attesters[0]!] }),
      "InsufficientVotingPower",
    );
  });

  it("takes a reject vote of 1 of 3: TaskRejected", async () => {
    const task = newTask(net, definition);
    const receipt = await submitEcdsa(net, task, { isApproved: false, signers: [net.attesters[2]!] });
    const names = receipt.logs.map((l) => net.ac.interface.parseLog(l)?.name);
    expect(names).toContain("TaskRejected");
    expect(names).not.toContain("TaskSubmitted");
  });

  it("refuses the same task twice: MessageAlreadySigned", async () => {
    const task = newTask(net, definition);
    await submitEcdsa(net, task);
    await expectRevert(submitEcdsa(net, task), "MessageAlreadySigned");
    await expectRevert(submitEcdsa(net, task, { isApproved: false }), "MessageAlreadySigned");
  });

  it("refuses a performer signature by another key, or malformed: InvalidPerformerSignature", async () => {
    const task = newTask(net, definition);
    await expectRevert(
      submitEcdsa(net, task, { tpSignature: signTaskEcdsa(OUTSIDER_KEY, hashOf(task)) }),
      "InvalidPerformerSignature",
    );
    await expectRevert(submitEcdsa(net, task, { tpSignature: "0x1234" }), "InvalidPerformerSignature");
    // an EIP-191 signature is not the raw one the contract checks
    const prefixed = await net.performer.wallet.signMessage(Buffer.from(hashOf(task).slice(2), "hex"));
    await expectRevert(submitEcdsa(net, task, { tpSignature: prefixed }), "InvalidPerformerSignature");
  });

  it("accepts a BLS performer signature and refuses one by another key: InvalidPerformerSignature", async () => {
    const receipt = await submitBls(net, newTask(net, definition));
    expect(receipt.logs.map((l) => net.ac.interface.parseLog(l)?.name)).toContain("TaskSubmitted");
    await expectRevert(
      submitBls(net, newTask(net, definition), randomBlsSecret()),
      "InvalidPerformerSignature",
    );
  });

  it("refuses a performer that is not an active operator: InactiveTaskPerformer", async () => {
    const task = { ...newTask(net, definition), taskPerformer: new Wallet(OUTSIDER_KEY).address };
    await expectRevert(
      submitEcdsa(net, task, { tpSignature: signTaskEcdsa(OUTSIDER_KEY, hashOf(task)) }),
      "InactiveTaskPerformer",
    );
  });

  it("refuses an aggregator that is not an active operator: InactiveAggregator", async () => {
    await expectRevert(
      submitEcdsa(net, newTask(net, definition), { as: new Wallet(OUTSIDER_KEY, net.provider) }),
      "InactiveAggregator",
    );
  });

  it("refuses an aggregate that does not match the claimed signers: InvalidOBLSSignature", async () => {
    const [a, b, c] = net.attesters;
    // a and b sign, but the aggregator claims b and c
    await expectRevert(
      submitEcdsa(net, newTask(net, definition), { signers: [a!, b!], ids: [b!.id, c!.id] }),
      "InvalidOBLSSignature",
    );
  });

  it("refuses attester ids out of order or repeated: InvalidOperatorIndexes", async () => {
    const [a, b] = net.attesters;
    await expectRevert(
      submitEcdsa(net, newTask(net, definition), { ids: [b!.id, a!.id] }),
      "InvalidOperatorIndexes",
    );
    await expectRevert(
      submitEcdsa(net, newTask(net, definition), { ids: [a!.id, a!.id] }),
      "InvalidOperatorIndexes",
    );
  });

  it("refuses an empty attester list (InvalidAttesterSet) and an inactive attester (InactiveOperator)", async () => {
    await expectRevert(submitEcdsa(net, newTask(net, definition), { ids: [] }), "InvalidAttesterSet");
    const decoded = await expectRevert(
      submitEcdsa(net, newTask(net, definition), { ids: [...net.attesters.map((a) => a.id), 99n] }),
      "InactiveOperator",
    );
    expect(decoded.args).toEqual([99n]);
  });

  it("refuses a missing definition (TaskDefinitionNotFound) and an expired one (InvalidTaskDefinition)", async () => {
    const decoded = await expectRevert(submitEcdsa(net, newTask(net, 4242)), "TaskDefinitionNotFound");
    expect(decoded.args).toEqual([4242n]);
    const expiry = BigInt(await net.provider.getBlockNumber()) + 3n;
    const short = await createDefinition(net, { blockExpiry: expiry });
    await mine(net.provider, 3);
    await expectRevert(submitEcdsa(net, newTask(net, short)), "InvalidTaskDefinition");
  });

  it("refuses more attesters than the definition's maximum: InvalidMaximumNumberOfAttesters", async () => {
    const capped = await createDefinition(net, { maximumNumberOfAttesters: 2n });
    await expectRevert(submitEcdsa(net, newTask(net, capped)), "InvalidMaximumNumberOfAttesters");
    const receipt = await submitEcdsa(net, newTask(net, capped), { signers: net.attesters.slice(0, 2) });
    expect(receipt.status).toBe(1);
  });

  it("still accepts the obsolete generation 1 submitTask form", async () => {
    const task = newTask(net, definition);
    const signature = aggregateSignatures(
      net.attesters.map((a) => signVote(a.secret, voteOf(net, task, true))),
    );
    const tx = await net.acAsAggregator[SIGNATURES.submitTaskGen1](
      task,
      true,
      signTaskEcdsa(net.performer.key, hashOf(task)),
      signature,
      net.attesters.map((a) => a.id),
    );
    const receipt = await tx.wait();
    expect(receipt!.logs.map((l) => net.ac.interface.parseLog(l)?.name)).toContain("TaskSubmitted");
  });

  it("refuses a performer that was unregistered: InactiveTaskPerformer", async () => {
    await (await net.ac.unRegisterOperatorFromNetwork(net.performer.address)).wait();
    expect(await net.ac.numOfActiveOperators()).toBe(4n);
    expect(await net.ac.numOfTotalOperators()).toBe(5n);
    await expectRevert(submitEcdsa(net, newTask(net, definition)), "InactiveTaskPerformer");
    await expectRevert(net.ac.unRegisterOperatorFromNetwork(net.performer.address), "OperatorNotRegistered");
    // re-registration keeps the id
    await (
      await net.ac.registerToNetwork(
        net.performer.address,
        0n,
        net.performer.publicKey,
        net.performer.address,
      )
    ).wait();
    expect(await net.ac.operatorsIdsByAddress(net.performer.address)).toBe(net.performer.id);
    expect((await submitEcdsa(net, newTask(net, definition))).status).toBe(1);
  });

  it("lists the active operators with id, voting power and fees", async () => {
    const details = await net.ac.getActiveOperatorsDetails();
    expect(details.map((d) => d.operatorId)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect(details.map((d) => d.votingPower)).toEqual([0n, 0n, ETH, ETH, ETH]);
    expect(details[0]!.operator).toBe(net.aggregator.address);
    expect(await net.ac.votingPower(net.attesters[0]!.address)).toBe(ETH);
    expect(await net.ac.votingPower(Wallet.createRandom().address)).toBe(0n);
    expect(await net.obls.totalVotingPower()).toBe(3n * ETH);
  });
});

describe("restricted attesters and minimum voting power", () => {
  let net: Network2;
  beforeAll(async () => {
    // ids 3, 4, 5 with 1 ETH each, id 6 with 3 ETH
    net = await setupNetwork(chain(), [ETH, ETH, ETH, 3n * ETH]);
  });
  afterAll(() => net?.provider.destroy());

  it("refuses an attester outside the restricted set: InvalidRestrictedAttester", async () => {
    const [a, b, c] = net.attesters;
    const restricted = await createDefinition(net, { restrictedAttesterIds: [a!.id, b!.id] });
    expect(await net.obls.totalVotingPowerPerTaskDefinition(restricted)).toBe(2n * ETH);
    const decoded = await expectRevert(
      submitEcdsa(net, newTask(net, restricted), { signers: [a!, c!] }),
      "InvalidRestrictedAttester",
    );
    expect(decoded.args).toEqual([BigInt(restricted), c!.id]);
    // the restricted total is 2 ETH, so both members approve it
    expect((await submitEcdsa(net, newTask(net, restricted), { signers: [a!, b!] })).status).toBe(1);
  });

  it("refuses more attesters than the restricted set holds: InvalidAttesterSet", async () => {
    const [a, b, c] = net.attesters;
    const restricted = await createDefinition(net, { restrictedAttesterIds: [a!.id, b!.id] });
    await expectRevert(
      submitEcdsa(net, newTask(net, restricted), { signers: [a!, b!, c!] }),
      "InvalidAttesterSet",
    );
  });

  it("refuses an attester below the minimum voting power: OperatorDoesNotHaveMinimumVotingPower", async () => {
    const [a, , , big] = net.attesters;
    const minimum = await createDefinition(net, { minimumVotingPower: 2n * ETH });
    expect(await net.obls.totalVotingPowerPerTaskDefinition(minimum)).toBe(3n * ETH);
    const decoded = await expectRevert(
      submitEcdsa(net, newTask(net, minimum), { signers: [a!, big!] }),
      "OperatorDoesNotHaveMinimumVotingPower",
    );
    expect(decoded.args).toEqual([a!.id]);
    expect((await submitEcdsa(net, newTask(net, minimum), { signers: [big!] })).status).toBe(1);
    await expectRevert(
      net.ac.verifyOperatorValidForTaskDefinition(a!.address, minimum),
      "InsufficientVotingPowerForTaskDefinition",
    );
    await net.ac.verifyOperatorValidForTaskDefinition(big!.address, minimum);
  });

  it("refuses a definition nobody qualifies for: InvalidRequiredVotingPower", async () => {
    const nobody = await createDefinition(net, { minimumVotingPower: 10n * ETH });
    expect(await net.obls.totalVotingPowerPerTaskDefinition(nobody)).toBe(0n);
    await expectRevert(submitEcdsa(net, newTask(net, nobody)), "InvalidRequiredVotingPower");
  });

  it("keeps per-definition totals in step with registrations", async () => {
    const [a] = net.attesters;
    const restricted = await createDefinition(net, { restrictedAttesterIds: [a!.id, 7n] });
    expect(await net.obls.totalVotingPowerPerTaskDefinition(restricted)).toBe(ETH);
    const secret = randomBlsSecret();
    const address = Wallet.createRandom().address;
    await (await net.ac.registerToNetwork(address, 5n * ETH, blsPublicKey(secret), address)).wait();
    expect(await net.ac.operatorsIdsByAddress(address)).toBe(7n);
    expect(await net.obls.totalVotingPowerPerTaskDefinition(restricted)).toBe(6n * ETH);
    await (await net.ac.unRegisterOperatorFromNetwork(address)).wait();
    expect(await net.obls.totalVotingPowerPerTaskDefinition(restricted)).toBe(ETH);
  });
});

describe("fees, payments and internal tasks", () => {
  let net: Network2;
  const FEE = { attesters: 1000n, performer: 2000n, aggregator: 3000n };
  beforeAll(async () => {
    net = await setupNetwork(chain(), [ETH, ETH, ETH]);
  });
  afterAll(() => net?.provider.destroy());

  async function fees(): Promise<bigint[]> {
    return (await net.ac.getActiveOperatorsDetails()).map((d) => d.feeToClaim);
  }

  it("credits each role its fee, whether every attester signs or only a quorum", async () => {
    const definition = await createDefinition(net, {
      baseRewardFeeForAttesters: FEE.attesters,
      baseRewardFeeForPerformer: FEE.performer,
      baseRewardFeeForAggregator: FEE.aggregator,
      disputePeriodBlocks: 5n,
    });
    await submitEcdsa(net, newTask(net, definition));
    expect(await fees()).toEqual([
      FEE.aggregator,
      FEE.performer,
      FEE.attesters,
      FEE.attesters,
      FEE.attesters,
    ]);
    const [a, b] = net.attesters;
    await submitEcdsa(net, newTask(net, definition), { signers: [a!, b!] });
    expect(await fees()).toEqual([
      2n * FEE.aggregator,
      2n * FEE.performer,
      2n * FEE.attesters,
      2n * FEE.attesters,
      FEE.attesters,
    ]);
    // a rejected task pays the aggregator and the attesters, not the performer
    await submitEcdsa(net, newTask(net, definition), { isApproved: false, signers: [a!] });
    expect(await fees()).toEqual([
      3n * FEE.aggregator,
      2n * FEE.performer,
      3n * FEE.attesters,
      2n * FEE.attesters,
      FEE.attesters,
    ]);
  });

  it("pays a requested payment only after the dispute period: PaymentLocked, then the transfer", async () => {
    // the attesters' wallets are random and unfunded: the performer asks for its own payment
    const performerAc = attestationCenter(net.deployment.attestationCenter, net.performer.wallet);
    await (
      await net.deployer.sendTransaction({ to: net.deployment.attestationCenter, value: 10n ** 16n })
    ).wait();
    await expectRevert(
      attestationCenter(
        net.deployment.attestationCenter,
        new Wallet(OUTSIDER_KEY, net.provider),
      ).requestPayment(net.performer.id),
      "UnauthorizedPaymentRequest",
    );
    await (await performerAc.requestPayment(net.performer.id)).wait();
    const [amount, unlock] = await net.ac.pendingPayment(net.performer.id);
    expect(amount).toBe(2n * FEE.performer);
    await expectRevert(performerAc.claimPayment(net.performer.id), "PaymentLocked");
    await mine(net.provider, Number(unlock - BigInt(await net.provider.getBlockNumber())));
    const before = await net.provider.getBalance(net.performer.address);
    const receipt = await (await performerAc.claimPayment(net.performer.id)).wait();
    const after = await net.provider.getBalance(net.performer.address);
    expect(after - before + receipt!.gasUsed * receipt!.gasPrice).toBe(2n * FEE.performer);
    await expectRevert(performerAc.claimPayment(net.performer.id), "InvalidPaymentClaim");
  });

  it("applies an approved VOTING_POWER_SYNC (10001) through the InternalTaskHandler", async () => {
    const [a, b] = net.attesters;
    const coder = AbiCoder.defaultAbiCoder();
    const encode = (toBlockL1: bigint, toBlockL2: bigint) => {
      const data = encodeVotingPowerUpdate({
        toIncrease: [{ operatorId: a!.id, votingPower: ETH }],
        toDecrease: [{ operatorId: b!.id, votingPower: ETH / 2n }],
        toBlockL1,
        toBlockL2,
      });
      // the helper's encoding is Solidity's abi.encode of the struct
      expect(data).toBe(
        coder.encode(
          [
            "tuple(tuple(uint256 operatorId, uint256 votingPower)[] toIncrease, tuple(uint256 operatorId, uint256 votingPower)[] toDecrease, uint256 toBlockL1, uint256 toBlockL2)",
          ],
          [[[[a!.id, ETH]], [[b!.id, ETH / 2n]], toBlockL1, toBlockL2]],
        ),
      );
      expect(decodeVotingPowerUpdate(data).toDecrease).toEqual([
        { operatorId: b!.id, votingPower: ETH / 2n },
      ]);
      return data;
    };
    const l2Block = BigInt(await net.provider.getBlockNumber());
    const task = newTask(net, 10001, encode(100n, l2Block));
    await submitEcdsa(net, task);
    expect(await net.obls.votingPower(a!.id)).toBe(2n * ETH);
    expect(await net.obls.votingPower(b!.id)).toBe(ETH / 2n);
    expect(await net.obls.totalVotingPower()).toBe(2n * ETH + ETH / 2n + ETH);
    const handler = internalTaskHandler(net.deployment.internalTaskHandler, net.provider);
    expect(await handler.lastCommitBlockL1()).toBe(100n);
    expect(await handler.lastCommitBlockL2()).toBe(l2Block);
    // the same blocks again are stale; the whole submission reverts
    await expectRevert(
      submitEcdsa(net, newTask(net, 10001, encode(100n, l2Block + 1n))),
      "InvalidToBlockL1VsLastCommitBlockL1",
    );
    await expectRevert(
      submitEcdsa(net, newTask(net, 10001, encode(101n, l2Block))),
      "InvalidToBlockL2VsLastCommitBlockL2",
    );
    const future = BigInt(await net.provider.getBlockNumber()) + 10n;
    await expectRevert(
      submitEcdsa(net, newTask(net, 10001, encode(101n, future))),
      "InvalidToBlockL2VsCurrentHeight",
    );
  });

  it("runs VOTING_POWER_PER_TASK_DEFINITION_SYNC (10002) for every tracked definition", async () => {
    const [a] = net.attesters;
    const restricted = await createDefinition(net, { restrictedAttesterIds: [a!.id] });
    const receipt = await submitEcdsa(net, newTask(net, 10002, "0x"));
    const oblsLogs = receipt.logs
      .filter((l) => l.address.toLowerCase() === net.deployment.obls.toLowerCase())
      .map((l) => net.obls.interface.parseLog(l));
    expect(oblsLogs.some((l) => l?.name === "TotalVotingPowerPerTaskDefinitionSet")).toBe(true);
    expect(await net.obls.totalVotingPowerPerTaskDefinition(restricted)).toBe(
      await net.obls.votingPower(a!.id),
    );
  });

  it("keeps the attester fees an operator earned when it stops being a voter", async () => {
    const definition = await createDefinition(net, { baseRewardFeeForAttesters: 7n });
    const [, , c] = net.attesters;
    const before = await net.obls.feeToClaim(c!.id);
    await submitEcdsa(net, newTask(net, definition));
    expect(await net.obls.feeToClaim(c!.id)).toBe(before + 7n);
    await (await net.ac.unRegisterOperatorFromNetwork(c!.address)).wait();
    expect(await net.obls.feeToClaim(c!.id)).toBe(before + 7n);
    expect(await net.obls.isActive(c!.id)).toBe(false);
  });
});
