/**
 * The CI workflow `init` writes for a project (.github/workflows/avs.yml), for real: its shape
 * (the setup steps, avsctl installed only when missing, `if: always()` on the artifact upload and
 * on `devnet down`), then its `run:` steps, in order, as one bash script in the generated
 * project on this machine, with this checkout's avsctl first on PATH. The script installs the
 * services' dependencies from their registries, runs their tests, brings a devnet up, sends a
 * task and a short load test, and takes the devnet down; the task must end approved.
 *
 * The devnet runs as processes: DOCKER_HOST points at no engine, so `auto` picks the process
 * runtime, as on a machine without Docker. One describe per project, each with its own devnet,
 * stopped in afterAll whatever happened.
 */

import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { binPath, repoRoot, runCli, withoutShellSettings } from "../../helpers/cli.js";

const RUN_TIMEOUT = 900_000;

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
}

interface Workflow {
  name?: string;
  on?: unknown;
  jobs: Record<string, { "runs-on": string; steps: Step[] }>;
}

const VERSION = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;

const PROJECTS = [
  { label: "price-oracle in TypeScript", template: "price-oracle", language: "typescript" },
  { label: "price-oracle in Python", template: "price-oracle", language: "python" },
  { label: "price-oracle in Go", template: "price-oracle", language: "go" },
  { label: "workflow in TypeScript", template: "workflow", language: "typescript" },
] as const;

/** The setup action of each language besides Node's. */
const LANGUAGE_SETUP: Record<string, string[]> = {
  typescript: [],
  python: ["actions/setup-python"],
  go: ["actions/setup-go"],
};

/** How each language's tests start, as its README says. */
const TEST_COMMAND: Record<string, string> = {
  typescript: "npm test",
  python: "../.venv/bin/python -m pytest",
  go: "go vet ./... && go test ./...",
};

let tmp = "";
/** A folder holding an `avsctl` that runs this checkout's CLI with the Node running the tests. */
let shimDir = "";

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-ci-it-"));
  shimDir = path.join(tmp, "bin");
  mkdirSync(shimDir);
  const shim = path.join(shimDir, "avsctl");
  writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${binPath}" "$@"\n`);
  chmodSync(shim, 0o755);
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/**
 * What the script runs in: avsctl (the shim) and the Node running the tests first on PATH, CI
 * set, no Docker engine, and none of the developer's avsctl settings.
 */
function scriptEnv(): NodeJS.ProcessEnv {
  return withoutShellSettings({
    ...process.env,
    PATH: [shimDir, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
    CI: "true",
    NO_COLOR: "1",
    DOCKER_HOST: `unix://${path.join(tmp, "no-docker.sock")}`,
  });
}

/** The workflow's `run:` steps, in order, as one bash script; `uses:` steps are GitHub's part. */
function scriptOf(workflow: Workflow): string {
  const lines = ["set -euo pipefail"];
  for (const step of Object.values(workflow.jobs)[0]?.steps ?? []) {
    if (step.run === undefined) continue;
    lines.push(`# ${step.name ?? "(unnamed step)"}`, step.run.trimEnd());
  }
  return `${lines.join("\n")}\n`;
}

const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8"));

for (const project of PROJECTS) {
  describe(`the CI workflow of ${project.label}`, () => {
    let root = "";
    let workflow: Workflow;
    let steps: Step[] = [];

    beforeAll(async () => {
      root = path.join(tmp, `ci-${project.template}-${project.language}`);
      const r = await runCli(
        [
          "init",
          root,
          "--template",
          project.template,
          "--language",
          project.language,
          "--no-install",
          "--json",
        ],
        { cwd: tmp, env: { NO_COLOR: "1" }, timeoutMs: 120_000 },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.json().files).toContain(".github/workflows/avs.yml");
      workflow = parse(readFileSync(path.join(root, ".github/workflows/avs.yml"), "utf8")) as Workflow;
      steps = Object.values(workflow.jobs)[0]?.steps ?? [];
    });

    afterAll(async () => {
      if (root && existsSync(path.join(root, "avsctl.config.json"))) {
        await execa(process.execPath, [binPath, "devnet", "down", "--json"], {
          cwd: root,
          env: scriptEnv(),
          reject: false,
          timeout: 180_000,
        });
      }
    }, 240_000);

    const stepUsing = (action: string) => steps.find((s) => s.uses?.startsWith(`${action}@`));
    const stepRunning = (command: string) => steps.findIndex((s) => s.run?.trim() === command);

    it("sets up Node 24 and the project's language, and installs avsctl only when it is missing", () => {
      expect(Object.keys(workflow.jobs)).toHaveLength(1);
      expect(Object.values(workflow.jobs)[0]?.["runs-on"]).toMatch(/^ubuntu-/);
      expect(steps[0]?.uses).toMatch(/^actions\/checkout@v\d+$/);
      expect(stepUsing("actions/setup-node")?.with).toMatchObject({ "node-version": 24 });
      if (project.language === "python") {
        expect(stepUsing("actions/setup-python")?.with).toMatchObject({ "python-version": "3.11" });
      }
      if (project.language === "go") {
        const setup = stepUsing("actions/setup-go");
        expect(setup?.with).toMatchObject({ "go-version-file": "execution-service/go.mod" });
        expect(existsSync(path.join(root, "execution-service/go.mod"))).toBe(true);
      }
      const languageSetups = steps
        .map((s) => s.uses?.split("@")[0] ?? "")
        .filter((action) => /^actions\/setup-(python|go)$/.test(action));
      expect(languageSetups).toEqual(LANGUAGE_SETUP[project.language]);
      expect(stepRunning(`command -v avsctl >/dev/null || npm install -g avsctl@${VERSION}`)).toBeGreaterThan(
        steps.indexOf(stepUsing("actions/setup-node") as Step),
      );
    });

    it("tests both services, then runs the devnet, a task and a load test, keeping their JSON", () => {
      const runsTests = (s: Step, service: string) =>
        (s.run ?? "").includes(`(cd ${service} && ${TEST_COMMAND[project.language]}`);
      const tests = steps.findIndex((s) => runsTests(s, "execution-service"));
      expect(runsTests(steps[tests] as Step, "validation-service")).toBe(true);
      const up = stepRunning("avsctl devnet up --json > devnet.json");
      const send = stepRunning("avsctl task send --wait --json > task.json");
      const load = stepRunning("avsctl task send --count 10 --concurrency 5 --wait --json > load.json");
      const upload = steps.indexOf(stepUsing("actions/upload-artifact") as Step);
      const down = stepRunning("avsctl devnet down");
      expect([tests, up, send, load, upload, down].every((i) => i >= 0)).toBe(true);
      expect(tests).toBeLessThan(up);
      expect(up).toBeLessThan(send);
      expect(send).toBeLessThan(load);
      expect(load).toBeLessThan(upload);
      // The artifacts are taken before the devnet goes, and both happen even after a failure.
      expect(upload).toBeLessThan(down);
      expect(down).toBe(steps.length - 1);
      expect(steps[upload]?.if).toBe("always()");
      expect(steps[down]?.if).toBe("always()");
      const paths = String(steps[upload]?.with?.path ?? "").split("\n");
      expect(paths).toEqual(expect.arrayContaining(["devnet.json", "task.json", "load.json"]));
    });

    it("runs as written: its run steps as one bash script end with the task approved", {
      timeout: RUN_TIMEOUT,
    }, async () => {
      const result = await execa("bash", ["-c", scriptOf(workflow)], {
        cwd: root,
        env: scriptEnv(),
        all: true,
        reject: false,
        stdin: "ignore",
        timeout: RUN_TIMEOUT - 60_000,
      });
      const why = `exit ${result.exitCode}\n${(result.all ?? "").slice(-6000)}`;
      expect(result.exitCode, why).toBe(0);
      expect(readJson(path.join(root, "devnet.json")), why).toMatchObject({
        runtime: "process",
        healthy: true,
      });
      const task = readJson(path.join(root, "task.json"));
      expect(task, why).toMatchObject({ status: "approved", taskDefinitionId: 1 });
      const load = readJson(path.join(root, "load.json"));
      expect(load, why).toMatchObject({ sent: 10, distinct: 10, duplicates: 0, approved: 10 });
      // The script's last step took the devnet down.
      expect(existsSync(path.join(root, ".avsctl/devnet.json"))).toBe(false);
    });
  });
}
