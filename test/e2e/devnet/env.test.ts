/**
 * A service the user runs by hand gets its whole configuration from `avsctl devnet env`. An
 * `avsctl init` TypeScript project (dependencies installed) runs its devnet as processes with
 * `--validation-url` naming a port nobody listens on yet; the test then starts the project's own
 * validation service with an environment made ONLY of `devnet env --service validation` output
 * (plus PATH): tasks are approved, and a wrong proof is rejected, so the service really judged
 * them (its price comes from the PRICE_SOURCE_URL the env gave it). Stopped, `devnet status`
 * exits 1 naming it; started again through `eval "$(avsctl devnet env --format shell)"`, the
 * devnet is healthy again. The formats agree with each other.
 *
 * Everything started (the devnet, the service) is stopped in afterAll, also after a failure.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseEnv } from "node:util";
import { hexlify, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binPath, type CliResult, rpcSendArgs, runCli } from "../../helpers/cli.js";
import { pinJson } from "../../helpers/ipfs.js";
import { stablePort } from "../../helpers/ports.js";

const UP_TIMEOUT = 420_000;
const TASK_TIMEOUT = 180_000;

// The service runs `node`: the Node that runs the tests (24) comes first.
const PATH_ENV = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`;

// A price report in the template's canonical form, at the devnet feed's price ("3000.00").
// Each round is a distinct task: the aggregator would answer a repeated one from its journal.
// The template's proof is the report's CID in the devnet's IPFS node, pinned as its execution
// service would.
const report = async (round: number) => {
  const json = `{"price":"3000.00","round":${round},"symbol":"ETHUSDT","timestamp":1700000000}`;
  const state = (await cli(["devnet", "status", "--json"])).json();
  return { data: hexlify(toUtf8Bytes(json)), proof: await pinJson(state.ipfs.pinataUrl, json) };
};

let tmp = "";
let root = "";
let validationPort = 0;
let service: ChildProcess | undefined;

const why = (r: CliResult) => `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

function cli(args: string[], timeoutMs = TASK_TIMEOUT): Promise<CliResult> {
  return runCli(args, { cwd: root, env: { PATH: PATH_ENV }, timeoutMs });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-e2e-env-"));
  root = path.join(tmp, `e2e-env-${Math.random().toString(36).slice(2, 8)}`);
  const init = await runCli(["init", root, "--yes", "--language", "typescript", "--json"], {
    cwd: tmp,
    env: { PATH: PATH_ENV },
    timeoutMs: 900_000,
  });
  expect(init.code, why(init)).toBe(0);
  validationPort = await stablePort();
}, 900_000);

afterAll(async () => {
  await stopService();
  if (root && existsSync(path.join(root, "avsctl.config.json"))) {
    await cli(["devnet", "down", "--volumes", "--json"], 180_000).catch(() => undefined);
  }
  if (tmp) await rm(tmp, { recursive: true, force: true });
}, 300_000);

/**
 * Starts the project's validation service with exactly `env` (PATH aside), or through `script`
 * in bash, and waits until it says it listens (bounded).
 */
async function startService(how: { env: Record<string, string> } | { script: string }): Promise<void> {
  const cwd = path.join(root, "validation-service");
  const child =
    "env" in how
      ? spawn(process.execPath, ["src/main.ts"], { cwd, env: { PATH: PATH_ENV, ...how.env } })
      : spawn("bash", ["-c", how.script], { cwd, env: { PATH: PATH_ENV } });
  service = child;
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      if (/listening on/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited (${code}) before listening: ${output}`));
    });
  });
}

async function stopService(): Promise<void> {
  const child = service;
  service = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  await exited;
}

async function sendReport({ data, proof }: { data: string; proof: string }): Promise<CliResult> {
  return cli(rpcSendArgs(proof, data));
}

describe("devnet env and a user-run validation service (process runtime)", () => {
  it("devnet env without a devnet exits 4 NO_DEVNET", async () => {
    const r = await cli(["devnet", "env", "--json"]);
    expect(r.code, why(r)).toBe(4);
    expect(r.json().error.code).toBe("NO_DEVNET");
  });

  it("devnet up --validation-url: the devnet starts without the service", {
    timeout: UP_TIMEOUT,
  }, async () => {
    const url = `http://127.0.0.1:${validationPort}`;
    const r = await cli(
      ["devnet", "up", "--runtime", "process", "--validation-url", url, "--json"],
      UP_TIMEOUT,
    );
    expect(r.code, why(r)).toBe(0);
    expect(r.json()).toMatchObject({ runtime: "process", services: { validation: url } });
  });

  it("the formats agree: shell evals in bash to the json values, dotenv parses to them", async () => {
    for (const service of [[], ["--service", "validation"], ["--service", "execution"]]) {
      const json = await cli(["devnet", "env", ...service, "--format", "json"]);
      expect(json.code, why(json)).toBe(0);
      const env = json.json<Record<string, string>>();
      const viaJson = await cli(["devnet", "env", ...service, "--json"]);
      expect(viaJson.json(), "--json is --format json").toEqual(env);

      const shell = await cli(["devnet", "env", ...service, "--format", "shell"]);
      expect(shell.code, why(shell)).toBe(0);
      for (const line of shell.stdout.trim().split("\n")) expect(line).toMatch(/^export [A-Z0-9_]+='.*'$/);
      const names = Object.keys(env);
      const evaluated = await new Promise<string>((resolve, reject) => {
        const child = spawn(
          "bash",
          [
            "-c",
            `eval "$(cat)"\n"${process.execPath}" -e 'console.log(JSON.stringify(Object.fromEntries(process.argv.slice(1).map((n) => [n, process.env[n]]))))' ${names.join(" ")}`,
          ],
          { env: { PATH: PATH_ENV } },
        );
        let out = "";
        child.stdout.on("data", (d) => (out += d));
        child.on("error", reject);
        child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`bash exited ${code}`))));
        child.stdin.end(shell.stdout);
      });
      expect(JSON.parse(evaluated)).toEqual(env);

      const dotenv = await cli(["devnet", "env", ...service]);
      expect(dotenv.code, why(dotenv)).toBe(0);
      expect({ ...parseEnv(dotenv.stdout) }).toEqual(env);
    }
  });

  it("avsctl still works in a shell that eval'd the devnet's env (L2_RPC in Othentic's chainId@url form)", async () => {
    const avsctl = `"${process.execPath}" "${binPath}" --cwd "${root}"`;
    const run = (command: string) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn("bash", ["-c", `eval "$(${avsctl} devnet env --format shell)" && ${command}`], {
          env: { PATH: PATH_ENV },
        });
        let out = "";
        let err = "";
        child.stdout.on("data", (d) => (out += d));
        child.stderr.on("data", (d) => (err += d));
        child.once("exit", (code) => resolve({ code, out, err }));
      });
    const shell = await cli(["devnet", "env", "--format", "shell"]);
    expect(shell.stdout).toMatch(/^export L2_RPC='[0-9]+@http:/m);
    const list = await run(`${avsctl} task-def list --json`);
    expect(list.code, list.err).toBe(0);
    expect(JSON.parse(list.out).taskDefinitions.length).toBeGreaterThan(0);
    const tasks = await run(`${avsctl} task list --json`);
    expect(tasks.code, tasks.err).toBe(0);
  });

  it("every Othentic name an execution service needs; validation gets its own subset", async () => {
    const state = (await cli(["devnet", "status", "--json"])).json();
    const all = (await cli(["devnet", "env", "--json"])).json();
    expect(all).toMatchObject({
      OTHENTIC_CLIENT_RPC_ADDRESS: state.aggregator.rpcUrl,
      PERFORMER_ADDRESS: state.performer.address,
      PRIVATE_KEY_PERFORMER: state.performer.privateKey,
      L1_RPC: state.l1.rpcUrl,
      L1_CHAIN: String(state.l1.chainId),
      AVS_GOVERNANCE_ADDRESS: state.l1.avsGovernance,
      L2_RPC: `${state.l2[0].chainId}@${state.l2[0].rpcUrl}`,
      L2_CHAIN: String(state.l2[0].chainId),
      ATTESTATION_CENTER_ADDRESS: `${state.l2[0].chainId}@${state.l2[0].attestationCenter}`,
      TASK_DEFINITION_ID: "1",
      LOG_FORMAT: "json",
      HOST: "127.0.0.1",
    });
    // The devnet runs the project's execution service, so its price feed runs too.
    expect(all.PRICE_SOURCE_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/price$/);
    expect(all.PORT).toBeUndefined();
    // The IPFS names come with a devnet that records an IPFS node, and only then.
    if (state.ipfs) {
      expect(all).toMatchObject({
        IPFS_API_URL: state.ipfs.apiUrl,
        PINATA_API_URL: state.ipfs.pinataUrl,
        PINATA_GATEWAY: state.ipfs.gatewayUrl,
      });
    } else expect(all.IPFS_API_URL).toBeUndefined();

    const validation = (await cli(["devnet", "env", "--service", "validation", "--json"])).json();
    expect(validation).toEqual({
      TASK_DEFINITION_ID: "1",
      PRICE_SOURCE_URL: all.PRICE_SOURCE_URL,
      LOG_FORMAT: "json",
      HOST: "127.0.0.1",
      PORT: String(validationPort),
      VALIDATION_PORT: String(validationPort),
      ...(all.IPFS_API_URL
        ? {
            IPFS_API_URL: all.IPFS_API_URL,
            PINATA_API_URL: all.PINATA_API_URL,
            PINATA_GATEWAY: all.PINATA_GATEWAY,
          }
        : {}),
    });
  });

  it("a validation service configured from `devnet env --service validation` alone judges the tasks", {
    timeout: TASK_TIMEOUT * 2,
  }, async () => {
    const env = (await cli(["devnet", "env", "--service", "validation", "--format", "json"])).json();
    await startService({ env });
    const honest = await sendReport(await report(1));
    expect(honest.code, why(honest)).toBe(0);
    expect(honest.json().status).toBe("approved");
    const tampered = await sendReport({ ...(await report(2)), proof: "0xdeadbeef" });
    expect(tampered.code, why(tampered)).toBe(1);
    expect(tampered.json().status).toBe("rejected");

    const status = await cli(["devnet", "status", "--json"]);
    expect(status.code, why(status)).toBe(0);
    const s = status.json();
    expect(s.components).toContainEqual(expect.objectContaining({ name: "validation", healthy: true }));
    // Read from the chain: the template's one definition.
    expect(s.taskDefinitions).toEqual([{ taskDefinitionId: 1, name: "price-update" }]);
  });

  it("the service stopped, devnet status exits 1 naming it", { timeout: TASK_TIMEOUT }, async () => {
    await stopService();
    const r = await cli(["devnet", "status", "--json"]);
    expect(r.code, why(r)).toBe(1);
    const s = r.json();
    expect(s.healthy).toBe(false);
    expect(s.components).toContainEqual(expect.objectContaining({ name: "validation", healthy: false }));
    expect(s.problems).toEqual([expect.stringMatching(/^validation: /)]);
    const human = await cli(["devnet", "status"]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/^validation\s+unreachable\s+\d+\s+DOWN/m);
  });

  it('started again through eval "$(avsctl devnet env --format shell)", it serves the devnet', {
    timeout: TASK_TIMEOUT,
  }, async () => {
    const avsctl = `"${process.execPath}" "${binPath}" --cwd "${root}"`;
    await startService({
      script: `eval "$(${avsctl} devnet env --service validation --format shell)" && exec node src/main.ts`,
    });
    const status = await cli(["devnet", "status", "--json"]);
    expect(status.code, why(status)).toBe(0);
    const honest = await sendReport(await report(3));
    expect(honest.code, why(honest)).toBe(0);
    expect(honest.json().status).toBe("approved");
  });
});
