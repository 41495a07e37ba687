/**
 * Issue 16 end to end, with the built CLI as a child process and a real Docker engine: a
 * project made by `avsctl init` in each language runs its own services as containers built
 * from their generated Dockerfiles, unchanged (the base images are the official names; on a
 * machine without a registry, the stand-ins of scripts/stand-in-images.sh), and a task through
 * them is approved on-chain. `devnet down` leaves no container, network, volume or untagged
 * image. The Python and Go journeys also reload (issue 17, `devnet watch` in Docker, on the
 * images built here anyway; test/e2e/devnet/watch.test.ts has TypeScript's): the validation
 * rule edited to reject everything rebuilds that image and replaces that container alone, and
 * the next task is rejected. A Dockerfile whose step fails fails `devnet up`, naming the
 * service and the step, and leaves nothing behind.
 *
 * The image builds install the services' dependencies from their registries, which this
 * machine reaches through a TLS-intercepting proxy: `devnet up` passes the extra certificates
 * of NODE_EXTRA_CA_CERTS (inherited from the test's environment) into the builds.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerClient } from "../../../src/devnet/docker-engine.js";
import { rootHash } from "../../../src/devnet/plan.js";
import { listProjectResources } from "../../../src/devnet/runtime/docker.js";
import { LABEL_IMAGE, LABEL_PROJECT, sanitizeName } from "../../../src/devnet/runtime/labels.js";
import { findLabelledProcesses } from "../../../src/devnet/runtime/process.js";
import { type CliResult, runCli } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";
import {
  editRuleAndWaitReload,
  expectOnlyValidationReloaded,
  type Language,
  Watcher,
} from "../../helpers/watch.js";

const LANGUAGES: Language[] = ["typescript", "python", "go"];

// Cold caches make installs and first image builds slow; none of these is a timing assertion.
const INSTALL_TIMEOUT = 900_000;
const UP_TIMEOUT = 900_000;
const TASK_TIMEOUT = 180_000;
const RELOAD_TIMEOUT = 600_000;

// The services' toolchains run from PATH: the Node that runs the tests (24) comes first.
const ENV = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` };

const run = Math.random().toString(36).slice(2, 8);
let tmp = "";
const roots = {} as Record<Language | "broken", string>;
const inits = {} as Record<Language | "broken", Promise<CliResult>>;
const names = new Set<string>();
const watchers: Watcher[] = [];

function cli(cwd: string, args: string[], timeoutMs = TASK_TIMEOUT): Promise<CliResult> {
  return runCli(args, { cwd, env: ENV, timeoutMs });
}

const why = (r: CliResult) =>
  `exit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;

/**
 * Untagged top-level images that no container uses. Two kinds are not a service build's doing
 * and are not counted: a devnet image that another devnet of this engine still runs is left
 * untagged when a newer avsctl build replaces it (`docker image prune` takes it later), and a
 * build running meanwhile (another project's) holds its latest step's image in a container. Nor is
 * a service image labelled with another project (another test file's reload superseded it).
 */
async function danglingImages(docker: Docker): Promise<Set<string>> {
  const [images, containers] = await Promise.all([
    docker.listImages({ filters: { dangling: ["true"] } }),
    docker.listContainers({ all: true }),
  ]);
  const used = new Set(containers.map((c) => c.ImageID));
  return new Set(
    images
      .filter((i) => i.Labels?.[LABEL_IMAGE] !== "devnet" && !used.has(i.Id))
      // a service image of another test file's project (a reload there supersedes its own)
      .filter((i) => {
        const project = i.Labels?.[LABEL_PROJECT];
        return project === undefined || [...names].some((n) => sanitizeName(n) === project);
      })
      .map((i) => i.Id),
  );
}

function added(before: Set<string>, after: Set<string>): string[] {
  return [...after].filter((id) => !before.has(id));
}

const SETTLE_MS = 30_000;

/**
 * The untagged images added since `before` that stay so. Another test file's build, running
 * meanwhile, passes through them for a moment: a step's image has no child until the next step
 * commits, and an image a reload superseded waits for its container's replacement. What this
 * journey leaked stays; each is described (labels, the step that made it) so a failure says
 * whose it is.
 */
async function leftDangling(docker: Docker, before: Set<string>): Promise<unknown[]> {
  let left = added(before, await danglingImages(docker));
  for (const deadline = Date.now() + SETTLE_MS; left.length > 0 && Date.now() < deadline; ) {
    await new Promise((r) => setTimeout(r, 1_000));
    const now = await danglingImages(docker);
    left = left.filter((id) => now.has(id));
  }
  return Promise.all(
    left.map(async (id) => {
      const image = docker.getImage(id);
      const [info, history] = await Promise.all([
        image.inspect().catch(() => null),
        image.history().catch(() => []),
      ]);
      return {
        id,
        created: info?.Created,
        parent: info?.Parent,
        labels: info?.Config?.Labels,
        steps: (history as { CreatedBy: string }[]).slice(0, 3).map((h) => h.CreatedBy),
      };
    }),
  );
}

/** Nothing of the devnet is left: containers, networks, volumes, processes, state. */
async function nothingLeft(docker: Docker, root: string, name: string): Promise<void> {
  const left = await listProjectResources(docker, name);
  expect([...left.containers, ...left.networks, ...left.volumes]).toEqual([]);
  expect(await findLabelledProcesses({ projectDir: root })).toEqual([]);
  expect(existsSync(path.join(root, ".avsctl", "devnet.json"))).toBe(false);
}

/**
 * `devnet watch` beside a Docker devnet: the validation rule edited to reject everything
 * rebuilds the validation image and replaces that container alone (every other container keeps
 * its id, the old image is gone), and the next task is rejected. Ctrl-C leaves the devnet up.
 */
async function reloadRejects(docker: Docker, root: string, language: Language, state: any): Promise<void> {
  const watcher = new Watcher(["devnet", "watch", "--json"], root, ENV);
  watchers.push(watcher);
  const watching = await watcher.next((e) => e.action === "watching", 60_000);
  expect(watching.services).toContainEqual(
    expect.objectContaining({ service: "validation", runtime: "docker" }),
  );

  const ids = async () =>
    Object.fromEntries(
      (await listProjectResources(docker, state.name)).containers.map((c) => [c.component, c.id]),
    );
  const before = await ids();
  const container = `avsctl-${state.name}-validation`;
  const oldImage = (await docker.getContainer(container).inspect()).Image;
  const reloaded = await editRuleAndWaitReload(watcher, language, root, RELOAD_TIMEOUT);

  const rejected = await cli(root, ["task", "send", "--wait", "--timeout", "120", "--json"]);
  expect(rejected.code, why(rejected)).toBe(1);
  expect(rejected.json().status).toBe("rejected");

  const after = await ids();
  expect(after.validation).toBeDefined();
  expectOnlyValidationReloaded(before, after, watcher, reloaded);
  // the rebuilt image, under the same tag; the one it replaces is not left behind
  const newImage = (await docker.getContainer(container).inspect()).Image;
  expect(newImage).not.toBe(oldImage);
  expect((await docker.getImage(`avsctl/${state.name}-validation:dev`).inspect()).Id).toBe(newImage);
  await expect(docker.getImage(oldImage).inspect()).rejects.toThrow();
  expect(await watcher.interrupt()).toBe(130);
  expect(watcher.events.at(-2)).toEqual({ action: "stopped", devnetRunning: true });
  expect(watcher.events.at(-1).error.code).toBe("INTERRUPTED");
}

describeDocker("projects made by avsctl init, their services in Docker containers", () => {
  const docker = dockerClient();

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), "avsctl-e2e-docker-"));
    for (const language of LANGUAGES) {
      // Unique names: the devnet's name (containers, volumes, images) comes from them.
      roots[language] = path.join(tmp, `dk-${language}-${run}`);
      inits[language] = cli(
        tmp,
        ["init", roots[language], "--yes", "--language", language, "--json"],
        INSTALL_TIMEOUT,
      );
      inits[language].catch(() => {});
    }
    roots.broken = path.join(tmp, `dk-broken-${run}`);
    inits.broken = cli(
      tmp,
      ["init", roots.broken, "--yes", "--template", "blank", "--language", "typescript", "--json"],
      INSTALL_TIMEOUT,
    );
    inits.broken.catch(() => {});
  });

  afterAll(async () => {
    if (!tmp) return;
    for (const watcher of watchers) await watcher.interrupt();
    const all = [...LANGUAGES, "broken"] as const;
    await Promise.all(all.map((key) => inits[key]?.catch(() => undefined)));
    for (const key of all) {
      if (existsSync(path.join(roots[key], "avsctl.config.json")))
        await cli(roots[key], ["devnet", "down", "--volumes", "--json"], 180_000).catch(() => undefined);
    }
    // The service images stay tagged after `down` (a later `up` reuses them): remove this run's.
    for (const name of names) {
      // (a Go service's build stage is kept as `:dev-stage1`, for the cache)
      for (const tag of [
        "execution:dev",
        "validation:dev",
        "execution:dev-stage1",
        "validation:dev-stage1",
      ]) {
        await docker
          .getImage(`avsctl/${name}-${tag}`)
          .remove()
          .catch(() => undefined);
      }
    }
    await rm(tmp, { recursive: true, force: true });
  }, 600_000);

  describe.each(LANGUAGES)("%s", (language) => {
    it("devnet up --runtime docker runs its services as containers; a task is approved; down leaves nothing", {
      timeout: INSTALL_TIMEOUT + UP_TIMEOUT + TASK_TIMEOUT + RELOAD_TIMEOUT,
    }, async () => {
      const root = roots[language];
      const init = await inits[language];
      expect(init.code, why(init)).toBe(0);
      const dangling = await danglingImages(docker);

      // before `up`: an `up` that fails after its builds leaves their images tagged too
      names.add(`${path.basename(root)}-${rootHash(root)}`);
      const up = await cli(root, ["devnet", "up", "--runtime", "docker", "--json"], UP_TIMEOUT);
      expect(up.code, why(up)).toBe(0);
      const state = up.json();
      names.add(state.name);
      expect(state).toMatchObject({
        runtime: "docker",
        healthy: true,
        serviceRuntimes: { execution: "docker", validation: "docker" },
      });

      // `docker ps`: this project's execution and validation containers run its own images.
      const { containers } = await listProjectResources(docker, state.name);
      const running = await docker.listContainers({ filters: { name: [`avsctl-${state.name}-`] } });
      for (const kind of ["execution", "validation"]) {
        expect(containers, kind).toContainEqual(
          expect.objectContaining({
            component: kind,
            state: "running",
            name: `avsctl-${state.name}-${kind}`,
          }),
        );
        const listed = running.find((c) => c.Names.includes(`/avsctl-${state.name}-${kind}`));
        expect(listed?.Image, kind).toBe(`avsctl/${state.name}-${kind}:dev`);
      }
      const status = await cli(root, ["devnet", "status", "--json"]);
      expect(status.code, why(status)).toBe(0);
      expect(status.json().serviceRuntimes).toEqual({ execution: "docker", validation: "docker" });

      // The default route: the CLI asks the execution service, which sends the task.
      const sent = await cli(root, ["task", "send", "--wait", "--timeout", "120", "--json"]);
      expect(sent.code, why(sent)).toBe(0);
      expect(sent.json()).toMatchObject({ status: "approved", performer: state.performer.address });

      if (language !== "typescript") await reloadRejects(docker, root, language, state);

      const down = await cli(root, ["devnet", "down", "--volumes", "--json"], 180_000);
      expect(down.code, why(down)).toBe(0);
      // The IPFS node's volume goes with the devnet's state (--volumes).
      expect(down.json().removed.volumes).toContain(`avsctl-${state.name}-ipfs`);
      await nothingLeft(docker, root, state.name);
      expect(await leftDangling(docker, dangling)).toEqual([]);
    });
  });

  it("a service Dockerfile whose step fails fails devnet up, naming the service and the step; nothing is left", {
    timeout: INSTALL_TIMEOUT + 2 * UP_TIMEOUT,
  }, async () => {
    const root = roots.broken;
    const init = await inits.broken;
    expect(init.code, why(init)).toBe(0);

    // A bundle that cannot be read is refused before anything starts.
    const badCa = await cli(root, [
      "devnet",
      "up",
      "--runtime",
      "docker",
      "--ca-certs",
      "no-such.pem",
      "--json",
    ]);
    expect(badCa.code, why(badCa)).toBe(2);
    expect(badCa.json().error).toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { argument: "--ca-certs" },
    });

    // A step that succeeds (this build commits an image for it), then one that fails.
    const dockerfile = path.join(root, "execution-service", "Dockerfile");
    const failing = `RUN echo "checking ${run}" && exit 3`;
    writeFileSync(
      dockerfile,
      readFileSync(dockerfile, "utf8").replace(
        /^WORKDIR \/app$/m,
        `WORKDIR /app\nRUN echo "${run}" > /tmp/marker\n${failing}`,
      ),
    );
    const since = Math.floor(Date.now() / 1000) - 1;
    const up = await cli(root, ["devnet", "up", "--runtime", "docker", "--json"], UP_TIMEOUT);
    expect(up.code, why(up)).toBe(1);
    const { error } = up.json();
    expect(error.code).toBe("DEVNET_START_FAILED");
    expect(error.message).toContain("execution service");
    expect(error.message).toContain(dockerfile);
    expect(error.message).toContain(failing);
    expect(error.details).toMatchObject({ service: "execution", dockerfile, step: failing });
    expect(error.hint).toContain(`checking ${run}`);

    const name = `${path.basename(root)}-${rootHash(root)}`;
    names.add(name);
    await nothingLeft(docker, root, name);
    // The image this build committed for the step that passed is gone, tagged or not: every
    // image made since has a history without that step (builds of others may run meanwhile).
    const made = (await docker.listImages({ all: true })).filter((i) => i.Created >= since);
    for (const image of made) {
      const history = await docker
        .getImage(image.Id)
        .history()
        .catch(() => []);
      const steps = history.map((h: { CreatedBy?: string }) => h.CreatedBy ?? "").join("\n");
      expect(steps, image.Id).not.toContain(`echo "${run}" > /tmp/marker`);
    }

    // --services-runtime process: the same services run on this machine, no image is built.
    const onHost = await cli(
      root,
      ["devnet", "up", "--runtime", "docker", "--services-runtime", "process", "--json"],
      UP_TIMEOUT,
    );
    expect(onHost.code, why(onHost)).toBe(0);
    expect(onHost.json()).toMatchObject({
      runtime: "docker",
      healthy: true,
      serviceRuntimes: { execution: "process", validation: "process" },
    });
    const { containers } = await listProjectResources(docker, name);
    expect(containers.map((c) => c.component)).not.toContain("execution");
    const sent = await cli(root, ["task", "send", "--wait", "--timeout", "120", "--json"]);
    expect(sent.code, why(sent)).toBe(0);
    expect(sent.json().status).toBe("approved");
    const down = await cli(root, ["devnet", "down", "--volumes", "--json"], 180_000);
    expect(down.code, why(down)).toBe(0);
    expect(down.json().removed.processes.length).toBeGreaterThan(0);
    await nothingLeft(docker, root, name);
  });
});
