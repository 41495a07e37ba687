import type { Contract } from "ethers";

/**
 * An ethers Contract whose ABI methods tests call by name. ethers types them as an index
 * signature, which `noUncheckedIndexedAccess` reads as possibly undefined.
 */
export type LooseContract = Contract & Record<string, any>;
