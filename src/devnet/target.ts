import { type ChainTarget, resolveTarget, type TargetInput } from "../chain/target.js";
import { readDevnetState } from "./state.js";

/**
 * The chain target of the project in `projectDir`: flags, environment and config first, else
 * the devnet it runs (read here, so the chain layer never reads a devnet's state).
 */
export async function resolveProjectTarget(
  input: Omit<TargetInput, "devnet"> & { projectDir: string },
): Promise<ChainTarget> {
  const { projectDir, ...rest } = input;
  return resolveTarget({ ...rest, devnet: readDevnetState(projectDir) });
}
