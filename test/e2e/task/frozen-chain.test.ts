/**
 * A chain that freezes (SIGSTOP: the kernel still takes its connections, nothing answers) while a
 * command reads it. ethers waits 300 s for an answer by default; avsctl ends as for a chain that
 * refuses connections: `task send --wait` by --timeout with RPC_UNREACHABLE (exit 4) and what
 * was sent and decided, the reading commands after one request's bound (docs/cli.md). The
 * tests' 60 s limit fails the old behaviour. Every stopped process is woken however a test ends.
 */
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { id } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AnvilInstance, startAnvil } from "../../../src/chain/anvil.js";
import { runCli, SHELL_SETTINGS } from "../../helpers/cli.js";
import { type FreezingRelay, freezeOn, type RpcCall } from "../../helpers/freezing-relay.js";
import { avsctl, DEPLOYER_KEY, deployAttestationCenter, expectError, expectOk } from "../task-def/fixture.js";
import { expectLoadL2Unanswered, expectOneTaskL2Unanswered, taskProject } from "./project.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The project directories of both blocks, removed whichever of them ran (-t may skip one). */
const projects = { devnet: taskProject("frozen"), reads: taskProject("frozen-reads") };
afterAll(() => {
  for (const p of Object.values(projects)) rmSync(p.dir, { recursive: true, force: true });
});

describe("the devnet's L2 freezes while task send --wait reads the verdicts", () => {
  const { dir, cli } = projects.devnet;
  /** Processes (negative: process groups) a test stopped, woken however it ends. */
  const stopped = new Set<number>();

  beforeAll(async () => {
    const up = await cli(["devnet", "up", "--runtime", "process"], 180_000);
    expect(up.code, up.stderr + up.stdout).toBe(0);
  }, 240_000);

  afterAll(async () => {
    for (const pid of stopped) wake(pid);
    await runCli(["devnet", "down", "--volumes"], { cwd: dir });
  }, 120_000);

  function pidOf(component: string): number {
    return JSON.parse(readFileSync(path.join(dir, ".avsctl", "run", `${component}.json`), "utf8")).pid;
  }

  function freeze(pid: number): void {
    process.kill(pid, "SIGSTOP");
    stopped.add(pid);
  }

  function wake(pid: number): void {
    stopped.delete(pid);
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // gone already
    }
  }

  /** Runs `send`, freezes the L2 `afterMs` in, and wakes everything once `send` ended. */
  async function withFrozenL2(send: () => ReturnType<typeof cli>, afterMs: number, attestersStopped = false) {
    const attesters = ["attester-1", "attester-2", "attester-3"].map((a) => -pidOf(a));
    try {
      if (attestersStopped) for (const group of attesters) freeze(group);
      const run = send();
      await sleep(afterMs);
      freeze(pidOf("l2-1"));
      return await run;
    } finally {
      for (const pid of [...stopped]) wake(pid);
    }
  }

  it("one task: RPC_UNREACHABLE (exit 4) by --timeout, naming the task", async () => {
    // no verdict can come before the freeze: the attesters are stopped
    const r = await withFrozenL2(
      () => cli(["task", "send", "--wait", "--timeout", "8"], 55_000),
      2_000,
      true,
    );
    expectOneTaskL2Unanswered(r);
  }, 60_000);

  it("a load run: RPC_UNREACHABLE (exit 4) by --timeout, with what was sent and decided", async () => {
    const r = await withFrozenL2(
      () => cli(["task", "send", "--count", "10", "--rate", "5", "--wait", "--timeout", "8"], 55_000),
      1_500,
    );
    expectLoadL2Unanswered(r);
  }, 60_000);
});

describe.concurrent("a chain that freezes mid-command: the reading commands end RPC_UNREACHABLE (exit 4)", () => {
  const chains = new Set<{ anvil: AnvilInstance; relay?: FreezingRelay }>();
  const project = projects.reads;

  afterAll(async () => {
    for (const c of chains) {
      await c.relay?.close();
      await c.anvil.stop();
    }
  });

  /**
   * A chain of its own with our AttestationCenter (and `definition`: one task definition), frozen
   * at the first request `when` picks.
   */
  async function chainFrozenOn(when: (call: RpcCall) => boolean, opts: { definition?: boolean } = {}) {
    const anvil = await startAnvil({ chainId: 31338 });
    const held: { anvil: AnvilInstance; relay?: FreezingRelay } = { anvil };
    chains.add(held);
    const attestationCenter = await deployAttestationCenter(anvil);
    if (opts.definition) {
      const target = ["--rpc-url", anvil.rpcUrl, "--attestation-center", attestationCenter];
      expectOk(
        await run(["task-def", "create", "--name", "frozen", ...target, "--private-key", DEPLOYER_KEY]),
      );
    }
    held.relay = await freezeOn(anvil, when);
    return { relay: held.relay, attestationCenter };
  }

  /** The CLI with no target of the developer's shell: only what the test gives. */
  const run = (args: string[], env: Record<string, string> = {}) =>
    avsctl(args, {
      cwd: project.dir,
      env: { ...Object.fromEntries(SHELL_SETTINGS.map((k) => [k, undefined])), ...env },
    });
  const getLogs = (c: RpcCall) => c.method === "eth_getLogs";
  const unanswered = (url: string, seconds = "30") =>
    `the chain at ${url} did not answer within ${seconds} s`;

  for (const [name, args] of [
    ["task list", ["task", "list"]],
    ["task status", ["task", "status", "1"]],
  ] as const) {
    it(`${name}: frozen as it reads the verdicts`, async () => {
      const { relay, attestationCenter } = await chainFrozenOn(getLogs);
      const r = await run([...args], {
        AVSCTL_RPC_URL: relay.url,
        AVSCTL_ATTESTATION_CENTER: attestationCenter,
      });
      expect(relay.frozen).toBe(true);
      expect(expectError(r, 4, "RPC_UNREACHABLE").message).toBe(unanswered(relay.url));
    }, 60_000);
  }

  it("task watch --timeout: frozen as it follows, ends by the timeout", async () => {
    const { relay, attestationCenter } = await chainFrozenOn(getLogs);
    const r = await run(["task", "watch", "--from-block", "0", "--timeout", "5"], {
      AVSCTL_RPC_URL: relay.url,
      AVSCTL_ATTESTATION_CENTER: attestationCenter,
    });
    expect(relay.frozen).toBe(true);
    // what was left of --timeout when the frozen request went out
    expect(expectError(r, 4, "RPC_UNREACHABLE").message).toMatch(
      new RegExp(`^${unanswered(relay.url, "[0-5](\\.\\d)?")}$`),
    );
  }, 60_000);

  it("task-def list: frozen as it reads the definitions' events", async () => {
    const { relay, attestationCenter } = await chainFrozenOn(getLogs, { definition: true });
    const r = await run([
      "task-def",
      "list",
      "--rpc-url",
      relay.url,
      "--attestation-center",
      attestationCenter,
    ]);
    expect(relay.frozen).toBe(true);
    expect(expectError(r, 4, "RPC_UNREACHABLE").message).toBe(unanswered(relay.url));
  }, 60_000);

  it("task-def show: frozen as it reads a definition's current values, which it does not guess", async () => {
    const minimumVotingPower = id("getTaskDefinitionMinimumVotingPower(uint16)").slice(0, 10);
    const { relay, attestationCenter } = await chainFrozenOn(
      (c) =>
        c.method === "eth_call" &&
        String((c.params[0] as { data?: string })?.data ?? "").startsWith(minimumVotingPower),
      { definition: true },
    );
    const r = await run([
      "task-def",
      "show",
      "1",
      "--rpc-url",
      relay.url,
      "--attestation-center",
      attestationCenter,
    ]);
    expect(relay.frozen).toBe(true);
    expect(expectError(r, 4, "RPC_UNREACHABLE").message).toBe(unanswered(relay.url));
  }, 60_000);
});
