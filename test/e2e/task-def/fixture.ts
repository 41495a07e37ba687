/**
 * Shared set-up for the task-def and keys end-to-end tests: contracts deployed on a real anvil
 * with src/chain/deploy.ts (the deployer is the AVS governance), the built CLI run as a child
 * process in an empty project directory, and chain reads made with ethers and the compiled
 * artifacts' ABI, independently of the ABI the CLI itself uses.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, ContractFactory, type InterfaceAbi, JsonRpcProvider, Network, Wallet } from "ethers";
import { afterAll, beforeAll, expect } from "vitest";
import type { AnvilInstance } from "../../../src/chain/anvil.js";
import { loadArtifact } from "../../../src/chain/artifacts.js";
import { ROLES } from "../../../src/chain/contracts.js";
import { deployL2 } from "../../../src/chain/deploy.js";
import { ANVIL_DEV_ADDRESSES, ANVIL_DEV_PRIVATE_KEYS } from "../../../src/chain/dev-keys.js";
import { rpc } from "../../helpers/anvil.js";
import { type CliResult, runCli } from "../../helpers/cli.js";
import type { LooseContract } from "../../helpers/contract.js";

export const DEPLOYER_KEY = ANVIL_DEV_PRIVATE_KEYS[0];
export const DEPLOYER = ANVIL_DEV_ADDRESSES[0];
/** Holds no role on any contract. */
export const OUTSIDER_KEY = ANVIL_DEV_PRIVATE_KEYS[3];
export const OUTSIDER = ANVIL_DEV_ADDRESSES[3];
export const NEVER = ((1n << 256n) - 1n).toString();
export const ETH = 10n ** 18n;

/** docs/protocol.md#contracts. */
export const SELECTOR = {
  createGen1: "0x0c62bf0d",
  createGen2: "0x306fba1c",
  setMinVotingPower: "0x64ada5d0",
  setRestrictedOperators: "0xc8c9e7ab",
  setRestrictedAttesters: "0x58e75c82",
  setMaxAttesters: "0x5fdd0ac7",
} as const;

/** A provider without response caching: every read in a test must see the latest state. */
export function providerFor(chain: AnvilInstance): JsonRpcProvider {
  const network = Network.from(chain.chainId);
  return new JsonRpcProvider(chain.rpcUrl, network, { staticNetwork: network, cacheTimeout: -1 });
}

/** Our AttestationCenter (with OBLS and InternalTaskHandler); the deployer holds every role. */
export async function deployAttestationCenter(chain: AnvilInstance): Promise<string> {
  const d = await deployL2({ rpcUrl: chain.rpcUrl, privateKey: DEPLOYER_KEY });
  return d.attestationCenter;
}

/** The test contract that has nothing but the generation 1 surface; the deployer is governance. */
export async function deployGen1AttestationCenter(chain: AnvilInstance): Promise<string> {
  const provider = providerFor(chain);
  try {
    const deployer = new Wallet(DEPLOYER_KEY, provider);
    const artifact = loadArtifact("AttestationCenterGen1");
    const factory = new ContractFactory(artifact.abi as InterfaceAbi, artifact.bytecode, deployer);
    const contract = await factory.deploy(deployer.address);
    await contract.waitForDeployment();
    return await contract.getAddress();
  } finally {
    provider.destroy();
  }
}

/** A contract handle from the compiled artifact's ABI (not the CLI's hand-written one). */
export function artifactContract(
  name: "AttestationCenter" | "AttestationCenterGen1",
  address: string,
  provider: JsonRpcProvider,
): LooseContract {
  return new Contract(address, loadArtifact(name).abi as InterfaceAbi, provider) as LooseContract;
}

/** An AttestationCenter deployed for one describe block, and what its tests reach it with. */
export interface DeployedCenter {
  address: string;
  provider: JsonRpcProvider;
  /** The contract through the compiled artifact's ABI. */
  contract: LooseContract;
  /** The flags that point the CLI at it: --rpc-url and --attestation-center. */
  flags: string[];
}

/**
 * Deploys our AttestationCenter on the chain in a beforeAll of the calling block (hooks run in
 * order, so later beforeAll hooks of the block may use it) and destroys its provider afterwards.
 */
export function useAttestationCenter(chain: () => AnvilInstance): () => DeployedCenter {
  let deployed: DeployedCenter | undefined;
  beforeAll(async () => {
    const address = await deployAttestationCenter(chain());
    const provider = providerFor(chain());
    const contract = artifactContract("AttestationCenter", address, provider);
    deployed = {
      address,
      provider,
      contract,
      flags: ["--rpc-url", chain().rpcUrl, "--attestation-center", address],
    };
  });
  afterAll(() => deployed?.provider.destroy());
  return () => {
    if (!deployed) throw new Error("useAttestationCenter(): available only inside tests (after beforeAll)");
    return deployed;
  };
}

/** The deployer grants `address` the AVS governance role, so it may manage task definitions. */
export async function grantGovernance(center: DeployedCenter, address: string): Promise<void> {
  const deployer = new Wallet(DEPLOYER_KEY, center.provider);
  const contract = center.contract.connect(deployer) as LooseContract;
  await (await contract.grantRole(ROLES.AVS_GOVERNANCE_MULTISIG, address)).wait();
}

/** Gas money: sets the balance of `address` to 100 ETH. */
export async function fund(chain: AnvilInstance, address: string): Promise<void> {
  await rpc(chain.rpcUrl, "anvil_setBalance", [address, "0x56bc75e2d63100000"]);
}

/** The TaskDefinitionCreated event of a create transaction, decoded with the artifact's ABI. */
export async function createdEvent(
  contract: Contract,
  txHash: string,
): Promise<Record<string, any> & { taskDefinitionId: bigint }> {
  const receipt = await contract.runner!.provider!.getTransactionReceipt(txHash);
  expect(receipt?.status).toBe(1);
  for (const log of receipt!.logs) {
    const parsed = contract.interface.parseLog(log);
    if (parsed?.name === "TaskDefinitionCreated") return parsed.args.toObject(true) as any;
  }
  throw new Error(`no TaskDefinitionCreated in ${txHash}`);
}

export async function nonceOf(chain: AnvilInstance, address: string): Promise<number> {
  return Number(BigInt(await rpc<string>(chain.rpcUrl, "eth_getTransactionCount", [address, "latest"])));
}

export async function blockNumber(chain: AnvilInstance): Promise<number> {
  return Number(BigInt(await rpc<string>(chain.rpcUrl, "eth_blockNumber")));
}

/** Chain state that any sent transaction changes (automine: one block per transaction). */
export async function chainMark(chain: AnvilInstance, address: string = DEPLOYER) {
  return { nonce: await nonceOf(chain, address), block: await blockNumber(chain) };
}

/** A 127.0.0.1 port nobody listens on (taken from the OS, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** An empty project directory per test file (no config, no .env, no devnet state), removed afterwards. */
export function useProjectDir(prefix: string): () => string {
  const dir = mkdtempSync(path.join(tmpdir(), `avsctl-${prefix}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

/** Settings of the developer's shell that would change what the CLI does. */
const CLEAN_ENV: Record<string, undefined> = {
  AVSCTL_KEYSTORE: undefined,
  AVSCTL_KEYSTORE_PASSWORD: undefined,
  PRIVATE_KEY_DEPLOYER: undefined,
  CI: undefined,
};

export interface AvsctlResult extends CliResult {
  /** The parsed --json output. */
  body: any;
}

/**
 * Runs the built CLI with --json in `cwd` and parses stdout (a failure to parse fails the
 * test with the whole output, which is what one wants to see then).
 */
export async function avsctl(
  args: string[],
  opts: { cwd: string; env?: Record<string, string | undefined>; input?: string; json?: boolean },
): Promise<AvsctlResult> {
  const r = await runCli(opts.json === false ? args : [...args, "--json"], {
    cwd: opts.cwd,
    env: { ...CLEAN_ENV, ...opts.env },
    input: opts.input,
    // a CLI that retried a dead endpoint forever would be killed here and fail on its exit code
    timeoutMs: 60_000,
  });
  let body: any;
  if (opts.json !== false) {
    try {
      body = r.json();
    } catch {
      throw new Error(`not one JSON document (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
    }
  }
  return { ...r, body };
}

/** Expect a failure with this exit code and error code; returns the error body. */
export function expectError(r: AvsctlResult, exitCode: number, code: string) {
  expect(r.body?.error?.code, `${r.stdout}\n${r.stderr}`).toBe(code);
  expect(r.code).toBe(exitCode);
  return r.body.error as { code: string; message: string; hint?: string; details?: any };
}

/** Expect success; returns the body. */
export function expectOk(r: AvsctlResult): any {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.body;
}
