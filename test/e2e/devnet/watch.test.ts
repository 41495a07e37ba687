/**
 * Issue 17's reload, end to end with the built CLI as child processes: a TypeScript project
 * made by `avsctl init`, a devnet running its services, and `devnet watch --json` (or
 * `devnet up --watch --json`) beside it. Editing the validation service's rule file to reject
 * everything reloads that service alone: the next task is rejected on-chain, and every other
 * component runs on as the same process (process runtime) or the same container (Docker).
 * Ctrl-C (SIGINT) stops the watch and leaves the devnet running. Python and Go projects (the
 * blank template, the quickest to install) take the same journey once each, in the process
 * runtime: Python's service starts again from its file, Go's is built again by `go run`. Their
 * Docker reloads are a step of test/e2e/init/templates-docker.test.ts, which builds their
 * images anyway.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dockerClient } from "../../../src/devnet/docker-engine.js";
import { DockerRuntime } from "../../../src/devnet/runtime/docker.js";
import { LABEL_PROJECT, sanitizeName } from "../../../src/devnet/runtime/labels.js";
import { ProcessRuntime } from "../../../src/devnet/runtime/process.js";
import { type CliResult, runCli } from "../../helpers/cli.js";
import { describeDocker, dockerAvailable } from "../../helpers/docker.js";
import {
  editRuleAndWaitReload,
  expectOnlyValidationReloaded,
  Watcher as JsonWatcher,
  type Language,
  RULES,
  rejectEverything as rejectTemplateRule,
} from "../../helpers/watch.js";

// Installs and first image builds are slow on cold caches; none of these is a timing assertion.
const INSTALL_TIMEOUT = 900_000;
const UP_TIMEOUT = 900_000;
const TASK_TIMEOUT = 180_000;
const RELOAD_TIMEOUT = 600_000;

// The services run `node`: the Node that runs the tests (24) comes first.
const ENV = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` };

let tmp = "";
let root = "";
let rule = "";
let original = "";
const watchers: Watcher[] = [];

const cli = (args: string[], timeoutMs = TASK_TIMEOUT): Promise<CliResult> =>
  runCli(args, { cwd: root, env: ENV, timeoutMs });

const why = (r: CliResult) =>
  `exit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;

/** Makes the project's TypeScript rule reject everything. */
const rejectEverything = (): void => rejectTemplateRule("typescript", rule);

class Watcher extends JsonWatcher {
  constructor(args: string[], cwd = root) {
    super(args, cwd, ENV);
  }
}

async function sendTask(cwd = root): Promise<CliResult> {
  return runCli(["task", "send", "--wait", "--timeout", "120", "--json"], {
    cwd,
    env: ENV,
    timeoutMs: TASK_TIMEOUT,
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-e2e-watch-"));
  root = path.join(tmp, `e2e-watch-${Math.random().toString(36).slice(2, 8)}`);
  const r = await runCli(["init", root, "--yes", "--language", "typescript", "--json"], {
    cwd: tmp,
    env: ENV,
    timeoutMs: INSTALL_TIMEOUT,
  });
  expect(r.code, why(r)).toBe(0);
  rule = path.join(root, "validation-service", "src", "validate.ts");
  original = readFileSync(rule, "utf8");
}, INSTALL_TIMEOUT);

afterAll(async () => {
  for (const watcher of watchers) await watcher.interrupt();
  if (root && existsSync(path.join(root, "avsctl.config.json")))
    await cli(["devnet", "down", "--volumes", "--json"], 240_000).catch(() => undefined);
  // `down` keeps the services' images for the next `up`; this project will not come back. Its
  // untagged ones (a failed run may leave some) have no name to find them by, only its label.
  if (root && (await dockerAvailable())) {
    const docker = dockerClient();
    const reference = [`avsctl/${path.basename(root)}-*`];
    const ours = sanitizeName(path.basename(root));
    const labelled = (
      await docker.listImages({ filters: JSON.stringify({ label: [LABEL_PROJECT] }) })
    ).filter((i) => i.Labels?.[LABEL_PROJECT]?.startsWith(ours));
    for (const image of [
      ...(await docker.listImages({ filters: JSON.stringify({ reference }) })),
      ...labelled,
    ])
      await docker
        .getImage(image.Id)
        .remove({ force: true })
        .catch(() => undefined);
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
}, 600_000);

describe("devnet watch, process runtime", () => {
  let state: any;
  let watcher: Watcher;
  const pids = async () =>
    Object.fromEntries(
      (await new ProcessRuntime({ project: state.name, projectDir: root }).list()).map((c) => [
        c.component,
        c.pid,
      ]),
    );

  it("reloads only the validation service, whose edit rejects the next task", {
    timeout: UP_TIMEOUT + RELOAD_TIMEOUT,
  }, async () => {
    const up = await cli(["devnet", "up", "--runtime", "process", "--json"], UP_TIMEOUT);
    expect(up.code, why(up)).toBe(0);
    state = up.json();

    watcher = new Watcher(["devnet", "watch", "--json"]);
    watchers.push(watcher);
    const watching = await watcher.next((e) => e.action === "watching", 60_000);
    expect(watching.services).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ service: "validation", runtime: "process" }),
        expect.objectContaining({ service: "execution", runtime: "process" }),
      ]),
    );

    const approved = await sendTask();
    expect(approved.code, why(approved)).toBe(0);
    expect(approved.json().status).toBe("approved");

    const before = await pids();
    expect(Object.keys(before).length).toBeGreaterThan(5);
    const from = watcher.events.length;
    rejectEverything();
    const reloaded = await watcher.next(
      (e) => e.service === "validation" && (e.action === "restarted" || e.action === "failed"),
      RELOAD_TIMEOUT,
      from,
    );
    expect(reloaded).toMatchObject({
      action: "restarted",
      service: "validation",
      trigger: path.join("validation-service", "src", "validate.ts"),
    });
    expect(reloaded.ms).toEqual(expect.any(Number));

    const rejected = await sendTask();
    expect(rejected.code, why(rejected)).toBe(1);
    expect(rejected.json().status).toBe("rejected");

    // one reload, of one service, for the one edit
    expectOnlyValidationReloaded(before, await pids(), watcher, reloaded);
  });

  it("a service that does not start again is reported, and watching goes on", {
    timeout: RELOAD_TIMEOUT,
  }, async () => {
    expect(watcher, "the watch did not start").toBeDefined();
    const fixed = readFileSync(rule, "utf8");
    let from = watcher.events.length;
    writeFileSync(rule, `${fixed}\nexport const broken = ;\n`);
    const failed = await watcher.next((e) => e.action === "failed", RELOAD_TIMEOUT, from);
    expect(failed).toMatchObject({ service: "validation", previousKept: false });
    expect(failed.error).toEqual(expect.any(String));

    from = watcher.events.length;
    writeFileSync(rule, fixed);
    const again = await watcher.next(
      (e) => e.action === "restarted" || e.action === "failed",
      RELOAD_TIMEOUT,
      from,
    );
    expect(again).toMatchObject({ action: "restarted", service: "validation" });
  });

  it("Ctrl-C stops the watch and leaves the devnet running", { timeout: 120_000 }, async () => {
    expect(watcher, "the watch did not start").toBeDefined();
    expect(await watcher.interrupt()).toBe(130);
    expect(watcher.events.at(-2)).toEqual({ action: "stopped", devnetRunning: true });
    expect(watcher.events.at(-1).error.code).toBe("INTERRUPTED");
    const status = await cli(["devnet", "status", "--json"]);
    expect(status.code, why(status)).toBe(0);
    expect(status.json().healthy).toBe(true);
  });

  it("devnet down", { timeout: 240_000 }, async () => {
    writeFileSync(rule, original);
    const down = await cli(["devnet", "down", "--volumes", "--json"], 240_000);
    expect(down.code, why(down)).toBe(0);
  });
});

/**
 * One journey for a language other than TypeScript: `init --template blank`, a process devnet,
 * `devnet watch`; an approved task, the rule edited to reject, one reload of the validation
 * service alone, a rejected task, the same PIDs for every other component; then down.
 */
function otherLanguageJourney(language: Exclude<Language, "typescript">): void {
  describe(`devnet watch, process runtime, ${language}`, () => {
    let dir = "";
    const run = (args: string[], timeoutMs = TASK_TIMEOUT) => runCli(args, { cwd: dir, env: ENV, timeoutMs });

    afterAll(async () => {
      if (dir && existsSync(path.join(dir, "avsctl.config.json")))
        await run(["devnet", "down", "--volumes", "--json"], 240_000).catch(() => undefined);
    }, 300_000);

    it("reloads only the validation service, whose edit rejects the next task", {
      timeout: INSTALL_TIMEOUT + UP_TIMEOUT + RELOAD_TIMEOUT,
    }, async () => {
      dir = path.join(tmp, `e2e-watch-${language}-${Math.random().toString(36).slice(2, 8)}`);
      const init = await runCli(
        ["init", dir, "--yes", "--template", "blank", "--language", language, "--json"],
        { cwd: tmp, env: ENV, timeoutMs: INSTALL_TIMEOUT },
      );
      expect(init.code, why(init)).toBe(0);
      const _ruleFile = path.join(dir, "validation-service", ...RULES[language].file);

      const up = await run(["devnet", "up", "--runtime", "process", "--json"], UP_TIMEOUT);
      expect(up.code, why(up)).toBe(0);
      const state = up.json();
      const pids = async () =>
        Object.fromEntries(
          (await new ProcessRuntime({ project: state.name, projectDir: dir }).list()).map((c) => [
            c.component,
            c.pid,
          ]),
        );

      const watcher = new Watcher(["devnet", "watch", "--json"], dir);
      watchers.push(watcher);
      const watching = await watcher.next((e) => e.action === "watching", 60_000);
      expect(watching.services).toContainEqual(
        expect.objectContaining({ service: "validation", runtime: "process" }),
      );

      const approved = await sendTask(dir);
      expect(approved.code, why(approved)).toBe(0);
      expect(approved.json().status).toBe("approved");

      const before = await pids();
      const reloaded = await editRuleAndWaitReload(watcher, language, dir, RELOAD_TIMEOUT);

      const rejected = await sendTask(dir);
      expect(rejected.code, why(rejected)).toBe(1);
      expect(rejected.json().status).toBe("rejected");
      // the attesters send the task hash along, and the service tags its line with it
      const lines = await run(["devnet", "logs", "--task", rejected.json().taskHash, "--json"]);
      expect(lines.code, why(lines)).toBe(0);
      const records = lines.stdout
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l));
      expect(records).toContainEqual(
        expect.objectContaining({
          component: "validation",
          msg: "task validated",
          taskHash: rejected.json().taskHash,
          approved: false,
        }),
      );

      expectOnlyValidationReloaded(before, await pids(), watcher, reloaded);

      expect(await watcher.interrupt()).toBe(130);
      const down = await run(["devnet", "down", "--volumes", "--json"], 240_000);
      expect(down.code, why(down)).toBe(0);
    });
  });
}

otherLanguageJourney("python");
otherLanguageJourney("go");

describeDocker("devnet up --watch, Docker runtime", () => {
  let watcher: Watcher;
  let state: any;
  const containers = async () =>
    Object.fromEntries(
      (await new DockerRuntime({ project: state.name, projectDir: root, docker: dockerClient() }).list()).map(
        (c) => [c.component, c.id],
      ),
    );
  /** The images carrying this project's label: each by its tag, or `<none> <id>` when it has none. */
  const projectImages = async () =>
    (
      await dockerClient().listImages({
        filters: JSON.stringify({ label: [`${LABEL_PROJECT}=${sanitizeName(state.name)}`] }),
      })
    )
      .map((i) => (i.RepoTags ?? []).find((t) => t !== "<none>:<none>") ?? `<none> ${i.Id}`)
      .sort();
  // one image per service, tagged; a superseded one left behind would be an untagged extra
  const serviceImages = () => [`avsctl/${state.name}-execution:dev`, `avsctl/${state.name}-validation:dev`];

  it("rebuilds the validation image and replaces only its container", {
    timeout: UP_TIMEOUT + RELOAD_TIMEOUT,
  }, async () => {
    writeFileSync(rule, original);
    watcher = new Watcher(["devnet", "up", "--runtime", "docker", "--watch", "--json"]);
    watchers.push(watcher);
    // the devnet's state comes first, then the watch's events
    state = await watcher.next((e) => e.runtime === "docker" && e.healthy !== undefined, UP_TIMEOUT);
    expect(state.healthy).toBe(true);
    const watching = await watcher.next((e) => e.action === "watching", 60_000);
    expect(watching.services).toContainEqual(
      expect.objectContaining({ service: "validation", runtime: "docker" }),
    );

    const approved = await sendTask();
    expect(approved.code, why(approved)).toBe(0);
    expect(approved.json().status).toBe("approved");

    const before = await containers();
    expect(await projectImages()).toEqual(serviceImages());
    const docker = dockerClient();
    const runtime = new DockerRuntime({ project: state.name, projectDir: root, docker });
    const oldImage = (await docker.getContainer(runtime.containerName("validation")).inspect()).Image;
    let from = watcher.events.length;
    rejectEverything();
    const reloaded = await watcher.next(
      (e) => e.service === "validation" && (e.action === "restarted" || e.action === "failed"),
      RELOAD_TIMEOUT,
      from,
    );
    expect(reloaded).toMatchObject({ action: "restarted", service: "validation" });

    const rejected = await sendTask();
    expect(rejected.code, why(rejected)).toBe(1);
    expect(rejected.json().status).toBe("rejected");

    const after = await containers();
    expect(after.validation).not.toBe(before.validation);
    const { validation: _v, ...othersBefore } = before;
    const { validation: _w, ...othersAfter } = after;
    expect(othersAfter).toEqual(othersBefore);
    // the same host port: the state's URL still reaches the new container
    const health = await fetch(`${state.services.validation}/health`, {
      signal: AbortSignal.timeout(10_000),
    });
    expect(health.status).toBe(200);
    // the image the old container ran is not left behind, untagged
    await expect(docker.getImage(oldImage).inspect()).rejects.toThrow();

    // A build that fails keeps the running container, and says so.
    const dockerfile = path.join(root, "validation-service", "Dockerfile");
    const good = readFileSync(dockerfile, "utf8");
    from = watcher.events.length;
    writeFileSync(dockerfile, `${good}\nRUN exit 3\n`);
    const failed = await watcher.next((e) => e.action === "failed", RELOAD_TIMEOUT, from);
    expect(failed).toMatchObject({ service: "validation", previousKept: true });
    expect((await containers()).validation).toBe(after.validation);
    expect((await fetch(`${state.services.validation}/health`)).status).toBe(200);
    from = watcher.events.length;
    writeFileSync(dockerfile, good);
    await watcher.next((e) => e.action === "restarted" || e.action === "failed", RELOAD_TIMEOUT, from);

    // A container that does not start is gone with its output: the failure carries its last
    // lines, and the next change starts it again (it was "down until the next change").
    from = watcher.events.length;
    writeFileSync(rule, `${original}\nexport const broken = ;\n`);
    const crashed = await watcher.next((e) => e.action === "failed", RELOAD_TIMEOUT, from);
    expect(crashed).toMatchObject({ service: "validation", previousKept: false });
    expect(crashed.logTail?.join("\n"), JSON.stringify(crashed)).toMatch(/broken|SyntaxError|error/i);
    // the image of the version that did not start: tagged until the next build supersedes it
    const tagOf = () =>
      docker
        .getImage(`avsctl/${state.name}-validation:dev`)
        .inspect()
        .then((i) => i.Id);
    const crashedImage = await tagOf();
    expect(crashedImage).toBeDefined();
    from = watcher.events.length;
    writeFileSync(rule, original);
    const back = await watcher.next(
      (e) => e.service === "validation" && (e.action === "restarted" || e.action === "failed"),
      RELOAD_TIMEOUT,
      from,
    );
    expect(back, JSON.stringify(back)).toMatchObject({ action: "restarted" });
    expect((await fetch(`${state.services.validation}/health`)).status).toBe(200);
    // ... and not left behind, untagged, once it was
    expect(await tagOf()).not.toBe(crashedImage);
    await expect(docker.getImage(crashedImage!).inspect()).rejects.toThrow();
    // nor the one the container that crashed replaced (the image of its previous version)
    expect(await projectImages()).toEqual(serviceImages());

    // An image superseded while a tag of someone else's names it is theirs: it stays.
    const theirs = { repo: `avsctl-e2e-kept/${sanitizeName(state.name)}`, tag: "mine" };
    const tagged = await tagOf();
    await docker.getImage(tagged).tag(theirs);
    from = watcher.events.length;
    rejectEverything();
    const superseded = await watcher.next(
      (e) => e.service === "validation" && (e.action === "restarted" || e.action === "failed"),
      RELOAD_TIMEOUT,
      from,
    );
    expect(superseded, JSON.stringify(superseded)).toMatchObject({ action: "restarted" });
    expect(await tagOf()).not.toBe(tagged);
    expect((await docker.getImage(`${theirs.repo}:${theirs.tag}`).inspect()).Id).toBe(tagged);
    await docker.getImage(`${theirs.repo}:${theirs.tag}`).remove();
    expect(await projectImages()).toEqual(serviceImages());

    expect(await watcher.interrupt()).toBe(130);
    expect(watcher.events.at(-2)).toEqual({ action: "stopped", devnetRunning: true });
    expect(watcher.events.at(-1).error.code).toBe("INTERRUPTED");
  });

  it("devnet down keeps the service images for the next up, and nothing superseded", {
    timeout: 240_000,
  }, async () => {
    expect(state, "the devnet did not start").toBeDefined();
    const down = await cli(["devnet", "down", "--volumes", "--json"], 240_000);
    expect(down.code, why(down)).toBe(0);
    expect(await projectImages()).toEqual(serviceImages());
  });
});
