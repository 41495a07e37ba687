import { readFileSync } from "node:fs";
import type { Provider, Wallet } from "ethers";
import { AvsctlError } from "../errors.js";
import { isDevPrivateKey } from "./dev-keys.js";

export interface SignerSpec {
  privateKey?: { value: string; source: string };
  keystore?: { file: string; password: () => Promise<string> };
}

export function normalizePrivateKey(value: string, source: string): `0x${string}` {
  const hex = value.trim().startsWith("0x") ? value.trim() : `0x${value.trim()}`;
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex) || BigInt(hex) === 0n) {
    throw new AvsctlError("INVALID_KEY", `${source}: not a private key (expected 32 bytes of hex)`, {
      details: { argument: source },
    });
  }
  return hex.toLowerCase() as `0x${string}`;
}

/**
 * Turns a signer spec into a connected wallet. The well-known anvil keys are refused on any
 * chain that is not one of the devnet's unless the user allows it explicitly: a CI script
 * pointed at a real network by mistake must not sign with a key the whole world knows.
 */
export async function loadSigner(
  spec: SignerSpec,
  provider: Provider,
  opts: { chainId: number; devnetChainIds: readonly number[]; allowDevKeys: boolean },
): Promise<Wallet> {
  const { Wallet } = await import("ethers");
  let wallet: Wallet;
  if (spec.privateKey) {
    wallet = new Wallet(normalizePrivateKey(spec.privateKey.value, spec.privateKey.source), provider);
  } else if (spec.keystore) {
    const json = readKeystoreFile(spec.keystore.file);
    const password = await spec.keystore.password();
    try {
      const decrypted = await Wallet.fromEncryptedJson(json, password);
      wallet = new Wallet(decrypted.privateKey, provider);
    } catch (error) {
      if (/password/i.test(String((error as Error).message))) {
        throw new AvsctlError("WRONG_PASSWORD", `wrong password for keystore ${spec.keystore.file}`, {
          hint: "check AVSCTL_KEYSTORE_PASSWORD or the password you typed",
          details: { argument: "--keystore" },
        });
      }
      throw new AvsctlError("INVALID_KEY", `${spec.keystore.file} is not an ECDSA keystore`, {
        cause: error,
      });
    }
  } else {
    throw new AvsctlError(
      "MISSING_ARGUMENT",
      "no signer: pass --private-key, --keystore, or set AVSCTL_PRIVATE_KEY",
      {
        details: { argument: "--private-key" },
      },
    );
  }
  if (
    !opts.allowDevKeys &&
    !opts.devnetChainIds.includes(opts.chainId) &&
    isDevPrivateKey(wallet.privateKey)
  ) {
    throw new AvsctlError(
      "DEV_KEY_REFUSED",
      `refusing a well-known anvil test key on chain ${opts.chainId}`,
      {
        hint: "this key is public; use your own key, or pass --allow-dev-keys if this chain is really a test chain",
        details: { argument: "--allow-dev-keys", chainId: opts.chainId },
      },
    );
  }
  return wallet;
}

function readKeystoreFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new AvsctlError("INVALID_ARGUMENT", `--keystore: cannot read ${file}`, {
      details: { argument: "--keystore" },
      cause: error,
    });
  }
}
