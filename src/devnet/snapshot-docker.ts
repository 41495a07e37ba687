/**
 * The node stores of a Docker devnet live in its volumes (`aggregator`, `engine`): a snapshot
 * copies them with a one-off container of the devnet image that mounts those volumes and the
 * snapshot's folder. Saving takes SQLite's own consistent copy (VACUUM INTO) while the writer
 * runs; restoring swaps the files while the writers are stopped.
 */
import { AvsctlError } from "../errors.js";
import { containerName, projectLabels, volumeName } from "./runtime/labels.js";

/** Each store: its volume and its file at the volume's root. */
const STORES = [
  { volume: "aggregator", file: "aggregator.db" },
  { volume: "engine", file: "engine.sqlite" },
];

const SNAP = "/snapshot";

type Docker = import("dockerode");

async function dockerAndImage(project: string): Promise<{ docker: Docker; image: string }> {
  const { dockerClient } = await import("./docker-engine.js");
  const docker = dockerClient();
  const info = await docker.getContainer(containerName(project, "l1")).inspect();
  return { docker, image: info.Config.Image };
}

/** The stores whose volume exists (mounting a missing one would create it, unlabelled). */
async function present(docker: Docker, project: string) {
  const found = [];
  for (const store of STORES) {
    const exists = await docker
      .getVolume(volumeName(project, store.volume))
      .inspect()
      .then(
        () => true,
        () => false,
      );
    if (exists) found.push(store);
  }
  return found;
}

async function runHelper(docker: Docker, project: string, image: string, binds: string[], script: string) {
  const container = await docker.createContainer({
    Image: image,
    Entrypoint: [],
    Cmd: ["node", "-e", script],
    Labels: projectLabels(project),
    HostConfig: { Binds: binds },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    if (StatusCode !== 0) {
      const logs = await container.logs({ stdout: true, stderr: true });
      throw new AvsctlError("COMMAND_FAILED", `copying the devnet's node stores failed: ${logs.toString()}`);
    }
  } finally {
    await container.remove({ force: true }).catch(() => {});
  }
}

/** Copies the stores into `dir` (a folder on this machine); answers the files copied. */
export async function saveDockerStores(project: string, dir: string): Promise<string[]> {
  const { docker, image } = await dockerAndImage(project);
  const stores = await present(docker, project);
  if (stores.length === 0) return [];
  const script = `
    const fs = require("node:fs"); const { DatabaseSync } = require("node:sqlite");
    for (const [volume, file] of ${JSON.stringify(stores.map((s) => [s.volume, s.file]))}) {
      const from = "/v/" + volume + "/" + file;
      if (!fs.existsSync(from)) continue;
      const db = new DatabaseSync(from, { readOnly: true });
      db.exec("VACUUM INTO '${SNAP}/" + file + "'");
      db.close();
    }`;
  const binds = [...stores.map((s) => `${volumeName(project, s.volume)}:/v/${s.volume}`), `${dir}:${SNAP}`];
  await runHelper(docker, project, image, binds, script);
  const { existsSync } = await import("node:fs");
  const path = await import("node:path");
  return stores.map((s) => s.file).filter((f) => existsSync(path.join(dir, f)));
}

/** Puts the snapshot's stores back (the writers are stopped); a store it lacks starts empty. */
export async function restoreDockerStores(project: string, dir: string, saved: string[]): Promise<void> {
  const { docker, image } = await dockerAndImage(project);
  const stores = await present(docker, project);
  if (stores.length === 0) return;
  const script = `
    const fs = require("node:fs");
    const saved = ${JSON.stringify(saved)};
    for (const [volume, file] of ${JSON.stringify(stores.map((s) => [s.volume, s.file]))}) {
      const to = "/v/" + volume + "/" + file;
      for (const f of [to, to + "-wal", to + "-shm"]) fs.rmSync(f, { force: true });
      if (saved.includes(file)) fs.copyFileSync("${SNAP}/" + file, to);
    }`;
  const binds = [
    ...stores.map((s) => `${volumeName(project, s.volume)}:/v/${s.volume}`),
    `${dir}:${SNAP}:ro`,
  ];
  await runHelper(docker, project, image, binds, script);
}
