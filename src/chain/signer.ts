import { AvsctlError } from "../errors.js";
import { isDevPrivateKey } from "./dev-keys.js";

export interface SignerSpec {
  privateKey?: { value: string; source: string };
  /** Opened by src/keys/signer.ts, the one keystore loader. */
  keystore?: { file: string; password: () => Promise<string> };
}

/** secp256k1's group order: a private key is in [1, n). */
const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The key as 0x + 64 lowercase hex; INVALID_KEY naming `source` (never the value) otherwise. */
export function normalizePrivateKey(value: string, source: string): `0x${string}` {
  const hex = value.trim().startsWith("0x") ? value.trim() : `0x${value.trim()}`;
  const problem = !/^0x[0-9a-fA-F]{64}$/.test(hex)
    ? "expected 32 bytes of hex"
    : BigInt(hex) === 0n
      ? "it is zero"
      : BigInt(hex) >= SECP256K1_ORDER
        ? "it is not below the secp256k1 group order"
        : undefined;
  if (problem) {
    throw new AvsctlError("INVALID_KEY", `${source}: not a private key (${problem})`, {
      details: { argument: source },
    });
  }
  return hex.toLowerCase() as `0x${string}`;
}

/**
 * The well-known anvil keys are refused on any chain that is not one of the devnet's unless the
 * user allows it explicitly: a CI script pointed at a real network by mistake must not sign
 * with a key the whole world knows.
 */
export function refuseDevKey(
  privateKey: string,
  opts: { chainId: number; devnetChainIds: readonly number[]; allowDevKeys: boolean },
): void {
  if (!opts.allowDevKeys && !opts.devnetChainIds.includes(opts.chainId) && isDevPrivateKey(privateKey)) {
    throw new AvsctlError(
      "DEV_KEY_REFUSED",
      `refusing a well-known anvil test key on chain ${opts.chainId}`,
      {
        hint: "this key is public; use your own key, or pass --allow-dev-keys if this chain is really a test chain",
        details: { argument: "--allow-dev-keys", chainId: opts.chainId },
      },
    );
  }
}
