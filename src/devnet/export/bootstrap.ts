import { jsonRpc } from "../../chain/json-rpc.js";
import type { AvsctlConfig } from "../../config/schema.js";
import { AvsctlError, invalidArgument } from "../../errors.js";
import { deriveDevnetKeys } from "../keys.js";

export interface BootstrapResult {
  /** The contracts were there already (a restarted job): nothing was sent. */
  alreadyDone: boolean;
  avsGovernance: string;
  attestationCenters: string[];
  taskDefinitions: Array<{ taskDefinitionId: number; name: string }>;
}

/** `L2_RPC` in Othentic's forms: `url`, or `chainId@url,chainId@url`. */
function parseChainUrls(value: string): string[] {
  return value
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => part.replace(/^\d+@/, ""));
}

/**
 * The exported topology's one-shot job (hidden `devnet bootstrap`): what `devnet up` does to
 * fresh chains, driven by the Othentic environment names (`L1_RPC`, `L2_RPC`, and the expected
 * `AVS_GOVERNANCE_ADDRESS` / `ATTESTATION_CENTER_ADDRESS`). Idempotent: a rerun finds the
 * contracts and sends nothing.
 */
export async function bootstrapDevnet(opts: {
  env: NodeJS.ProcessEnv;
  attesters: number;
  progress?: (step: string) => void;
}): Promise<BootstrapResult> {
  const { env } = opts;
  if (!env.L1_RPC) throw invalidArgument("L1_RPC", "the L1 RPC URL is required");
  if (!env.L2_RPC) throw invalidArgument("L2_RPC", "the L2 RPC URL(s) are required");
  const l1RpcUrl = env.L1_RPC;
  const l2RpcUrls = parseChainUrls(env.L2_RPC);
  const expectedGovernance = env.AVS_GOVERNANCE_ADDRESS;
  const expectedCenters = env.ATTESTATION_CENTER_ADDRESS
    ? parseChainUrls(env.ATTESTATION_CENTER_ADDRESS)
    : [];
  if (
    expectedGovernance &&
    (await jsonRpc(l1RpcUrl, "eth_getCode", [expectedGovernance, "latest"], { timeoutMs: 5_000 })) !== "0x"
  ) {
    return {
      alreadyDone: true,
      avsGovernance: expectedGovernance,
      attestationCenters: expectedCenters,
      taskDefinitions: [],
    };
  }
  let taskDefinitions: AvsctlConfig["taskDefinitions"] = [];
  if (env.AVSCTL_TASK_DEFINITIONS) {
    try {
      taskDefinitions = JSON.parse(env.AVSCTL_TASK_DEFINITIONS);
    } catch {
      throw invalidArgument("AVSCTL_TASK_DEFINITIONS", "expected the config's taskDefinitions as JSON");
    }
  }
  const keys = await deriveDevnetKeys(opts.attesters, env.AVSCTL_DEVNET_MNEMONIC || undefined);
  const { deployAndRegister } = await import("../up/register.js");
  const done = await deployAndRegister({
    l1RpcUrl,
    l2RpcUrls,
    keys,
    taskDefinitions,
    engine: env.AVSCTL_ENGINE === "1",
    progress: opts.progress,
  });
  const got = {
    avsGovernance: done.deployment.avsGovernance,
    attestationCenters: done.deployment.l2.map((d) => d.attestationCenter),
  };
  const same = (a: string | undefined, b: string) => !a || a.toLowerCase() === b.toLowerCase();
  if (
    !same(expectedGovernance, got.avsGovernance) ||
    expectedCenters.some((c, i) => !same(c, got.attestationCenters[i] ?? ""))
  ) {
    throw new AvsctlError(
      "DEVNET_START_FAILED",
      `the contracts were deployed at other addresses than the nodes expect (AvsGovernance ${got.avsGovernance}, ` +
        `AttestationCenter ${got.attestationCenters.join(", ")})`,
      { hint: "the chains were not fresh: remove their containers (or volumes) and start again" },
    );
  }
  return { alreadyDone: false, ...got, taskDefinitions: done.taskDefinitions };
}
