/**
 * Where each chain keeps its anvil state: a file under the project's `.avsctl/chains/`
 * (process) or in the chain's own volume (Docker). A leaf module, so starting the chains
 * does not depend on the saved-devnet record (persist.ts) that itself names the chains.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { AnvilSpec } from "./launcher.js";
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
): { stateFile: AnvilSpec["stateFile"]; volumes?: DockerVolumeSpec[] } {
  if (kind === "process") {
    mkdirSync(chainStateDir(projectDir), { recursive: true });
    return { stateFile: path.join(chainStateDir(projectDir), `${chain}.json`) };
  }
  return {
    stateFile: `${CONTAINER_STATE}/state.json`,
    volumes: [{ name: `chain-${chain}`, target: CONTAINER_STATE }],
  };
}
