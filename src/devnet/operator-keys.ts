import { invalidArgument } from "../errors.js";
import { type DevnetAccount, type DevnetKeys, deriveDevnetKeys } from "./keys.js";
import type { DevnetPlan, PlanDifference, StartedAs, UpFlags } from "./plan.js";

/**
 * `devnet up --operator-keys <dir>`: the attesters run with operators' own keys (ECDSA and
 * BLS, as `keys import` stored them) instead of keys derived from the devnet mnemonic. They are
 * registered with those BLS public keys, so every vote they sign is checked on-chain against
 * the key the operator brought.
 */
export interface OperatorKeys {
  /** The keys directory, as recorded in the devnet state. */
  dir: string;
  /** One attester each, in the directory's name order; `blsSecretKey` is always set. */
  accounts: DevnetAccount[];
}

/**
 * Fits the plan to the operators (one attester each) and refuses what cannot work, before
 * anything starts: a clashing `--attesters`, or a key the devnet already uses for another role.
 */
export async function applyOperatorKeys(
  plan: DevnetPlan,
  operators: OperatorKeys,
  flags: UpFlags,
): Promise<void> {
  const count = operators.accounts.length;
  if (count === 0) throw invalidArgument("--operator-keys", `no operator keys in ${operators.dir}`);
  if (count > 64)
    throw invalidArgument("--operator-keys", `at most 64 attesters; ${operators.dir} has ${count}`);
  if (flags.attesters !== undefined && flags.attesters !== count) {
    throw invalidArgument(
      "--attesters",
      `${operators.dir} holds ${count} operator(s), one attester each; drop --attesters or make them agree`,
    );
  }
  plan.attesters = count;
  const roles = await deriveDevnetKeys(0, plan.mnemonic);
  const taken = new Map(
    [
      ["deployer", roles.deployer],
      ["aggregator", roles.aggregator],
      ["performer", roles.performer],
    ].map(([role, a]) => [(a as DevnetAccount).address.toLowerCase(), role as string]),
  );
  for (const a of operators.accounts) {
    const role = taken.get(a.address.toLowerCase());
    if (role) {
      throw invalidArgument(
        "--operator-keys",
        `${a.address} is the devnet's ${role}; an attester needs an address of its own`,
      );
    }
    taken.set(a.address.toLowerCase(), "another operator in the directory");
  }
}

/** The devnet's keys with the attesters replaced by the operators'. */
export function withOperatorKeys(keys: DevnetKeys, operators: OperatorKeys | undefined): DevnetKeys {
  return operators ? { ...keys, attesters: operators.accounts } : keys;
}

/** Anvil funds only the mnemonic's accounts; an operator pays for its own L1 registration. */
export async function fundOperators(rpcUrls: string[], accounts: DevnetAccount[]): Promise<void> {
  const { connectRpc } = await import("../chain/rpc.js");
  const balance = `0x${(1000n * 10n ** 18n).toString(16)}`;
  for (const url of rpcUrls) {
    const { provider } = await connectRpc(url);
    try {
      for (const a of accounts) await provider.send("anvil_setBalance", [a.address, balance]);
    } finally {
      provider.destroy();
    }
  }
}

/** Where a running devnet's attester keys differ from what `up` asked (nothing is compared without the flag or a record). */
export function operatorKeyDifferences(
  running: Pick<StartedAs, "attesters" | "internal">,
  operators: OperatorKeys | undefined,
): PlanDifference[] {
  const recorded = (running.internal?.plan as { operatorKeys?: string } | undefined)?.operatorKeys;
  if (!operators) {
    return recorded ? [{ flag: "--operator-keys", running: recorded, asked: "none (mnemonic keys)" }] : [];
  }
  const runningAddresses = running.attesters.map((a) => a.address.toLowerCase()).join(",");
  const asked = operators.accounts.map((a) => a.address.toLowerCase()).join(",");
  if (runningAddresses === asked) return [];
  return [{ flag: "--operator-keys", running: recorded ?? "mnemonic keys", asked: operators.dir }];
}
