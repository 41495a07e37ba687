/**
 * task send while a component of the devnet dies (SIGKILL, by the pid of its run record) and the
 * supervisor starts it again, as a tester kills it: the CLI as a user's CI script runs it, on one
 * process-runtime devnet shared by the file.
 */
import { readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, runCli, runPasted } from "../../helpers/cli.js";
import { expectLoadL2Unanswered, expectOneTaskL2Unanswered, taskProject } from "./project.js";

const { dir, cli } = taskProject("restart");
/** Processes a test stopped (SIGSTOP), woken again however the test ends. */
const stopped = new Set<number>();

beforeAll(async () => {
  const up = await cli(["devnet", "up", "--runtime", "process"], 180_000);
  expect(up.code, up.stderr + up.stdout).toBe(0);
}, 240_000);

afterAll(async () => {
  for (const pid of stopped) wake(pid);
  await runCli(["devnet", "down"], { cwd: dir });
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pid a component's run record names. */
function pidOf(component: string): number {
  return JSON.parse(readFileSync(path.join(dir, ".avsctl", "run", `${component}.json`), "utf8")).pid;
}

function supervisorPid(): number {
  return JSON.parse(readFileSync(path.join(dir, ".avsctl", "supervisor.json"), "utf8")).pid;
}

/** Stops a process (`group`: its whole process group), so that it neither answers nor dies. */
function freeze(pid: number, group = false): void {
  process.kill(group ? -pid : pid, "SIGSTOP");
  stopped.add(group ? -pid : pid);
}

function wake(pid: number): void {
  stopped.delete(pid);
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // gone already
  }
}

/** The aggregator's JSON-RPC port on this machine. */
function aggregatorPort(): number {
  const state = JSON.parse(readFileSync(path.join(dir, ".avsctl", "devnet.json"), "utf8"));
  return Number(new URL(state.aggregator.rpcUrl).port);
}

/** This machine's TCP sockets (IPv4 and IPv6): ports, state, bytes received and unread, inode. */
function tcpSockets() {
  return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((file) =>
    readFileSync(file, "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((line) => {
        const f = line.trim().split(/\s+/);
        const port = (address: string) => Number.parseInt(address.split(":").at(-1)!, 16);
        return {
          local: port(f[1]!),
          remote: port(f[2]!),
          established: f[3] === "01",
          unread: Number.parseInt(f[4]!.split(":")[1]!, 16),
          inode: f[9]!,
        };
      }),
  );
}

/**
 * Whether a process of `group` (a component's process group) has a request to `port` that the
 * process listening there has not read yet: sent, and waiting in the connection's receive queue.
 */
function requestWaiting(group: number, port: number): boolean {
  const inodes = new Set<string>();
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      // the process group is the 5th field of /proc/<pid>/stat, after the parenthesised name
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]) !== group) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (socket) inodes.add(socket[1]!);
      }
    } catch {
      // gone meanwhile
    }
  }
  const sockets = tcpSockets();
  const ours = new Set(sockets.filter((s) => inodes.has(s.inode) && s.remote === port).map((s) => s.local));
  return sockets.some((s) => s.local === port && ours.has(s.remote) && s.established && s.unread > 0);
}

/** Until `devnet status` says every component runs again (the supervisor started what died). */
async function healthy(): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await cli(["devnet", "status"]);
    if (status.code === 0) return;
    if (Date.now() > deadline) throw new Error(`the devnet did not come back:\n${status.stdout}`);
    await sleep(500);
  }
}

/** The verdict of each task hash on the devnet's L2, as `task list` reads them. */
async function onChain(): Promise<Map<string, { taskNumber: number; txHash: string; status: string }>> {
  const r = await cli(["task", "list"]);
  expect(r.code, r.stderr).toBe(0);
  return new Map(r.json().tasks.map((t: { taskHash: string }) => [t.taskHash, t]));
}

describe("the aggregator killed while task send sends through the execution service", () => {
  it("a load run sends again what the restarting aggregator refused to connect: every task it took lands", async () => {
    const before = pidOf("aggregator");
    const run = cli(["task", "send", "--count", "20", "--rate", "5", "--wait", "--timeout", "60"], 120_000);
    await sleep(1_500);
    process.kill(before, "SIGKILL");
    const r = await run;
    const s = r.json();
    // A send the kill cut mid-request may have been taken: the execution service hands back the
    // task it signed, and task send sends that very task again (docs/cli.md, retries). A refused
    // one goes again too. None fails.
    expect(s.results.filter((t: { status: string }) => t.status !== "approved")).toEqual([]);
    expect(s).toMatchObject({ sent: 20, approved: 20, failed: 0 });
    expect(s.retried, "no send met the aggregator down: kill it later").toBeGreaterThanOrEqual(1);
    expect(r.code).toBe(0);
    expect(pidOf("aggregator")).not.toBe(before);
    const chain = await onChain();
    for (const t of s.results.filter((t: { status: string }) => t.status === "approved"))
      expect(chain.get(t.taskHash)?.txHash, t.taskHash).toBe(t.txHash);
  }, 150_000);

  it("an aggregator that stays down is RPC_UNREACHABLE (exit 4) by either path, with a hint that shows it", async () => {
    await healthy();
    const supervisor = supervisorPid();
    freeze(supervisor);
    try {
      process.kill(pidOf("aggregator"), "SIGKILL");
      await sleep(500);
      const errors = [];
      for (const via of ["execution", "rpc"]) {
        const r = await cli(["task", "send", "--via", via]);
        expect(r.code, `--via ${via}: ${r.stdout}`).toBe(4);
        errors.push(r.json().error);
      }
      expect(errors.map((e) => e.code)).toEqual(["RPC_UNREACHABLE", "RPC_UNREACHABLE"]);
      expect(errors[0].hint).toBe(errors[1].hint);
      expect(errors[0].message).toMatch(/^the execution service could not reach the aggregator: /);
      // the hint, pasted, names the aggregator as down
      const [, command] = /`(avsctl [^`]+)`/.exec(errors[0].hint)!;
      const status = await runPasted(`${command} --json`, { cwd: dir });
      expect(status.code).toBe(1);
      const aggregator = JSON.parse(status.stdout).components.find(
        (c: { name: string }) => c.name === "aggregator",
      );
      expect(aggregator).toMatchObject({ healthy: false });
    } finally {
      wake(supervisor);
    }
    await healthy();
  }, 120_000);
});

describe("the aggregator killed while the execution service's sendTask waits for its answer (cut mid-request)", () => {
  /**
   * Runs `send` against a stopped aggregator, and kills the aggregator once the execution
   * service's sendTask waits unread in its connection: the service's call is cut mid-request
   * (a reset), and whether the aggregator took the task is unknown to it. Here it did not.
   */
  async function cutMidRequest(send: () => Promise<CliResult>): Promise<CliResult> {
    await healthy();
    const aggregator = pidOf("aggregator");
    const execution = pidOf("execution");
    const port = aggregatorPort();
    freeze(aggregator);
    const run = send();
    const deadline = Date.now() + 30_000;
    while (!requestWaiting(execution, port)) {
      if (Date.now() > deadline)
        throw new Error("the execution service's sendTask never reached the aggregator");
      await sleep(50);
    }
    process.kill(aggregator, "SIGKILL");
    stopped.delete(aggregator);
    return run;
  }

  it("the supervisor starts it again: task send sends the task the service signed again, as itself, and reports the verdict that lands", async () => {
    const r = await cutMidRequest(() => cli(["task", "send", "--wait", "--timeout", "60"], 90_000));
    expect(r.code, r.stdout).toBe(0);
    const t = r.json();
    expect(t).toMatchObject({ status: "approved", taskHash: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
    expect(t.duplicate).toBeUndefined();
    expect((await onChain()).get(t.taskHash)).toMatchObject({ taskNumber: t.taskNumber, txHash: t.txHash });
  }, 150_000);

  it("it stays down past --timeout: the task's fate is unknown (timeout, exit 3, named by its hash), not failed; and it did not land", async () => {
    // the supervisor is stopped below: whatever it was starting again must be up first
    await healthy();
    const supervisor = supervisorPid();
    freeze(supervisor);
    let r: CliResult;
    try {
      r = await cutMidRequest(() => cli(["task", "send", "--wait", "--timeout", "8"], 60_000));
    } finally {
      wake(supervisor);
    }
    expect(r.code, r.stdout).toBe(3);
    const t = r.json();
    expect(t).toMatchObject({
      status: "timeout",
      taskHash: expect.stringMatching(/^0x[0-9a-f]{64}$/),
      // one task's JSON: why there is no verdict is its reason
      reason: { message: expect.stringMatching(/^fate unknown: the aggregator may have taken this task/) },
    });
    await healthy();
    // the aggregator never read it: neither its journal nor the chain has the task
    const status = await cli(["task", "status", t.taskHash]);
    expect(status.code, status.stdout).toBe(1);
    expect(status.json().error.code).toBe("NOT_FOUND");
    expect((await onChain()).has(t.taskHash)).toBe(false);
  }, 150_000);
});

describe("the L2 killed while task send --wait reads the verdicts", () => {
  it("a load run reads on once the L2 is back: every verdict it prints is the chain's", async () => {
    await healthy();
    const before = pidOf("l2-1");
    const run = cli(["task", "send", "--count", "20", "--rate", "5", "--wait", "--timeout", "30"], 120_000);
    await sleep(1_500);
    process.kill(before, "SIGKILL");
    const r = await run;
    expect(r.stdout).not.toContain("INTERNAL");
    const s = r.json();
    expect(s.results).toHaveLength(20);
    expect(pidOf("l2-1")).not.toBe(before);
    const chain = await onChain();
    for (const t of s.results) {
      if (t.status === "approved") {
        expect(chain.get(t.taskHash), t.taskHash).toMatchObject({
          taskNumber: t.taskNumber,
          txHash: t.txHash,
        });
      } else if (t.status === "timeout") {
        // its verdict was in the blocks the chain lost with its last second, and the aggregator forgot it
        expect(chain.has(t.taskHash), t.taskHash).toBe(false);
      } else {
        // while the L2 was down the aggregator could not check the definition: refused, not
        // taken (a send the aggregator's restart cut mid-request goes again as itself)
        expect(t, t.taskHash).toMatchObject({
          status: "failed",
          error: expect.stringMatching(/task definition/),
        });
      }
    }
    expect(s.approved).toBeGreaterThanOrEqual(10);
    expect(r.code).toBe(s.failed > 0 ? 1 : s.timedOut > 0 ? 3 : 0);
  }, 150_000);

  it("one task waits through the L2's restart and gets its verdict", async () => {
    await healthy();
    // attesters stopped: the task waits for its verdict while the L2 dies and comes back
    const attesters = ["attester-1", "attester-2", "attester-3"].map(pidOf);
    for (const pid of attesters) freeze(pid, true);
    const before = pidOf("l2-1");
    try {
      const run = cli(["task", "send", "--wait", "--timeout", "60"], 90_000);
      await sleep(2_000);
      process.kill(before, "SIGKILL");
      const deadline = Date.now() + 20_000;
      while (pidOf("l2-1") === before && Date.now() < deadline) await sleep(200);
      await sleep(1_000);
      for (const pid of attesters) wake(-pid);
      const r = await run;
      expect(r.code, r.stdout).toBe(0);
      const t = r.json();
      expect(t.status).toBe("approved");
      expect((await onChain()).get(t.taskHash)).toMatchObject({ taskNumber: t.taskNumber, txHash: t.txHash });
    } finally {
      for (const pid of attesters) wake(-pid);
    }
  }, 120_000);

  /** Runs `send` with the supervisor stopped, so that the L2 it kills `afterMs` in stays down. */
  async function withoutL2(send: () => Promise<CliResult>, afterMs: number, attestersStopped = false) {
    await healthy();
    const supervisor = supervisorPid();
    const attesters = ["attester-1", "attester-2", "attester-3"].map(pidOf);
    freeze(supervisor);
    try {
      if (attestersStopped) for (const pid of attesters) freeze(pid, true);
      const run = send();
      await sleep(afterMs);
      process.kill(pidOf("l2-1"), "SIGKILL");
      const r = await run;
      // the hint, pasted while the L2 is still down, shows it down
      const status = await runPasted("avsctl devnet status --json", { cwd: dir });
      expect(status.code).toBe(1);
      const l2 = JSON.parse(status.stdout).components.find((c: { name: string }) => c.name === "l2-1");
      expect(l2).toMatchObject({ healthy: false });
      return r;
    } finally {
      for (const pid of attesters) wake(-pid);
      wake(supervisor);
      await healthy();
    }
  }

  it("an L2 that does not come back before --timeout: one task is RPC_UNREACHABLE (exit 4), naming it", async () => {
    // no verdict can come before the kill: the attesters are stopped
    const r = await withoutL2(() => cli(["task", "send", "--wait", "--timeout", "8"], 60_000), 2_000, true);
    expectOneTaskL2Unanswered(r);
  }, 150_000);

  it("an L2 that does not come back before --timeout: a load run is RPC_UNREACHABLE (exit 4) with what was sent and decided", async () => {
    const r = await withoutL2(
      () => cli(["task", "send", "--count", "10", "--rate", "5", "--wait", "--timeout", "8"], 60_000),
      1_500,
    );
    const { sent, decided } = expectLoadL2Unanswered(r);
    expect(sent).toBeGreaterThanOrEqual(5);
    expect(decided).toBeGreaterThanOrEqual(1);
    expect(r.json().error.hint).toBe(
      "`avsctl devnet status` shows whether the L2 runs; once it answers, `avsctl task list` shows the verdicts that landed",
    );
  }, 150_000);
});
