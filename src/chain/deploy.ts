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
import { getAddress, getCreateAddress } from "ethers";
import { AvsctlError } from "../errors.js";
import type { ContractName } from "./artifacts.js";

const debug = createDebug("avsctl:chain:deploy");

/** Send as: an RPC URL and a private key, or an ethers signer already connected to a provider. */
export type { ChainSigner } from "./sender.js";

import { type ChainSigner, optionalAddress, withSender } from "./sender.js";

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

export {
  type BlsKeyPair,
  blsKeyFromOperatorKey,
  type MirrorToL2Options,
  mirrorOperatorToL2,
  type RegisteredOnL1,
  type RegisteredOperator,
  type RegisterOperatorL1Options,
  type RegisterOperatorOptions,
  registerOperator,
  registerOperatorL1,
} from "./register.js";
