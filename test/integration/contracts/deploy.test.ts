/**
 * src/chain/deploy.ts on two real anvils (an L1 and an L2): the whole set deployed and wired,
 * operators registered on L1 with their BLS proof and mirrored to L2 with their stake as voting
 * power, then a task accepted on L2 with keys derived the way Othentic's clients derive them.
 * Also the generation 1 test contract, for clients that must tell the generations apart.
 */

import { ContractFactory, getAddress, type InterfaceAbi, Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { loadArtifact } from "../../../src/chain/artifacts.js";
import {
  attestationCenter,
  avsGovernance,
  contractInterface,
  internalTaskHandler,
  obls,
  ROLES,
  SIGNATURES,
} from "../../../src/chain/contracts.js";
import {
  blsKeyFromOperatorKey,
  type DevnetDeployment,
  deployDevnetContracts,
  deployL2,
  registerOperator,
  registerOperatorL1,
} from "../../../src/chain/deploy.js";
import { ANVIL_DEV_PRIVATE_KEYS } from "../../../src/chain/dev-keys.js";
import {
  aggregateSignatures,
  blsPublicKeyG1,
  blsSecretFromSeed,
  initBls,
  signVote,
} from "../../../src/crypto/bls.js";
import { signTaskEcdsa } from "../../../src/crypto/ecdsa.js";
import { taskHash, voteHash } from "../../../src/crypto/task-hash.js";
import { isAvsctlError } from "../../../src/errors.js";
import { useAnvil } from "../../helpers/anvil.js";
import { ETH, NEVER, providerFor } from "./fixture.js";

const l1 = useAnvil({ chainId: 31337 });
const l2 = useAnvil({ chainId: 31338 });
const [DEPLOYER, AGGREGATOR, PERFORMER, ...ATTESTERS] = ANVIL_DEV_PRIVATE_KEYS;

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a failure");
}

describe("devnet deployment and operator registration", () => {
  let deployment: DevnetDeployment;
  beforeAll(async () => {
    await initBls();
    deployment = await deployDevnetContracts({
      l1: { rpcUrl: l1().rpcUrl },
      l2: [{ rpcUrl: l2().rpcUrl }],
      deployerKey: DEPLOYER,
    });
  });

  it("deploys AvsGovernance on L1 and the wired L2 set, the deployer holding the roles", async () => {
    const deployer = new Wallet(DEPLOYER).address;
    expect(deployment.avsGovernance).toBe(deployment.l1.avsGovernance);
    expect(deployment.l1.chainId).toBe(31337);
    const [chain] = deployment.l2;
    expect(chain!.chainId).toBe(31338);
    const p1 = providerFor(l1());
    const p2 = providerFor(l2());
    try {
      expect(await p1.getCode(deployment.avsGovernance)).not.toBe("0x");
      const ac = attestationCenter(chain!.attestationCenter, p2);
      expect(getAddress(await ac.obls())).toBe(chain!.obls);
      expect(getAddress(await ac.internalTaskHandler())).toBe(chain!.internalTaskHandler);
      expect(getAddress(await obls(chain!.obls, p2).attestationCenter())).toBe(chain!.attestationCenter);
      const handler = internalTaskHandler(chain!.internalTaskHandler, p2);
      expect(getAddress(await handler.attestationCenter())).toBe(chain!.attestationCenter);
      expect(await ac.hasRole(ROLES.AVS_GOVERNANCE_MULTISIG, deployer)).toBe(true);
      expect(await ac.hasRole(ROLES.MESSAGE_HANDLER, deployer)).toBe(true);
      expect(await obls(chain!.obls, p2).hasRole(ROLES.VOTING_POWER_SYNCER, chain!.internalTaskHandler)).toBe(
        true,
      );
      expect(
        await avsGovernance(deployment.avsGovernance, p1).hasRole(ROLES.AVS_GOVERNANCE_MULTISIG, deployer),
      ).toBe(true);
      expect(await ac.taskNumber()).toBe(1n);
      expect(await ac.numOfTaskDefinitions()).toBe(0n);
    } finally {
      p1.destroy();
      p2.destroy();
    }
  });

  it("registers operators on L1 with their BLS proof and mirrors them to L2 with their stake", async () => {
    const chain = deployment.l2[0]!;
    const registered = [];
    for (const [key, stake] of [
      [AGGREGATOR, 0n],
      [PERFORMER, 0n],
      ...ATTESTERS.slice(0, 3).map((k) => [k, ETH] as const),
    ] as const) {
      registered.push(
        await registerOperator({
          l1: { rpcUrl: l1().rpcUrl, avsGovernance: deployment.avsGovernance },
          l2: [{ rpcUrl: l2().rpcUrl, attestationCenter: chain.attestationCenter }],
          operatorKey: key!,
          messageHandlerKey: DEPLOYER!,
          governanceKey: DEPLOYER!,
          stake,
        }),
      );
    }
    expect(registered.map((r) => r.l2[0]!.operatorId)).toEqual([1, 2, 3, 4, 5]);
    expect(registered.map((r) => r.votingPower)).toEqual([0n, 0n, ETH, ETH, ETH]);
    const p1 = providerFor(l1());
    const p2 = providerFor(l2());
    try {
      const gov = avsGovernance(deployment.avsGovernance, p1);
      expect(await gov.numOfActiveOperators()).toBe(5n);
      const attester = new Wallet(ATTESTERS[0]!).address;
      expect(await gov.votingPower(attester)).toBe(ETH);
      expect(await attestationCenter(chain.attestationCenter, p2).votingPower(attester)).toBe(ETH);
      const expected = await blsKeyFromOperatorKey(ATTESTERS[0]!);
      expect(expected.secret).toBe(blsSecretFromSeed(ATTESTERS[0]!));
      expect((await obls(chain.obls, p2).getOperatorBlsKey(3)).map(BigInt)).toEqual([...expected.publicKey]);
      expect((await gov.getOperator(attester)).blsKey.map(BigInt)).toEqual([...expected.publicKey]);
      expect(await obls(chain.obls, p2).totalVotingPower()).toBe(3n * ETH);
      // the G1 twin of each key is registered next to it, so every voter has one
      expect(registered[2]!.blsPublicKeyG1).toEqual(blsPublicKeyG1(expected.secret));
      expect((await obls(chain.obls, p2).getOperatorBlsKeyG1(3)).map(BigInt)).toEqual([
        ...blsPublicKeyG1(expected.secret),
      ]);
      expect(await obls(chain.obls, p2).numOfVotersWithoutG1Key()).toBe(0n);

      // a task of the performer, approved by the three attesters with their derived keys
      const ac = attestationCenter(chain.attestationCenter, new Wallet(AGGREGATOR!, p2));
      const created = await attestationCenter(chain.attestationCenter, new Wallet(DEPLOYER!, p2))[
        SIGNATURES.createNewTaskDefinitionGen2
      ]("e2e", {
        blockExpiry: NEVER,
        baseRewardFeeForAttesters: 0n,
        baseRewardFeeForPerformer: 0n,
        baseRewardFeeForAggregator: 0n,
        disputePeriodBlocks: 0n,
        minimumVotingPower: 0n,
        restrictedAttesterIds: [],
        maximumNumberOfAttesters: 0n,
      });
      await created.wait();
      const performer = new Wallet(PERFORMER!).address;
      const task = { proofOfTask: "QmE2E", data: "0x01", taskPerformer: performer, taskDefinitionId: 1 };
      const th = taskHash({ ...task, performer });
      const vh = voteHash({
        ...task,
        performer,
        attestationCenter: chain.attestationCenter,
        chainId: 31338,
        isApproved: true,
      });
      const signature = aggregateSignatures(
        ATTESTERS.slice(0, 3).map((k) => signVote(blsSecretFromSeed(k!), vh)),
      );
      const receipt = await (
        await ac[SIGNATURES.submitTaskEcdsa](task, {
          isApproved: true,
          tpSignature: signTaskEcdsa(PERFORMER!, th),
          taSignature: signature,
          attestersIds: [3n, 4n, 5n],
        })
      ).wait();
      expect(receipt!.logs.map((l) => ac.interface.parseLog(l)?.name)).toContain("TaskSubmitted");
    } finally {
      p1.destroy();
      p2.destroy();
    }
  });

  it("refuses a registration proof for another key (InvalidAuthSignature) and a second registration", async () => {
    const other = await blsKeyFromOperatorKey(ATTESTERS[4]!);
    const mine = await blsKeyFromOperatorKey(ATTESTERS[3]!);
    const error = await caught(
      registerOperatorL1({
        rpcUrl: l1().rpcUrl,
        avsGovernance: deployment.avsGovernance,
        operatorKey: ATTESTERS[3]!,
        bls: { secret: other.secret, publicKey: mine.publicKey },
      }),
    );
    expect(isAvsctlError(error) && error.code).toBe("TX_REVERTED");
    expect(isAvsctlError(error) && error.details?.error).toBe("InvalidAuthSignature");

    const again = await caught(
      registerOperatorL1({
        rpcUrl: l1().rpcUrl,
        avsGovernance: deployment.avsGovernance,
        operatorKey: ATTESTERS[0]!,
      }),
    );
    expect(isAvsctlError(again) && again.details?.error).toBe("OperatorAlreadyRegistered");
  });

  it("reports an unreachable RPC and a bad key with their codes", async () => {
    const down = await caught(deployL2({ rpcUrl: "http://127.0.0.1:9", privateKey: DEPLOYER! }));
    expect(isAvsctlError(down) && down.code).toBe("RPC_UNREACHABLE");
    const bad = await caught(deployL2({ rpcUrl: l2().rpcUrl, privateKey: "0x1234" }));
    expect(isAvsctlError(bad) && bad.code).toBe("INVALID_KEY");
  });
});

describe("generation 1 test contract", () => {
  it("speaks only generation 1: definitions from 1, gen 1 events, gen 2 calls refused", async () => {
    const provider = providerFor(l2());
    try {
      const deployer = new Wallet(DEPLOYER!, provider);
      const artifact = loadArtifact("AttestationCenterGen1");
      const factory = new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode, deployer);
      const contract = await factory.deploy(deployer.address);
      await contract.waitForDeployment();
      const address = await contract.getAddress();
      const create = contract.getFunction(
        "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[]))",
      );
      const params = [NEVER, 0n, 0n, 0n, 0n, 0n, []];
      expect(await create.staticCall("one", params)).toBe(1n);
      const receipt = await (await create("one", params)).wait();
      expect(receipt!.logs[0]!.topics[0]!.startsWith("0x4306a9df")).toBe(true);
      await (await contract.getFunction("setTaskDefinitionRestrictedOperators")(1, [2n, 3n])).wait();
      expect(await contract.getFunction("getTaskDefinitionRestrictedOperators")(1)).toEqual([2n, 3n]);

      const performer = new Wallet(PERFORMER!).address;
      const task = { proofOfTask: "QmGen1", data: "0x", taskPerformer: performer, taskDefinitionId: 1 };
      const submit = await contract.getFunction(SIGNATURES.submitTaskGen1)(
        task,
        true,
        signTaskEcdsa(PERFORMER!, taskHash({ ...task, performer })),
        [0n, 0n],
        [],
      );
      const submitted = await submit.wait();
      expect(submitted!.logs[0]!.topics[0]!.startsWith("0xde1faaa0")).toBe(true);
      expect(submitted!.logs[0]!.topics).toHaveLength(1);

      // a generation 2 call has no function to land on
      const gen2 = contractInterface("AttestationCenter");
      const data = gen2.encodeFunctionData("setTaskDefinitionMaximumNumberOfAttesters", [1, 2n]);
      await expect(deployer.call({ to: address, data })).rejects.toThrow();
    } finally {
      provider.destroy();
    }
  });
});
