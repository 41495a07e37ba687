import { ANVIL_MNEMONIC } from "../chain/dev-keys.js";

export interface DevnetAccount {
  address: string;
  privateKey: string;
  /** An imported operator's own BLS secret (0x-hex); unset: derived from privateKey. */
  blsSecretKey?: string;
}

export interface DevnetKeys {
  mnemonic: string;
  /** True for anvil's public test mnemonic: fine for a devnet, never for a real network. */
  insecure: boolean;
  deployer: DevnetAccount;
  aggregator: DevnetAccount;
  performer: DevnetAccount;
  attesters: DevnetAccount[];
}

/** Accounts anvil must fund: deployer, aggregator, performer, the attesters and two spare. */
export function accountsNeeded(attesters: number): number {
  return 3 + attesters + 2;
}

/**
 * Every devnet role's key, derived from one mnemonic (BIP-44 m/44'/60'/0'/0/i, as anvil funds
 * them): 0 deployer (governance, message handler), 1 aggregator, 2 performer, 3.. attesters.
 */
export async function deriveDevnetKeys(
  attesters: number,
  mnemonic: string = ANVIL_MNEMONIC,
): Promise<DevnetKeys> {
  const { HDNodeWallet, Mnemonic } = await import("ethers");
  const phrase = Mnemonic.fromPhrase(mnemonic);
  const at = (i: number): DevnetAccount => {
    const w = HDNodeWallet.fromMnemonic(phrase, `m/44'/60'/0'/0/${i}`);
    return { address: w.address, privateKey: w.privateKey };
  };
  return {
    mnemonic,
    insecure: mnemonic === ANVIL_MNEMONIC,
    deployer: at(0),
    aggregator: at(1),
    performer: at(2),
    attesters: Array.from({ length: attesters }, (_, i) => at(3 + i)),
  };
}
