import type { Provider, Wallet } from "ethers";
import { normalizePrivateKey, refuseDevKey, type SignerSpec } from "../chain/signer.js";
import { AvsctlError } from "../errors.js";
import { readEcdsaKeystoreFile } from "./formats.js";

/**
 * Turns a signer spec into a connected wallet: a raw key, or a keystore opened by the one
 * keystore loader. The well-known anvil keys are refused on any chain that is not one of the
 * devnet's unless the user allows it explicitly.
 */
export async function loadSigner(
  spec: SignerSpec,
  /** null: a key that only signs messages (the task engine's sign-in). */
  provider: Provider | null,
  opts: {
    chainId: number;
    devnetChainIds: readonly number[];
    allowDevKeys: boolean;
    /** The signer flags the command takes, so that the error for none names only those. */
    signerFlags: readonly ("--private-key" | "--keystore")[];
  },
): Promise<Wallet> {
  const { Wallet } = await import("ethers");
  let wallet: Wallet;
  if (spec.privateKey) {
    wallet = new Wallet(normalizePrivateKey(spec.privateKey.value, spec.privateKey.source), provider);
  } else if (spec.keystore) {
    const { file, password } = spec.keystore;
    const key = await readEcdsaKeystoreFile(file, password, { argument: "--keystore" });
    wallet = new Wallet(key.privateKey, provider);
  } else {
    const pass = opts.signerFlags.length > 0 ? `pass ${opts.signerFlags.join(", ")}, or ` : "";
    throw new AvsctlError("MISSING_ARGUMENT", `no signer: ${pass}set AVSCTL_PRIVATE_KEY`, {
      details: { argument: opts.signerFlags[0] ?? "AVSCTL_PRIVATE_KEY" },
    });
  }
  refuseDevKey(wallet.privateKey, opts);
  return wallet;
}
