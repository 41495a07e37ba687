/**
 * How avsctl runs anvil, wherever it runs it (startAnvil, a devnet's chains as processes or
 * containers, `devnet export`): the binary, and the arguments and environment every chain gets.
 */

import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { AvsctlError } from "../errors.js";

const PLATFORM_PACKAGES: Record<string, string> = {
  "linux-x64": "@foundry-rs/anvil-linux-amd64",
  "linux-arm64": "@foundry-rs/anvil-linux-arm64",
  "darwin-x64": "@foundry-rs/anvil-darwin-amd64",
  "darwin-arm64": "@foundry-rs/anvil-darwin-arm64",
  "win32-x64": "@foundry-rs/anvil-win32-amd64",
};

/**
 * Path of the anvil binary: `AVSCTL_ANVIL_BIN` if set, else the platform package that
 * @foundry-rs/anvil installs (its own `bin.mjs` wrapper would add a node process per chain).
 * Throws TOOLCHAIN_MISSING when neither is there.
 */
export function anvilBinaryPath(): string {
  const override = process.env.AVSCTL_ANVIL_BIN;
  if (override) {
    if (!existsSync(override)) {
      throw new AvsctlError("TOOLCHAIN_MISSING", `AVSCTL_ANVIL_BIN points to a missing file: ${override}`, {
        hint: "unset AVSCTL_ANVIL_BIN or point it at an anvil binary",
      });
    }
    return override;
  }
  const pkg = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  const hint = "reinstall avsctl's dependencies (npm ci) or set AVSCTL_ANVIL_BIN to an anvil binary";
  if (!pkg) {
    throw new AvsctlError("TOOLCHAIN_MISSING", `no anvil build for ${process.platform}-${process.arch}`, {
      hint,
    });
  }
  let manifest: string;
  try {
    manifest = createRequire(import.meta.url).resolve(`${pkg}/package.json`);
  } catch (error) {
    throw new AvsctlError("TOOLCHAIN_MISSING", `the anvil package ${pkg} is not installed`, {
      hint,
      cause: error,
    });
  }
  const bin = path.join(path.dirname(manifest), "bin", process.platform === "win32" ? "anvil.exe" : "anvil");
  if (!existsSync(bin))
    throw new AvsctlError("TOOLCHAIN_MISSING", `anvil binary missing at ${bin}`, { hint });
  return bin;
}

// Old states stay in memory (500 blocks), never ~/.foundry/anvil/tmp: GBs, left when killed.
export const ANVIL_HISTORY_ARGS = ["--max-persisted-states", "0"];

/**
 * anvil's environment: one tokio worker. With more, anvil's miner runs beside the request that
 * adds a batch of transactions, mines the first few of them, then takes the others again before
 * the pool forgot the mined ones and mines them into an empty block: under load most blocks were
 * empty, and every block costs a state root over all storage. With one worker a batch request
 * is taken whole before the miner looks, and lands in one block.
 */
export const ANVIL_ENV: Readonly<Record<string, string>> = { TOKIO_WORKER_THREADS: "1" };
