/**
 * Deployment of our contracts: AvsGovernance on L1; OBLS, AttestationCenter and
 * InternalTaskHandler on each L2, wired to each other at construction; and the registration of
 * operators (on L1 with a BLS registration proof, mirrored to each L2 through
 * registerToNetwork, the devnet's stand-in for the L1->L2 message bridge).
 *
 * Transactions carry explicit nonces and receipts are polled every 50 ms, so a deployment on an
 * automining anvil takes a few hundred milliseconds.
 */

import createDebug from "debug";
import {
  type AbstractSigner,
  ContractFactory,
  getAddress,
  getCreateAddress,
  type InterfaceAbi,
  JsonRpcProvider,
  Network,
  type Provider,
  type TransactionReceipt,
  type TransactionRequest,
  Wallet,
} from "ethers";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { type ContractName, loadArtifact } from "./artifacts.js";
import { attestationCenter, avsGovernance, contractInterface, decodeRevert } from "./contracts.js";
import { fetchChainId } from "./rpc.js";
import { checksumAddress } from "./units.js";

const debug = createDebug("avsctl:chain:deploy");

/** Send as: an RPC URL and a private key, or an ethers signer already connected to a provider. */
export type ChainSigner = { rpcUrl: string; privateKey: string } | { signer: AbstractSigner };

export interface L1Deployment {
  chainId: number;
  avsGovernance: string;
  deployer: string;
  governance: string;
}

export interface L2Deployment {
  chainId: number;
  attestationCenter: string;
  obls: string;
  internalTaskHandler: string;
  deployer: string;
  governance: string;
  messageHandler: string;
}

export interface DevnetDeployment {
  l1: L1Deployment;
  /** Same as l1.avsGovernance. */
  avsGovernance: string;
  /** One entry per L2, in the order given. */
  l2: L2Deployment[];
}

const RECEIPT_POLL_MS = 50;
const RECEIPT_TIMEOUT_MS = 120_000;

/**
 * Sends transactions from one account with locally tracked nonces (so several can be in
 * flight) and waits for receipts by polling. Reverts come back as TX_REVERTED with the custom
 * error decoded by name.
 */
class Sender {
  private nonce: number | undefined;

  private constructor(
    readonly signer: AbstractSigner,
    readonly provider: Provider,
    readonly address: string,
    readonly chainId: number,
    private readonly owned: JsonRpcProvider | undefined,
  ) {}

  static async open(input: ChainSigner): Promise<Sender> {
    if ("signer" in input) {
      const provider = input.signer.provider;
      if (!provider) throw new AvsctlError("INVALID_ARGUMENT", "signer: not connected to a provider");
      const network = await provider.getNetwork();
      return new Sender(
        input.signer,
        provider,
        await input.signer.getAddress(),
        Number(network.chainId),
        undefined,
      );
    }
    const chainId = await fetchChainId(input.rpcUrl);
    const network = Network.from(chainId);
    // no response cache: nonces and receipts must be fresh on every call
    const provider = new JsonRpcProvider(input.rpcUrl, network, {
      staticNetwork: network,
      cacheTimeout: -1,
      pollingInterval: RECEIPT_POLL_MS,
    });
    let wallet: Wallet;
    try {
      wallet = new Wallet(input.privateKey, provider);
    } catch (error) {
      provider.destroy();
      throw new AvsctlError("INVALID_KEY", "not a valid secp256k1 private key", { cause: error });
    }
    return new Sender(wallet, provider, wallet.address, chainId, provider);
  }

  close(): void {
    this.owned?.destroy();
  }

  async nextNonce(): Promise<number> {
    this.nonce ??= await this.provider.getTransactionCount(this.address, "pending");
    return this.nonce++;
  }

  /**
   * Estimate (a revert is decoded here and nothing is sent), then send with the next nonce or
   * the one the request fixes.
   */
  async send(tx: TransactionRequest, action: string): Promise<string> {
    let gasLimit: bigint;
    try {
      gasLimit = await this.provider.estimateGas({ ...tx, from: this.address });
    } catch (error) {
      throw chainError(error, action);
    }
    const nonce = tx.nonce ?? (await this.nextNonce());
    try {
      const response = await this.signer.sendTransaction({ ...tx, nonce, gasLimit: (gasLimit * 12n) / 10n });
      debug("%s: sent %s (nonce %d)", action, response.hash, nonce);
      return response.hash;
    } catch (error) {
      // the nonce may or may not have been used: ask the node next time
      this.nonce = undefined;
      throw chainError(error, action);
    }
  }

  async wait(hash: string, action: string): Promise<TransactionReceipt> {
    const deadline = Date.now() + RECEIPT_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const receipt = await this.provider.getTransactionReceipt(hash);
      if (receipt) {
        if (receipt.status !== 1) {
          throw new AvsctlError("TX_REVERTED", `${action} reverted on-chain (tx ${hash})`, {
            details: { txHash: hash },
          });
        }
        return receipt;
      }
      await new Promise((resolve) => setTimeout(resolve, RECEIPT_POLL_MS));
    }
    throw new AvsctlError(
      "TIMEOUT",
      `${action}: no receipt for ${hash} within ${RECEIPT_TIMEOUT_MS / 1000} s`,
    );
  }

  async run(tx: TransactionRequest, action: string): Promise<TransactionReceipt> {
    return this.wait(await this.send(tx, action), action);
  }

  async deployTx(name: ContractName, args: unknown[]): Promise<TransactionRequest> {
    const artifact = loadArtifact(name);
    const factory = new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode);
    return factory.getDeployTransaction(...args);
  }
}

function chainError(error: unknown, action: string): AvsctlError {
  if (isAvsctlError(error)) return error;
  const decoded = decodeRevert(error);
  if (decoded) {
    const args = Object.entries(decoded.namedArgs)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(", ");
    return new AvsctlError("TX_REVERTED", `${action} reverted: ${decoded.name}(${args})`, {
      details: {
        error: decoded.name,
        args: Object.fromEntries(Object.entries(decoded.namedArgs).map(([k, v]) => [k, String(v)])),
      },
      cause: error,
    });
  }
  const e = error as { code?: string; shortMessage?: string; message?: string };
  if (e?.code === "CALL_EXCEPTION") {
    return new AvsctlError("TX_REVERTED", `${action} reverted: ${e.shortMessage ?? "no reason"}`, {
      cause: error,
    });
  }
  return new AvsctlError("TX_FAILED", `${action} failed: ${e?.shortMessage ?? e?.message ?? String(error)}`, {
    cause: error,
  });
}

async function withSender<T>(input: ChainSigner, fn: (sender: Sender) => Promise<T>): Promise<T> {
  const sender = await Sender.open(input);
  try {
    return await fn(sender);
  } finally {
    sender.close();
  }
}

function optionalAddress(value: string | undefined, name: string, fallback: string): string {
  return value === undefined ? fallback : requireAddress(value, name);
}

const requireAddress = checksumAddress;

export type DeployL1Options = ChainSigner & {
  /** The AVS governance multisig (default: the deployer). */
  governance?: string;
  /** Role admin (default: the deployer). */
  admin?: string;
};

/** Deploy AvsGovernance on an L1. */
export async function deployL1(opts: DeployL1Options): Promise<L1Deployment> {
  return withSender(opts, async (sender) => {
    const governance = optionalAddress(opts.governance, "governance", sender.address);
    const admin = optionalAddress(opts.admin, "admin", sender.address);
    const receipt = await sender.run(
      await sender.deployTx("AvsGovernance", [admin, governance]),
      "deploy AvsGovernance",
    );
    const address = receipt.contractAddress;
    if (!address) throw new AvsctlError("INTERNAL", "AvsGovernance deployment has no contract address");
    debug("AvsGovernance at %s on chain %d", address, sender.chainId);
    return {
      chainId: sender.chainId,
      avsGovernance: getAddress(address),
      deployer: sender.address,
      governance,
    };
  });
}

export type DeployL2Options = ChainSigner & {
  /** The AVS governance multisig: creates task definitions, calls the setters (default: the deployer). */
  governance?: string;
  /** The L1->L2 message handler allowed to (un)register operators (default: the deployer). */
  messageHandler?: string;
  /** Role admin (default: the deployer). */
  admin?: string;
};

/**
 * Deploy OBLS, AttestationCenter and InternalTaskHandler on an L2. Each names the others in
 * its constructor (addresses known in advance from the deployer's nonces), so no wiring
 * transaction follows and OBLS checks its caller without a storage read.
 */
export async function deployL2(opts: DeployL2Options): Promise<L2Deployment> {
  return withSender(opts, async (sender) => {
    const governance = optionalAddress(opts.governance, "governance", sender.address);
    const messageHandler = optionalAddress(opts.messageHandler, "messageHandler", sender.address);
    const admin = optionalAddress(opts.admin, "admin", sender.address);
    const nonces = [await sender.nextNonce(), await sender.nextNonce(), await sender.nextNonce()];
    const [obls, ac, ith] = nonces.map((nonce) => getCreateAddress({ from: sender.address, nonce })) as [
      string,
      string,
      string,
    ];
    const txs: [ContractName, unknown[]][] = [
      ["OBLS", [admin, ac, ith]],
      ["AttestationCenter", [obls, admin, governance, messageHandler, ith]],
      ["InternalTaskHandler", [ac, obls]],
    ];
    // sent back to back (the addresses depend on these exact nonces), then awaited together
    const hashes: string[] = [];
    for (const [i, [name, args]] of txs.entries()) {
      hashes.push(
        await sender.send({ ...(await sender.deployTx(name, args)), nonce: nonces[i] }, `deploy ${name}`),
      );
    }
    const receipts = await Promise.all(hashes.map((h, i) => sender.wait(h, `deploy ${txs[i]![0]}`)));
    const deployed = receipts.map((r) => (r.contractAddress ? getAddress(r.contractAddress) : undefined));
    if (deployed[0] !== obls || deployed[1] !== ac || deployed[2] !== ith) {
      throw new AvsctlError(
        "INTERNAL",
        "L2 contracts landed at unexpected addresses (was the deployer used concurrently?)",
        {
          details: { expected: [obls, ac, ith], actual: deployed },
        },
      );
    }
    debug(
      "L2 chain %d: AttestationCenter %s, OBLS %s, InternalTaskHandler %s",
      sender.chainId,
      ac,
      obls,
      ith,
    );
    return {
      chainId: sender.chainId,
      attestationCenter: ac,
      obls,
      internalTaskHandler: ith,
      deployer: sender.address,
      governance,
      messageHandler,
    };
  });
}

export interface DeployDevnetOptions {
  l1: { rpcUrl: string };
  l2: { rpcUrl: string }[];
  /** Pays for every deployment, on every chain; role admin. */
  deployerKey: string;
  /** Default: the deployer. */
  governance?: string;
  /** Default: the deployer (the devnet relayer then signs with the deployer key). */
  messageHandler?: string;
}

/**
 * Deploy the whole set: AvsGovernance on the L1, then the L2 contracts on every L2. One chain
 * after the other, so that two URLs of the same chain cannot race for the deployer's nonces.
 */
export async function deployDevnetContracts(opts: DeployDevnetOptions): Promise<DevnetDeployment> {
  if (opts.l2.length === 0) throw new AvsctlError("INVALID_ARGUMENT", "l2: at least one L2 chain is needed");
  const l1 = await deployL1({
    rpcUrl: opts.l1.rpcUrl,
    privateKey: opts.deployerKey,
    governance: opts.governance,
  });
  const l2: L2Deployment[] = [];
  for (const chain of opts.l2) {
    l2.push(
      await deployL2({
        rpcUrl: chain.rpcUrl,
        privateKey: opts.deployerKey,
        governance: opts.governance,
        messageHandler: opts.messageHandler,
      }),
    );
  }
  return { l1, avsGovernance: l1.avsGovernance, l2 };
}

/** A BLS key pair in the contracts' layout. */
export interface BlsKeyPair {
  secret: bigint;
  /** [x.c0, x.c1, y.c0, y.c1] */
  publicKey: readonly [bigint, bigint, bigint, bigint];
}

/** The BLS key Othentic's clients derive from an operator's ECDSA key. */
export async function blsKeyFromOperatorKey(operatorKey: string): Promise<BlsKeyPair> {
  const bls = await import("../crypto/bls.js");
  await bls.initBls();
  const secret = bls.blsSecretFromSeed(operatorKey);
  return { secret, publicKey: bls.blsPublicKey(secret) };
}

export interface RegisterOperatorL1Options {
  rpcUrl: string;
  avsGovernance: string;
  /** The operator's ECDSA key (it sends registerAsOperator and pays for it). */
  operatorKey: string;
  /** Default: derived from operatorKey as Othentic's clients do. */
  bls?: BlsKeyPair;
  /** Default: the operator. */
  rewardsReceiver?: string;
  /** Set this stake first, signed by governanceKey. */
  stake?: bigint;
  governanceKey?: string;
}

export interface RegisteredOnL1 {
  operator: string;
  chainId: number;
  blsPublicKey: readonly [bigint, bigint, bigint, bigint];
  rewardsReceiver: string;
  /** AvsGovernance.votingPower(operator) after registration (its stake). */
  votingPower: bigint;
}

/**
 * Register an operator on L1: optionally set its stake (governance), then registerAsOperator
 * with the BLS key and its proof over (operator, AvsGovernance, chain id).
 */
export async function registerOperatorL1(opts: RegisterOperatorL1Options): Promise<RegisteredOnL1> {
  const bls = await import("../crypto/bls.js");
  await bls.initBls();
  const keys = opts.bls ?? (await blsKeyFromOperatorKey(opts.operatorKey));
  const governanceAddress = requireAddress(opts.avsGovernance, "avsGovernance");
  const iface = contractInterface("AvsGovernance");
  return withSender({ rpcUrl: opts.rpcUrl, privateKey: opts.operatorKey }, async (operator) => {
    const rewardsReceiver = optionalAddress(opts.rewardsReceiver, "rewardsReceiver", operator.address);
    if (opts.stake !== undefined) {
      if (!opts.governanceKey) {
        throw new AvsctlError("MISSING_ARGUMENT", "governanceKey: needed to set the operator's stake");
      }
      await withSender({ rpcUrl: opts.rpcUrl, privateKey: opts.governanceKey }, (gov) =>
        gov.run(
          {
            to: governanceAddress,
            data: iface.encodeFunctionData("setStake", [operator.address, opts.stake]),
          },
          "setStake",
        ),
      );
    }
    const proof = bls.signRegistration(keys.secret, operator.address, governanceAddress, operator.chainId);
    await operator.run(
      {
        to: governanceAddress,
        data: iface.encodeFunctionData("registerAsOperator", [keys.publicKey, rewardsReceiver, proof]),
      },
      "registerAsOperator",
    );
    const votingPower = await avsGovernance(governanceAddress, operator.provider).votingPower(
      operator.address,
    );
    return {
      operator: operator.address,
      chainId: operator.chainId,
      blsPublicKey: keys.publicKey,
      rewardsReceiver,
      votingPower,
    };
  });
}

export interface MirrorToL2Options {
  rpcUrl: string;
  attestationCenter: string;
  /** Holder of the MESSAGE_HANDLER role on that AttestationCenter. */
  messageHandlerKey: string;
  operator: string;
  votingPower: bigint;
  blsPublicKey: readonly [bigint, bigint, bigint, bigint];
  rewardsReceiver: string;
}

/** Mirror an L1 registration to one L2 (registerToNetwork); returns the operator's id there. */
export async function mirrorOperatorToL2(
  opts: MirrorToL2Options,
): Promise<{ chainId: number; operatorId: number }> {
  const iface = contractInterface("AttestationCenter");
  const ac = requireAddress(opts.attestationCenter, "attestationCenter");
  return withSender({ rpcUrl: opts.rpcUrl, privateKey: opts.messageHandlerKey }, async (handler) => {
    await handler.run(
      {
        to: ac,
        data: iface.encodeFunctionData("registerToNetwork", [
          opts.operator,
          opts.votingPower,
          opts.blsPublicKey,
          opts.rewardsReceiver,
        ]),
      },
      "registerToNetwork",
    );
    const id = await attestationCenter(ac, handler.provider).operatorsIdsByAddress(opts.operator);
    return { chainId: handler.chainId, operatorId: Number(id) };
  });
}

export interface RegisterOperatorOptions {
  l1: { rpcUrl: string; avsGovernance: string };
  l2: { rpcUrl: string; attestationCenter: string }[];
  operatorKey: string;
  /** Holder of MESSAGE_HANDLER on every L2 (the devnet relayer's key). */
  messageHandlerKey: string;
  bls?: BlsKeyPair;
  rewardsReceiver?: string;
  /** Set on L1 before registering (needs governanceKey); the L2 voting power is the L1 stake. */
  stake?: bigint;
  governanceKey?: string;
}

export interface RegisteredOperator extends RegisteredOnL1 {
  l2: { chainId: number; operatorId: number }[];
}

/**
 * Register an operator on L1 and mirror it to every L2 with voting power = its L1 stake, as
 * the devnet's relayer does. Not safe to run concurrently with the same governance or message
 * handler key (nonces): register operators one after the other.
 */
export async function registerOperator(opts: RegisterOperatorOptions): Promise<RegisteredOperator> {
  const l1 = await registerOperatorL1({
    rpcUrl: opts.l1.rpcUrl,
    avsGovernance: opts.l1.avsGovernance,
    operatorKey: opts.operatorKey,
    bls: opts.bls,
    rewardsReceiver: opts.rewardsReceiver,
    stake: opts.stake,
    governanceKey: opts.governanceKey,
  });
  const l2: { chainId: number; operatorId: number }[] = [];
  for (const chain of opts.l2) {
    l2.push(
      await mirrorOperatorToL2({
        rpcUrl: chain.rpcUrl,
        attestationCenter: chain.attestationCenter,
        messageHandlerKey: opts.messageHandlerKey,
        operator: l1.operator,
        votingPower: l1.votingPower,
        blsPublicKey: l1.blsPublicKey,
        rewardsReceiver: l1.rewardsReceiver,
      }),
    );
  }
  return { ...l1, l2 };
}
