/**
 * Issue 7 end to end, with the built CLI as a child process: `avsctl init` makes a project in
 * each language (dependencies installed from the language's own registry), the project's own
 * tests pass with its own toolchain, `devnet up` runs its services as generated, and tasks
 * through them reach an on-chain verdict: approved through the execution service, rejected
 * when the proof is tampered with (the attesters ask the project's validation service). Then a
 * TypeScript execution service is paired with the Go and the Python validation services
 * (templates-docker.test.ts runs each language's services in Docker).
 *
 * One installed project per language serves all its tests; the three installs run at once.
 * Everything a test starts is torn down in afterAll (`devnet down` in every project, temp dirs
 * removed), also after a failure.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify, toUtf8Bytes } from "ethers";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLabelledProcesses, isAlive } from "../../../src/devnet/runtime/process.js";
import { type CliResult, rpcSendArgs, runCli } from "../../helpers/cli.js";
import { CID, pinJson } from "../../helpers/ipfs.js";
import { loadIsDistinct } from "./load.js";

type Language = "typescript" | "python" | "go";
const LANGUAGES: Language[] = ["typescript", "python", "go"];

// Cold CI caches make installs and first builds slow; none of these is a timing assertion.
const INSTALL_TIMEOUT = 900_000;
const UP_TIMEOUT = 420_000;
const TASK_TIMEOUT = 180_000;

// The services run `node`, `go`, `python`: the Node that runs the tests (24 in CI) comes first.
const ENV = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` };

// A price report in the template's canonical form, at the devnet feed's price ("3000.00"); its
// proof is the CID the devnet's IPFS node gives it when pinned (see pinReport).
const REPORT = '{"price":"3000.00","round":1,"symbol":"ETHUSDT","timestamp":1700000000}';
const REPORT_DATA = hexlify(toUtf8Bytes(REPORT));
// Another report, as valid and as close to the feed: its CID is a proof that does not match REPORT_DATA.
const OTHER_REPORT = '{"price":"3000.00","round":2,"symbol":"ETHUSDT","timestamp":1700000000}';

const run = Math.random().toString(36).slice(2, 8);
let tmp = "";
const roots = {} as Record<Language, string>;
const inits = {} as Record<Language, Promise<CliResult>>;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-e2e-init-"));
  for (const language of LANGUAGES) {
    // Unique names: the devnet project name (process labels, container names) comes from it.
    roots[language] = path.join(tmp, `e2e-${language}-${run}`);
    inits[language] = runCli(["init", roots[language], "--yes", "--language", language, "--json"], {
      cwd: tmp,
      env: ENV,
      timeoutMs: INSTALL_TIMEOUT,
    });
    // Awaited by each language's first test; this only keeps an early spawn error from being unhandled.
    inits[language].catch(() => {});
  }
});

afterAll(async () => {
  if (!tmp) return;
  await Promise.all(
    LANGUAGES.map((language) => inits[language]?.catch(() => undefined)), // never leave an install running
  );
  for (const language of LANGUAGES) {
    const root = roots[language];
    if (root && existsSync(path.join(root, "avsctl.config.json"))) {
      await cli(root, ["devnet", "down", "--volumes", "--json"], 120_000).catch(() => undefined);
    }
  }
  await rm(tmp, { recursive: true, force: true });
}, 600_000);

function cli(cwd: string, args: string[], timeoutMs = TASK_TIMEOUT): Promise<CliResult> {
  return runCli(args, { cwd, env: ENV, timeoutMs });
}

/** The output of a failed command, for the assertion message. */
const why = (r: CliResult) =>
  `exit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;

async function health(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/** True when nothing answers at the URL any more (connection refused, or a timeout). */
async function refuses(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/health`, { signal: AbortSignal.timeout(3_000) });
    return false;
  } catch {
    return true;
  }
}

async function devnetUp(root: string, runtime: "process" | "docker"): Promise<any> {
  const r = await cli(root, ["devnet", "up", "--runtime", runtime, "--json"], UP_TIMEOUT);
  expect(r.code, why(r)).toBe(0);
  const state = r.json();
  expect(state).toMatchObject({ runtime, healthy: true });
  for (const kind of ["execution", "validation"] as const) {
    expect(state.services[kind], kind).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // The generated services name themselves in /health; avsctl's samples do not.
    const h = await health(state.services[kind]);
    expect(h, kind).toEqual({ status: 200, body: { status: "ok", service: kind } });
  }
  return state;
}

/** Pins a report to the devnet's IPFS node as the template does (Pinata's API) and answers its CID. */
const pinReport = (state: any, report: string): Promise<string> => pinJson(state.ipfs.pinataUrl, report);

async function sendViaExecution(root: string): Promise<CliResult> {
  return cli(root, ["task", "send", "--via", "execution", "--wait", "--timeout", "120", "--json"]);
}

/** `devnet down --volumes`, then checks that none of it is left: processes, containers, state, ports. */
async function downLeavesNothing(root: string, state: any): Promise<void> {
  const r = await cli(root, ["devnet", "down", "--volumes", "--json"], 180_000);
  expect(r.code, why(r)).toBe(0);
  const { removed } = r.json();
  for (const pid of removed.processes as number[]) expect(isAlive(pid), `pid ${pid}`).toBe(false);
  expect(await findLabelledProcesses({ projectDir: root })).toEqual([]);
  if (state.runtime === "docker") {
    const { dockerClient } = await import("../../../src/devnet/docker-engine.js");
    const { listProjectResources } = await import("../../../src/devnet/runtime/docker.js");
    const left = await listProjectResources(dockerClient(), state.name);
    expect([...left.containers, ...left.networks, ...left.volumes]).toEqual([]);
  }
  expect(existsSync(path.join(root, ".avsctl", "devnet.json"))).toBe(false);
  for (const url of [
    state.services.execution,
    state.services.validation,
    state.l1.rpcUrl,
    state.aggregator.rpcUrl,
  ]) {
    expect(await refuses(url), url).toBe(true);
  }
  const status = await cli(root, ["devnet", "status", "--json"]);
  expect(status.code).toBe(4);
  expect(status.json().error.code).toBe("NO_DEVNET");
}

/** The project's own test commands, as its README gives them. */
function ownTests(language: Language, root: string): Array<{ cwd: string; command: string; args: string[] }> {
  return ["execution-service", "validation-service"].map((service) => {
    const cwd = path.join(root, service);
    if (language === "typescript") return { cwd, command: "npm", args: ["test"] };
    if (language === "python")
      return { cwd, command: path.join(root, ".venv", "bin", "python"), args: ["-m", "pytest", "-q"] };
    return { cwd, command: "go", args: ["test", "-count=1", "./..."] };
  });
}

describe.each(LANGUAGES)("a %s project made by avsctl init", (language) => {
  let state: any;

  it("init --yes --json writes and installs the project", { timeout: INSTALL_TIMEOUT }, async () => {
    const r = await inits[language];
    expect(r.code, why(r)).toBe(0);
    const body = r.json();
    expect(body).toMatchObject({
      path: roots[language],
      name: path.basename(roots[language]),
      template: "price-oracle",
      language,
    });
    for (const file of [
      "avsctl.config.json",
      ".env.example",
      ".gitignore",
      "README.md",
      "execution-service/Dockerfile",
      "validation-service/Dockerfile",
    ]) {
      expect(body.files).toContain(file);
    }
    for (const file of body.files as string[])
      expect(existsSync(path.join(roots[language], file)), file).toBe(true);
  });

  it("its own tests pass with its own toolchain", { timeout: 600_000 }, async () => {
    for (const step of ownTests(language, roots[language])) {
      const r = await execa(step.command, step.args, {
        cwd: step.cwd,
        env: { ...process.env, ...ENV, CI: "1" },
        reject: false,
        all: true,
        stdin: "ignore",
        timeout: 540_000,
      });
      expect(
        r.exitCode,
        `${step.command} ${step.args.join(" ")} in ${step.cwd}:\n${r.all?.slice(-4000)}`,
      ).toBe(0);
    }
  });

  it("devnet up --runtime process starts its services", { timeout: UP_TIMEOUT }, async () => {
    state = await devnetUp(roots[language], "process");
    // the project's name, then a hash of its root: two projects of one name never collide
    expect(state.name).toMatch(new RegExp(`^${path.basename(roots[language])}-[0-9a-f]{6}$`));
    // status probes every component for real, the services and their price feed among them.
    const status = await cli(roots[language], ["devnet", "status", "--json"]);
    expect(status.code, why(status)).toBe(0);
    const { healthy, components } = status.json();
    expect(healthy).toBe(true);
    for (const name of ["execution", "validation", "price-feed"]) {
      expect(components, name).toContainEqual(expect.objectContaining({ name, healthy: true }));
    }
  });

  it("task send --wait with the defaults goes through its execution service and is approved", {
    timeout: TASK_TIMEOUT,
  }, async () => {
    const r = await cli(roots[language], ["task", "send", "--wait", "--timeout", "120", "--json"]);
    expect(r.code, why(r)).toBe(0);
    const verdict = r.json();
    expect(verdict).toMatchObject({
      status: "approved",
      taskDefinitionId: 1,
      performer: state.performer.address,
    });
    expect(verdict.proofOfTask).toMatch(CID);
    expect(verdict.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    // The proof is the report in IPFS: the devnet's gateway serves what data carries.
    const stored = await fetch(`${state.ipfs.gatewayUrl}${verdict.proofOfTask}`);
    expect(stored.status).toBe(200);
    expect(JSON.parse(await stored.text())).toMatchObject({ price: "3000.00", symbol: "ETHUSDT" });
  });

  it("--count 50 --concurrency 10: 50 distinct tasks, each approved on-chain", {
    timeout: TASK_TIMEOUT,
  }, async () => {
    await loadIsDistinct((args) => cli(roots[language], args), 50, 10);
  });

  it("its validation service gets a tampered proof rejected on-chain", {
    timeout: TASK_TIMEOUT,
  }, async () => {
    expect(state, "devnet up failed earlier").toBeDefined();
    // A real CID, of content the gateway has, but of another report than the data's.
    const tampered = await cli(
      roots[language],
      rpcSendArgs(await pinReport(state, OTHER_REPORT), REPORT_DATA),
    );
    expect(tampered.code, why(tampered)).toBe(1);
    expect(tampered.json().status).toBe("rejected");

    // avsctl's own sample proof, which only the sample validation knows: the rejection is true,
    // and the output says whose proof it was and how to send the project's
    const sample = await cli(roots[language], [
      "task",
      "send",
      "--via",
      "rpc",
      "--data",
      REPORT_DATA,
      "--wait",
    ]);
    expect(sample.code, why(sample)).toBe(1);
    expect(sample.stdout).toMatch(/^REJECTED /);
    expect(sample.stdout).toContain(
      "warning: with --via rpc and no --proof, a task's proof is avsctl's sample proof",
    );

    // The same data with its true proof passes: the rejection above was the proof's doing.
    const honest = await cli(roots[language], rpcSendArgs(await pinReport(state, REPORT), REPORT_DATA));
    expect(honest.code, why(honest)).toBe(0);
    expect(honest.json().status).toBe("approved");
  });

  it("devnet down leaves nothing behind", { timeout: 240_000 }, async () => {
    expect(state, "devnet up failed earlier").toBeDefined();
    await downLeavesNothing(roots[language], state);
  });
});

describe.each(["go", "python"] as const)("TypeScript execution with %s validation", (other) => {
  it("a task through the TypeScript execution service is approved by the other language's validation", {
    timeout: UP_TIMEOUT + TASK_TIMEOUT + 240_000,
  }, async () => {
    const root = roots.typescript;
    const configFile = path.join(root, "avsctl.config.json");
    const original = readFileSync(configFile, "utf8");
    const config = JSON.parse(original);
    const otherConfig = JSON.parse(readFileSync(path.join(roots[other], "avsctl.config.json"), "utf8"));
    config.services.validation = {
      ...otherConfig.services.validation,
      dir: path.relative(root, path.join(roots[other], "validation-service")),
    };
    writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
    let state: any;
    try {
      state = await devnetUp(root, "process");
      // The validation service that answers is the other language's: its command was run.
      const logs = await cli(root, ["devnet", "logs", "validation", "--json"]);
      expect(logs.code, why(logs)).toBe(0);
      expect(logs.json().lines.join("\n")).toContain(otherConfig.services.validation.command);

      const r = await sendViaExecution(root);
      expect(r.code, why(r)).toBe(0);
      expect(r.json().status).toBe("approved");
      await downLeavesNothing(root, state);
    } finally {
      if (state) await cli(root, ["devnet", "down", "--volumes", "--json"], 180_000).catch(() => undefined);
      writeFileSync(configFile, original);
    }
  });
});
