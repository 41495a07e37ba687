/**
 * The compiled contracts (artifacts/<Name>.json, written by scripts/compile-contracts.mjs at
 * build time). Read lazily and cached, from the package root found relative to this file, so
 * it works from src/ under vitest and from dist/ in the installed CLI alike.
 */

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { AvsctlError } from "../errors.js";

/** The contracts we deploy; AttestationCenterGen1 is a test-only generation 1 stand-in. */
export const CONTRACT_NAMES = [
  "AttestationCenter",
  "OBLS",
  "AvsGovernance",
  "InternalTaskHandler",
  "AttestationCenterGen1",
] as const;

export type ContractName = (typeof CONTRACT_NAMES)[number];

/** One entry of a Solidity JSON ABI. */
export interface AbiItem {
  type: "function" | "event" | "error" | "constructor" | "receive" | "fallback";
  name?: string;
  inputs?: AbiParameter[];
  outputs?: AbiParameter[];
  stateMutability?: "pure" | "view" | "nonpayable" | "payable";
  anonymous?: boolean;
}

export interface AbiParameter {
  name: string;
  type: string;
  internalType?: string;
  indexed?: boolean;
  components?: AbiParameter[];
}

export interface Artifact {
  contractName: ContractName;
  abi: AbiItem[];
  /** Creation bytecode, 0x-prefixed. */
  bytecode: `0x${string}`;
}

const cache = new Map<ContractName, Artifact>();

/** The package root: the directory above src/ (vitest) or dist/ (built CLI). */
export function packageRoot(): string {
  // this file is <root>/src/chain/artifacts.ts or <root>/dist/chain/artifacts.js
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..");
}

/** Where the artifacts live. */
export function artifactsDir(): string {
  return join(packageRoot(), "artifacts");
}

/**
 * The ABI and bytecode of a contract. Throws TOOLCHAIN_MISSING when the contracts were not
 * compiled (a source checkout before `npm run build`).
 */
export function loadArtifact(name: ContractName): Artifact {
  const hit = cache.get(name);
  if (hit) return hit;
  if (!(CONTRACT_NAMES as readonly string[]).includes(name)) {
    throw new AvsctlError("INTERNAL", `unknown contract ${String(name)}`);
  }
  const file = join(artifactsDir(), `${name}.json`);
  if (!existsSync(file)) {
    throw new AvsctlError("TOOLCHAIN_MISSING", `the compiled contract ${name} is missing (${file})`, {
      hint: "run `npm run build:contracts` (or `npm run build`) in the avsctl checkout",
      details: { file },
    });
  }
  let parsed: Artifact;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as Artifact;
  } catch (error) {
    throw new AvsctlError("TOOLCHAIN_MISSING", `the compiled contract ${name} is unreadable (${file})`, {
      hint: "run `npm run build:contracts` again",
      details: { file },
      cause: error,
    });
  }
  if (
    !Array.isArray(parsed.abi) ||
    typeof parsed.bytecode !== "string" ||
    !parsed.bytecode.startsWith("0x")
  ) {
    throw new AvsctlError(
      "TOOLCHAIN_MISSING",
      `the compiled contract ${name} has no ABI or bytecode (${file})`,
      {
        hint: "run `npm run build:contracts` again",
        details: { file },
      },
    );
  }
  cache.set(name, parsed);
  return parsed;
}

/** Just the ABI of a contract. */
export function loadAbi(name: ContractName): AbiItem[] {
  return loadArtifact(name).abi;
}
