/**
 * What `start` gave each container, kept in `<projectDir>/.avsctl/containers/<component>.json`
 * (mode 0600: the env holds the devnet keys). A container removed outside avsctl (`docker rm -f`,
 * a prune, a CI runner's cleanup) takes its labels and env with it; `restart` creates it again
 * from this record: same image, command, env, binds, volumes, host ports and waits.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AvsctlError } from "../../errors.js";
import { sanitizeName } from "./labels.js";
import type { DockerComponentSpec } from "./types.js";

/** A component's spec; a host-port forwarder (host-access.ts) records what it forwards instead. */
export interface ContainerRecord extends DockerComponentSpec {
  forward?: { port: number; listenPort: number };
}

export function containerRecordDir(projectDir: string): string {
  return path.join(projectDir, ".avsctl", "containers");
}

function recordFile(projectDir: string, component: string): string {
  return path.join(containerRecordDir(projectDir), `${sanitizeName(component)}.json`);
}

/** Records a started container, its host ports pinned to the ones it got (the state's URLs name them). */
export function writeContainerRecord(
  projectDir: string,
  spec: ContainerRecord,
  ports: Record<string, number>,
): void {
  const pinned = (spec.ports ?? []).map((entry) => {
    const container = typeof entry === "number" ? entry : entry.container;
    const host = ports[String(container)];
    return host === undefined ? { container } : { container, host };
  });
  mkdirSync(containerRecordDir(projectDir), { recursive: true });
  const file = recordFile(projectDir, spec.name);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...spec, ports: pinned }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}

export function readContainerRecord(projectDir: string, component: string): ContainerRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordFile(projectDir, component), "utf8")) as ContainerRecord;
  } catch {
    return undefined;
  }
}

export function removeContainerRecord(projectDir: string, component: string): void {
  rmSync(recordFile(projectDir, component), { force: true });
}

export function removeContainerRecords(projectDir: string): void {
  rmSync(containerRecordDir(projectDir), { recursive: true, force: true });
}

/**
 * NOT_FOUND for a component the devnet started whose container is gone (`docker rm -f`, a prune,
 * a reload under `devnet watch` whose new container did not start). `restart` creates it
 * again when its record is there; a devnet started by an older avsctl has none, and `up` starts
 * the whole devnet again (its chains from their saved state). `consequence` follows the message
 * as it is (", and ..." or ": ...").
 */
export function containerRemoved(component: string, recorded: boolean, consequence = ""): AvsctlError {
  return new AvsctlError("NOT_FOUND", `the ${component} container was removed${consequence}`, {
    hint: recorded
      ? `\`avsctl devnet restart ${component}\` creates it again as \`devnet up\` started it`
      : "`avsctl devnet up` starts the devnet again as it was started, its chains from their saved state",
    details: { component, removed: true },
  });
}
