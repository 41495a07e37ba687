import type { Wallet } from "ethers";
import { detectGeneration, type GenerationReport } from "../chain/generation.js";
import type { SignerSpec } from "../chain/signer.js";
import { type ChainTarget, checkTargetFlags, type TargetInput } from "../chain/target.js";
import type { LoadedConfig } from "../config/load.js";
import { resolveProjectTarget } from "../devnet/target.js";
import { loadSigner } from "../keys/signer.js";
import { TaskDefClient } from "./client.js";

/** Which AttestationCenter a task-def command talks to, and how it signs. */
export interface TaskDefTargetOptions {
  project: Pick<LoadedConfig, "root" | "config"> & Partial<Pick<LoadedConfig, "sources">>;
  rpcUrl?: string;
  attestationCenter?: string;
  chainId?: number;
  abi: "auto" | "gen1" | "gen2";
  /** The signer by precedence, given the devnet deployer's key when the target is the devnet. */
  signer: (devnetDeployerKey: string | undefined) => SignerSpec;
  allowDevKeys: boolean;
}

/** What the command ran against, for its report. */
export interface TargetInfo {
  chainId: number;
  attestationCenter: `0x${string}`;
  generation: GenerationReport;
}

export interface TaskDefSession {
  target: ChainTarget;
  generation: GenerationReport;
  client: TaskDefClient;
  info: TargetInfo;
  signer(): Promise<Wallet>;
}

function targetInput(opts: TaskDefTargetOptions): Omit<TargetInput, "devnet"> & { projectDir: string } {
  return {
    projectDir: opts.project.root,
    config: opts.project.config,
    rpcUrl: opts.rpcUrl,
    attestationCenter: opts.attestationCenter,
    chainId: opts.chainId,
    targetFlags: true,
    sources: opts.project.sources,
  };
}

/**
 * Runs `work` against the target's AttestationCenter (its generation detected unless --abi
 * says), closing the connection after. `check` runs once the flags are known good and before
 * anything connects, so a bad value exits 2 whatever the network does.
 */
export async function withTaskDefSession<T>(
  opts: TaskDefTargetOptions,
  work: (s: TaskDefSession) => Promise<T>,
  check: () => void = () => {},
): Promise<T> {
  const input = targetInput(opts);
  checkTargetFlags(input);
  check();
  const target = await resolveProjectTarget(input);
  try {
    const wanted = opts.abi === "auto" ? opts.project.config.network.abi : opts.abi;
    const generation: GenerationReport =
      wanted === "auto"
        ? await detectGeneration(target.provider, target.attestationCenter)
        : { generation: wanted, method: "flag", implementation: target.attestationCenter };
    const client = await TaskDefClient.open(target, generation);
    return await work({
      target,
      generation,
      client,
      info: { chainId: target.chainId, attestationCenter: target.attestationCenter, generation },
      signer: () =>
        loadSigner(opts.signer(target.devnet?.deployer.privateKey), target.provider, {
          chainId: target.chainId,
          devnetChainIds: target.devnetChainIds,
          allowDevKeys: opts.allowDevKeys,
          signerFlags: ["--private-key", "--keystore"],
        }),
    });
  } finally {
    target.provider.destroy();
  }
}
