/**
 * Shared set-up for the contract tests: an L2 deployment on a real anvil with registered
 * operators (aggregator and performer without voting power, attesters with it), and helpers
 * that build, sign and submit tasks with src/crypto.
 */

import { type AbstractSigner, JsonRpcProvider, Network, Wallet } from "ethers";
import { expect } from "vitest";
import type { AnvilInstance } from "../../../src/chain/anvil.js";
import {
  type AttestationCenterContract,
  attestationCenter,
  decodeRevert,
  type OblsContract,
  obls,
  SIGNATURES,
  type TaskDefinitionParamsV2,
  type TaskInfo,
} from "../../../src/chain/contracts.js";
import { deployL2, type L2Deployment } from "../../../src/chain/deploy.js";
import { ANVIL_DEV_PRIVATE_KEYS } from "../../../src/chain/dev-keys.js";
import {
  aggregateSignatures,
  type BlsSecretKey,
  blsPublicKey,
  type G1,
  type G2,
  initBls,
  randomBlsSecret,
  signTaskBls,
  signVote,
} from "../../../src/crypto/bls.js";
import { signTaskEcdsa } from "../../../src/crypto/ecdsa.js";
import { taskHash, voteHash } from "../../../src/crypto/task-hash.js";

export const ETH = 10n ** 18n;
export const NEVER = (1n << 256n) - 1n;
export const DEPLOYER_KEY = ANVIL_DEV_PRIVATE_KEYS[0];
export const AGGREGATOR_KEY = ANVIL_DEV_PRIVATE_KEYS[1];
export const PERFORMER_KEY = ANVIL_DEV_PRIVATE_KEYS[2];
export const OUTSIDER_KEY = ANVIL_DEV_PRIVATE_KEYS[3];

export interface Operator {
  id: bigint;
  address: string;
  secret: BlsSecretKey;
  publicKey: G2;
  votingPower: bigint;
}

export interface Network2 {
  chain: AnvilInstance;
  provider: JsonRpcProvider;
  deployment: L2Deployment;
  /** As the deployer: governance and message handler. */
  ac: AttestationCenterContract;
  /** As the aggregator (operator 1). */
  acAsAggregator: AttestationCenterContract;
  obls: OblsContract;
  deployer: Wallet;
  aggregator: Operator & { wallet: Wallet };
  performer: Operator & { wallet: Wallet; key: string };
  attesters: Operator[];
}

/** A provider without response caching (nonces and state must be fresh between calls). */
export function providerFor(chain: AnvilInstance): JsonRpcProvider {
  const network = Network.from(chain.chainId);
  return new JsonRpcProvider(chain.rpcUrl, network, {
    staticNetwork: network,
    cacheTimeout: -1,
    pollingInterval: 50,
  });
}

/**
 * Deploy the L2 contracts and register: the aggregator (id 1) and the performer (id 2) with no
 * voting power, then one attester per entry of `votingPowers` (ids 3, 4, ...).
 */
export async function setupNetwork(chain: AnvilInstance, votingPowers: bigint[]): Promise<Network2> {
  await initBls();
  const provider = providerFor(chain);
  const deployer = new Wallet(DEPLOYER_KEY, provider);
  const deployment = await deployL2({ signer: deployer });
  const ac = attestationCenter(deployment.attestationCenter, deployer);
  const register = async (address: string, votingPower: bigint, secret: BlsSecretKey): Promise<Operator> => {
    const publicKey = blsPublicKey(secret);
    await (await ac.registerToNetwork(address, votingPower, publicKey, address)).wait();
    return { id: await ac.operatorsIdsByAddress(address), address, secret, publicKey, votingPower };
  };
  const aggregatorWallet = new Wallet(AGGREGATOR_KEY, provider);
  const performerWallet = new Wallet(PERFORMER_KEY, provider);
  const aggregator = {
    ...(await register(aggregatorWallet.address, 0n, randomBlsSecret())),
    wallet: aggregatorWallet,
  };
  const performer = {
    ...(await register(performerWallet.address, 0n, randomBlsSecret())),
    wallet: performerWallet,
    key: PERFORMER_KEY,
  };
  const attesters: Operator[] = [];
  for (const vp of votingPowers) {
    attesters.push(await register(Wallet.createRandom().address, vp, randomBlsSecret()));
  }
  return {
    chain,
    provider,
    deployment,
    ac,
    acAsAggregator: attestationCenter(deployment.attestationCenter, aggregatorWallet),
    obls: obls(deployment.obls, provider),
    deployer,
    aggregator,
    performer,
    attesters,
  };
}

export function definitionParams(overrides: Partial<TaskDefinitionParamsV2> = {}): TaskDefinitionParamsV2 {
  return {
    blockExpiry: NEVER,
    baseRewardFeeForAttesters: 0n,
    baseRewardFeeForPerformer: 0n,
    baseRewardFeeForAggregator: 0n,
    disputePeriodBlocks: 0n,
    minimumVotingPower: 0n,
    restrictedAttesterIds: [],
    maximumNumberOfAttesters: 0n,
    ...overrides,
  };
}

/** Create a generation 2 task definition as governance; returns its id. */
export async function createDefinition(
  net: Network2,
  overrides: Partial<TaskDefinitionParamsV2> = {},
): Promise<number> {
  const ac = net.ac;
  const id = await ac[SIGNATURES.createNewTaskDefinitionGen2].staticCall("test", definitionParams(overrides));
  await (await ac[SIGNATURES.createNewTaskDefinitionGen2]("test", definitionParams(overrides))).wait();
  return Number(id);
}

let taskCounter = 0;

/** A task of the network's performer with a unique proof. */
export function newTask(net: Network2, taskDefinitionId: number, data = "0x3132332e3435"): TaskInfo {
  taskCounter += 1;
  return {
    proofOfTask: `QmTestProof${taskCounter}-${Date.now()}`,
    data,
    taskPerformer: net.performer.address,
    taskDefinitionId,
  };
}

export function hashOf(task: TaskInfo): string {
  return taskHash({
    ...task,
    performer: task.taskPerformer,
    taskDefinitionId: Number(task.taskDefinitionId),
  });
}

export function voteOf(net: Network2, task: TaskInfo, isApproved: boolean): string {
  return voteHash({
    ...task,
    performer: task.taskPerformer,
    taskDefinitionId: Number(task.taskDefinitionId),
    attestationCenter: net.deployment.attestationCenter,
    chainId: net.chain.chainId,
    isApproved,
  });
}

export interface SubmitOptions {
  isApproved?: boolean;
  /** Who signs the vote (default: all attesters). */
  signers?: Operator[];
  /** The ids claimed as signers (default: the signers' ids, ascending). */
  ids?: bigint[];
  /** ECDSA performer signature (default: the performer's, of the task hash). */
  tpSignature?: string;
  /** Sends as this signer instead of the aggregator. */
  as?: AbstractSigner;
}

/** Submit with an ECDSA performer signature; resolves to the receipt. */
export async function submitEcdsa(net: Network2, task: TaskInfo, opts: SubmitOptions = {}) {
  const isApproved = opts.isApproved ?? true;
  const signers = opts.signers ?? net.attesters;
  const ids = opts.ids ?? signers.map((s) => s.id).sort((a, b) => (a < b ? -1 : 1));
  const taSignature = aggregateSignatures(
    signers.map((s) => signVote(s.secret, voteOf(net, task, isApproved))),
  );
  const ac = opts.as ? attestationCenter(net.deployment.attestationCenter, opts.as) : net.acAsAggregator;
  const tx = await ac[SIGNATURES.submitTaskEcdsa](task, {
    isApproved,
    tpSignature: opts.tpSignature ?? signTaskEcdsa(PERFORMER_KEY, hashOf(task)),
    taSignature,
    attestersIds: ids,
  });
  return (await tx.wait())!;
}

/** Submit with a BLS performer signature made with `performerSecret` (default: the performer's key). */
export async function submitBls(
  net: Network2,
  task: TaskInfo,
  performerSecret: BlsSecretKey = net.performer.secret,
) {
  const signers = net.attesters;
  const taSignature = aggregateSignatures(signers.map((s) => signVote(s.secret, voteOf(net, task, true))));
  const tx = await net.acAsAggregator[SIGNATURES.submitTaskBls](task, {
    isApproved: true,
    tpSignature: signTaskBls(performerSecret, hashOf(task)),
    taSignature,
    attestersIds: signers.map((s) => s.id),
  });
  return (await tx.wait())!;
}

/** The arguments of one submitTask call built by hand (hints go after them). */
export interface SubmitCall {
  signers: Operator[];
  /** Default: the signers' ids. */
  ids?: bigint[];
  /** Replaces the signers' aggregate. */
  taSignature?: G1;
  /** BLS performer signature (default: ECDSA). */
  blsPerformer?: G1;
  /** Default: an approval. */
  isApproved?: boolean;
}

/** submitTask's calldata without hints, the attester ids it claims and the vote hash they sign. */
export function submitCalldata(
  net: Network2,
  task: TaskInfo,
  o: SubmitCall,
): { data: string; ids: bigint[]; vote: string } {
  const ids = o.ids ?? o.signers.map((s) => s.id);
  const isApproved = o.isApproved ?? true;
  const vote = voteOf(net, task, isApproved);
  const taSignature = o.taSignature ?? aggregateSignatures(o.signers.map((s) => signVote(s.secret, vote)));
  const data = o.blsPerformer
    ? net.ac.interface.encodeFunctionData(SIGNATURES.submitTaskBls, [
        task,
        { isApproved, tpSignature: o.blsPerformer, taSignature, attestersIds: ids },
      ])
    : net.ac.interface.encodeFunctionData(SIGNATURES.submitTaskEcdsa, [
        task,
        {
          isApproved,
          tpSignature: signTaskEcdsa(PERFORMER_KEY, hashOf(task)),
          taSignature,
          attestersIds: ids,
        },
      ]);
  return { data, ids, vote };
}

/** Sends calldata to the AttestationCenter as the aggregator (gas estimated, so a revert surfaces with its data); the receipt. */
export async function sendAsAggregator(net: Network2, data: string) {
  const tx = await net.aggregator.wallet.sendTransaction({ to: net.deployment.attestationCenter, data });
  return (await tx.wait())!;
}

/** Expect `action` to revert with the custom error `name`; returns the decoded revert. */
export async function expectRevert(action: Promise<unknown> | (() => Promise<unknown>), name: string) {
  let error: unknown;
  try {
    await (typeof action === "function" ? action() : action);
  } catch (e) {
    error = e;
  }
  expect(error, `expected a revert with ${name}`).toBeDefined();
  const decoded = decodeRevert(error);
  expect(decoded?.name, `revert of ${String((error as Error)?.message ?? error).slice(0, 300)}`).toBe(name);
  return decoded!;
}

/** Mine `blocks` empty blocks. */
export async function mine(provider: JsonRpcProvider, blocks: number): Promise<void> {
  await provider.send("anvil_mine", [`0x${blocks.toString(16)}`]);
}
