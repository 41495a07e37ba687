/**
 * The workflow template end to end, with the built CLI as a child process: `avsctl init
 * --template workflow` writes and installs the project (avsctl's engine copied into both
 * services), `devnet up --runtime process` runs its services as generated, a task through the
 * execution service (the workflow run, proved by its record's fingerprint) is approved on-chain
 * by attesters whose validation service re-runs it, and a tampered proof is rejected while the
 * true one over the same data is approved. `devnet down` leaves nothing behind; afterAll tears down after a failure too.
 */

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLabelledProcesses, isAlive } from "../../../src/devnet/runtime/process.js";
import { canonicalJson } from "../../../src/workflow/index.js";
import { type CliResult, rpcSendArgs, runCli } from "../../helpers/cli.js";
import { loadIsDistinct } from "./load.js";

const INSTALL_TIMEOUT = 600_000;
const UP_TIMEOUT = 420_000;
const TASK_TIMEOUT = 180_000;

// The services run `node`: the Node that runs the tests (24 in CI) comes first.
const ENV = { PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}` };

/** `data` for the template's workflow over a threshold, as the execution service writes it. */
const taskData = (threshold: number) =>
  hexlify(
    toUtf8Bytes(
      `{"inputVariables":{"symbol":"ETHUSDT","threshold":${threshold}},"round":1,"triggerData":{}}`,
    ),
  );

/**
 * The proof of the template's workflow over the devnet feed (ETHUSDT at 3000.00), written out by
 * hand from the rule in its README: the fingerprint of the record, restApi output left out.
 */
function expectedProof(threshold: number): string {
  const level = 3000 > threshold ? "high" : "low";
  const step = (id: string, name: string, type: string, output: unknown) => ({
    id,
    name,
    type,
    success: true,
    output,
    error: null,
  });
  const record = {
    status: "success",
    error: null,
    steps: [
      step("trigger", "manualTrigger", "manual", {}),
      step("fetch", "fetchPrice", "restApi", null),
      step("quote", "quote", "customCode", { symbol: "ETHUSDT", price: "3000.00" }),
      step("check", "checkPrice", "branch", { conditionId: `check.${level}` }),
      step(`alert-${level}`, level === "high" ? "alertHigh" : "alertLow", "customCode", { level }),
      step("report", "report", "customCode", { symbol: "ETHUSDT", price: "3000.00", threshold, level }),
    ],
  };
  return `0x${createHash("sha256").update(canonicalJson(record)).digest("hex")}`;
}

let tmp = "";
let root = "";

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-e2e-wf-"));
  // A unique name: the devnet project name (process labels) comes from it.
  root = path.join(tmp, `e2e-wf-${Math.random().toString(36).slice(2, 8)}`);
});

afterAll(async () => {
  if (!tmp) return;
  if (existsSync(path.join(root, "avsctl.config.json"))) {
    await cli(["devnet", "down", "--volumes", "--json"], 120_000).catch(() => undefined);
  }
  await rm(tmp, { recursive: true, force: true });
}, 300_000);

function cli(args: string[], timeoutMs = TASK_TIMEOUT, cwd = root): Promise<CliResult> {
  return runCli(args, { cwd, env: ENV, timeoutMs });
}

const why = (r: CliResult) =>
  `exit ${r.code}\nstdout: ${r.stdout.slice(-3000)}\nstderr: ${r.stderr.slice(-3000)}`;

async function sendRpc(proof: string, data: string): Promise<CliResult> {
  return cli(rpcSendArgs(proof, data));
}

describe("a workflow project made by avsctl init", () => {
  let state: any;

  it("init --template workflow --yes writes and installs it, with the engine in both services", {
    timeout: INSTALL_TIMEOUT,
  }, async () => {
    const r = await cli(["init", root, "--template", "workflow", "--yes", "--json"], INSTALL_TIMEOUT, tmp);
    expect(r.code, why(r)).toBe(0);
    // the check that the engine's copy runs under Node's type stripping shows none of Node's warnings
    expect(r.stderr).not.toMatch(/ExperimentalWarning/);
    const body = r.json();
    expect(body).toMatchObject({ path: root, template: "workflow", language: "typescript", installed: true });
    for (const file of [
      "workflow.json",
      "avsctl.config.json",
      "execution-service/src/engine/workflow/engine.ts",
      "validation-service/src/engine/workflow/engine.ts",
      "validation-service/src/validate.ts",
    ]) {
      expect(body.files).toContain(file);
      expect(existsSync(path.join(root, file)), file).toBe(true);
    }
  });

  it("refuses another language, naming --language", async () => {
    const r = await cli(
      ["init", path.join(tmp, "wf-go"), "--template", "workflow", "--language", "go", "--yes", "--json"],
      60_000,
      tmp,
    );
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(existsSync(path.join(tmp, "wf-go"))).toBe(false);
    // refused before it says it is writing anything
    const human = await cli(
      ["init", path.join(tmp, "wf-py"), "--template", "workflow", "--language", "python"],
      60_000,
      tmp,
    );
    expect(human.code).toBe(2);
    expect(human.stderr).toContain("--language: the workflow template has no python version");
    expect(human.stdout + human.stderr).not.toMatch(/writing/);
  });

  it("devnet up --runtime process starts its services", { timeout: UP_TIMEOUT }, async () => {
    const r = await cli(["devnet", "up", "--runtime", "process", "--json"], UP_TIMEOUT);
    expect(r.code, why(r)).toBe(0);
    state = r.json();
    expect(state).toMatchObject({ runtime: "process", healthy: true });
    for (const kind of ["execution", "validation"] as const) {
      const response = await fetch(`${state.services[kind]}/health`, { signal: AbortSignal.timeout(10_000) });
      expect(await response.json()).toEqual({ status: "ok", service: kind });
    }
  });

  it("task send --wait with the defaults goes through the execution service and is approved", {
    timeout: TASK_TIMEOUT,
  }, async () => {
    expect(state, "devnet up failed earlier").toBeDefined();
    const r = await cli(["task", "send", "--wait", "--timeout", "120", "--json"]);
    expect(r.code, why(r)).toBe(0);
    const verdict = r.json();
    expect(verdict).toMatchObject({
      status: "approved",
      taskDefinitionId: 1,
      performer: state.performer.address,
    });
    // The execution service proved the workflow's own inputs by the rule its README states.
    expect(verdict.proofOfTask).toBe(expectedProof(2500));
  });

  it("--count 50 --concurrency 10: 50 distinct tasks, each approved on-chain", {
    timeout: TASK_TIMEOUT,
  }, async () => {
    expect(state, "devnet up failed earlier").toBeDefined();
    await loadIsDistinct((args) => cli(args), 50, 10);
  });

  it("a tampered proof is rejected on-chain; the true one over the same data approved", {
    timeout: 2 * TASK_TIMEOUT,
  }, async () => {
    expect(state, "devnet up failed earlier").toBeDefined();
    // Other inputs than the task above, so the honest task below is a new one, not a resend.
    const data = taskData(3500);
    const proof = expectedProof(3500);
    const tampered = await sendRpc(`${proof.slice(0, -1)}${proof.endsWith("0") ? "1" : "0"}`, data);
    expect(tampered.code, why(tampered)).toBe(1);
    expect(tampered.json().status).toBe("rejected");
    // The same data with its true proof passes: the rejection was the proof's doing.
    const honest = await sendRpc(proof, data);
    expect(honest.code, why(honest)).toBe(0);
    expect(honest.json().status).toBe("approved");
  });

  it("devnet down leaves nothing behind", { timeout: 240_000 }, async () => {
    expect(state, "devnet up failed earlier").toBeDefined();
    const r = await cli(["devnet", "down", "--volumes", "--json"], 180_000);
    expect(r.code, why(r)).toBe(0);
    for (const pid of r.json().removed.processes as number[]) expect(isAlive(pid), `pid ${pid}`).toBe(false);
    expect(await findLabelledProcesses({ projectDir: root })).toEqual([]);
    expect(existsSync(path.join(root, ".avsctl", "devnet.json"))).toBe(false);
  });
});
