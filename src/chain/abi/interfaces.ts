import type { Interface } from "ethers";
import { ATTESTATION_CENTER_GEN1, ATTESTATION_CENTER_GEN2 } from "./attestation-center.js";

export interface AttestationCenterInterfaces {
  gen1: Interface;
  gen2: Interface;
}

let cached: AttestationCenterInterfaces | undefined;

/** Both generations' interfaces, built once: either generation's events may appear on one contract. */
export async function attestationCenterInterfaces(): Promise<AttestationCenterInterfaces> {
  if (cached) return cached;
  const { Interface } = await import("ethers");
  cached = {
    gen1: new Interface(ATTESTATION_CENTER_GEN1 as unknown as string[]),
    gen2: new Interface(ATTESTATION_CENTER_GEN2 as unknown as string[]),
  };
  return cached;
}
