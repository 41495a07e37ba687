/**
 * Where each chain keeps its anvil state: a file under the project's `.avsctl/chains/`
 * (process) or in the chain's own volume (Docker). A leaf module, so starting the chains
 * does not depend on the saved-devnet record (persist.ts) that itself names the chains.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from "node:fs";
import path from "node:path";
import type { DockerVolumeSpec, RuntimeKind } from "./runtime/types.js";
import { stateDir } from "./state.js";

/** Where a chain's state file lives inside its container (its volume's mount point). */
const CONTAINER_STATE = "/state";

export function chainStateDir(projectDir: string): string {
  return path.join(stateDir(projectDir), "chains");
}

/** The state file argument and, in Docker, the volume that holds it. */
export function chainStorage(
  kind: RuntimeKind,
  projectDir: string,
  chain: string,
): { stateFile: string; volumes?: DockerVolumeSpec[] } {
  if (kind === "process") {
    mkdirSync(chainStateDir(projectDir), { recursive: true });
    return { stateFile: path.join(chainStateDir(projectDir), `${chain}.json`) };
  }
  return {
    stateFile: `${CONTAINER_STATE}/state.json`,
    volumes: [{ name: `chain-${chain}`, target: CONTAINER_STATE }],
  };
}

/** The last copy of a chain's state file known to be whole (process runtime). */
export function goodCopyOf(stateFile: string): string {
  return `${stateFile}.good`;
}

function parses(file: string): boolean {
  try {
    JSON.parse(readFileSync(file, "utf8"));
    return true;
  } catch {
    return false;
  }
}

/**
 * Copies a chain's state file aside when it is whole. anvil rewrites the file in place every
 * second (open with O_TRUNC, then write), so a SIGKILL mid-write leaves it cut short, and anvil
 * then refuses to start from it; the supervisor keeps this copy to start from instead.
 */
export function keepGoodCopy(stateFile: string): boolean {
  if (!existsSync(stateFile) || !parses(stateFile)) return false;
  const good = goodCopyOf(stateFile);
  copyFileSync(stateFile, `${good}.tmp`);
  renameSync(`${good}.tmp`, good);
  return true;
}

/**
 * Before a chain starts again from its state file: a file cut short by a kill is replaced by
 * the last whole copy (what it says is returned, for the log), so the chain comes back with its
 * contracts rather than not at all. Undefined when the file is fine or there is none. Only once
 * no process of the chain runs (the process runtime's start calls it, after the stop): a file
 * anvil is rewriting looks cut short too.
 */
export function repairStateFile(stateFile: string): string | undefined {
  if (!existsSync(stateFile) || parses(stateFile)) return undefined;
  const good = goodCopyOf(stateFile);
  if (!existsSync(good) || !parses(good))
    return `${stateFile} is cut short and there is no whole copy to start from`;
  renameSync(stateFile, `${stateFile}.cut`);
  copyFileSync(good, stateFile);
  return `${stateFile} was cut short (killed while saving): started from its last whole copy (${statSync(good).mtime.toISOString()})`;
}

/** The `--state <file>` of an anvil command line, if any. */
export function stateFileOf(args: readonly string[]): string | undefined {
  const i = args.indexOf("--state");
  return i >= 0 ? args[i + 1] : undefined;
}
