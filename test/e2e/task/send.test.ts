import { spawn } from "node:child_process";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binPath, runCli } from "../../helpers/cli.js";
import { taskProject } from "./project.js";

// One process-runtime devnet shared by the file: the CLI as a user's CI script runs it.
const { dir, cli, verdictsByHash } = taskProject("send");
let state: any;

beforeAll(async () => {
  const up = await cli(["devnet", "up", "--runtime", "process"], 180_000);
  expect(up.code, up.stderr + up.stdout).toBe(0);
  state = up.json();
}, 240_000);

afterAll(async () => {
  await runCli(["devnet", "down"], { cwd: dir });
  rmSync(dir, { recursive: true, force: true });
});

describe("task send on the devnet (process runtime)", () => {
  it("a healthy start logs no error-level line in any component", () => {
    const logs = path.join(dir, ".avsctl", "logs");
    const files = readdirSync(logs).filter((f) => f.endsWith(".log"));
    expect(files.length).toBeGreaterThanOrEqual(5); // chains, aggregator, attesters, services
    for (const file of files) {
      const errors = readFileSync(path.join(logs, file), "utf8")
        .split("\n")
        .filter((line) => /"level"\s*:\s*"(error|fatal)"/.test(line));
      expect(errors, file).toEqual([]);
    }
  });

  it("--wait --json returns approved with task number, tx, attester ids and latency", async () => {
    const r = await cli(["task", "send", "--wait", "--data", "hello"]);
    expect(r.code, r.stderr).toBe(0);
    const t = r.json();
    expect(t).toMatchObject({
      status: "approved",
      taskDefinitionId: 1,
      performer: state.performer.address,
      chainId: state.l2[0].chainId,
    });
    expect(t.taskNumber).toBeGreaterThanOrEqual(1);
    expect(t.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(t.attestersIds.length).toBeGreaterThanOrEqual(2);
    const ids = state.attesters.map((a: any) => a.operatorId);
    for (const id of t.attestersIds) expect(ids).toContain(id);
    expect(t.latencyMs).toBeGreaterThan(0);
    const status = await cli(["task", "status", String(t.taskNumber)]);
    expect(status.json()).toMatchObject({ status: "approved", taskNumber: t.taskNumber, txHash: t.txHash });
  });

  it("a BLS performer signature is approved too", async () => {
    const r = await cli(["task", "send", "--wait", "--sig-type", "bls"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().status).toBe("approved");
  });

  it("through the execution service", async () => {
    const r = await cli(["task", "send", "--wait", "--via", "execution"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().status).toBe("approved");
  });

  it("a wrong proof is rejected on-chain: status rejected, exit 1", async () => {
    const r = await cli(["task", "send", "--wait", "--proof", "0xbad"]);
    expect(r.code).toBe(1);
    expect(r.json()).toMatchObject({ status: "rejected", proofOfTask: "0xbad" });
    expect(r.json().txHash).toMatch(/^0x/);
  });

  it("bad input exits 2 and sends nothing", async () => {
    const before = await verdictsByHash();
    for (const args of [
      ["--task-def", "70000"],
      ["--task-def", "10001"],
      ["--sig-type", "rsa"],
      ["--via", "carrier-pigeon"],
      ["--count", "0"],
      ["--target-chain", "999"],
    ]) {
      const r = await cli(["task", "send", "--wait", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json().error.code).toMatch(/INVALID_ARGUMENT/);
    }
    expect((await verdictsByHash()).size).toBe(before.size);
  });

  it("--count 200 --concurrency 20: every task approved, counts add up, each on-chain exactly once", async () => {
    const r = await cli(
      ["task", "send", "--wait", "--count", "200", "--concurrency", "20", "--timeout", "120"],
      200_000,
    );
    expect(r.code, r.stderr).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({ sent: 200, approved: 200, rejected: 0, timedOut: 0 });
    expect(s.approved + s.rejected + s.timedOut + s.failed).toBe(200);
    expect(s.results).toHaveLength(200);
    expect(s.latencyMs.p50).toBeLessThanOrEqual(s.latencyMs.p95);
    expect(s.latencyMs.p95).toBeLessThanOrEqual(s.latencyMs.p99);
    expect(s.latencyMs.p99).toBeLessThanOrEqual(s.latencyMs.max);
    expect(s.throughputPerSec).toBeGreaterThan(0);
    const onChain = await verdictsByHash();
    for (const t of s.results) expect(onChain.get(t.taskHash), t.taskHash).toBe(1);
    const numbers = new Set(s.results.map((t: any) => t.taskNumber));
    expect(numbers.size).toBe(200);
    // shaped like a single task's answer: each with the gas of its submission (null beyond 20 before)
    for (const t of s.results) expect(BigInt(t.gasUsed), t.taskHash).toBeGreaterThan(100_000n);
  }, 240_000);

  it("each task's latency ends at its own verdict, not when the run's last task was sent", async () => {
    // sends spread over 2.5 s (2/s); a task is decided in a fraction of that
    const r = await cli(["task", "send", "--wait", "--count", "6", "--rate", "2", "--timeout", "60"], 90_000);
    expect(r.code, r.stderr).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({ sent: 6, approved: 6 });
    expect(s.durationMs).toBeGreaterThanOrEqual(2_500);
    // before: every verdict was looked for after the last send, so the first task's latency
    // was the whole sending time
    expect(s.results[0].latencyMs).toBeLessThan(2_000);
    expect(s.latencyMs.max).toBeLessThan(s.durationMs);
  }, 120_000);

  it("a load the validation rejects: every task rejected, exit 1, and its throughput counts them", async () => {
    const r = await cli(
      ["task", "send", "--wait", "--count", "4", "--proof", "0xbad", "--timeout", "60"],
      90_000,
    );
    expect(r.code, r.stderr).toBe(1);
    const s = r.json();
    expect(s).toMatchObject({ sent: 4, distinct: 4, approved: 0, rejected: 4 });
    // decided tasks per second, whatever the verdict (it was approvals only: 0 here)
    expect(s.throughputPerSec).toBeCloseTo((4 * 1000) / s.durationMs, 1);
  }, 120_000);

  it("a task sent twice: the second --wait answers at once with the same task number and verdict", async () => {
    for (const args of [
      ["--via", "rpc", "--data", `twice-rpc-${process.pid}`],
      ["--via", "execution", "--data", `twice-exec-${process.pid}`],
      ["--via", "rpc", "--proof", "0xbad", "--data", `twice-rejected-${process.pid}`],
    ]) {
      const first = await cli(["task", "send", "--wait", ...args]);
      const second = await cli(["task", "send", "--wait", "--timeout", "5", ...args]);
      const a = first.json();
      const b = second.json();
      expect(a.status, args.join(" ")).toMatch(/^(approved|rejected)$/);
      expect(second.code, args.join(" ")).toBe(first.code);
      expect(b).toMatchObject({
        status: a.status,
        taskNumber: a.taskNumber,
        taskHash: a.taskHash,
        txHash: a.txHash,
        duplicate: true,
      });
      expect(a.duplicate).toBeUndefined();
      expect((await verdictsByHash()).get(a.taskHash)).toBe(1);
    }
  });

  it("load mode with a constant task: 1 distinct task and N-1 duplicates, counted once on-chain", async () => {
    const data = `constant-${process.pid}`;
    const r = await cli([
      "task",
      "send",
      "--via",
      "rpc",
      "--data",
      data,
      "--count",
      "12",
      "--concurrency",
      "4",
      "--wait",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = r.json();
    expect(s).toMatchObject({ sent: 12, distinct: 1, duplicates: 11, approved: 1, rejected: 0, timedOut: 0 });
    // the cause named is the flag the user gave, not the project
    expect(s.warnings.join("\n")).toMatch(
      /11 of 12 sends repeated a task .*: the --data given made every task the same/,
    );
    expect(new Set(s.results.map((t: any) => t.taskNumber)).size).toBe(1);
    expect(s.results.filter((t: any) => t.duplicate)).toHaveLength(11);
    expect((await verdictsByHash()).get(s.results[0].taskHash)).toBe(1);
  });

  it("a verdict decided earlier is found in the chain's history when no aggregator journal answers", async () => {
    const sent = await cli(["task", "send", "--via", "rpc", "--data", `history-${process.pid}`, "--wait"]);
    expect(sent.code, sent.stderr).toBe(0);
    const { JsonRpcProvider } = await import("ethers");
    const { lookupVerdicts } = await import("../../../src/client/verdicts.js");
    const provider = new JsonRpcProvider(state.l2[0].rpcUrl, undefined, { staticNetwork: true });
    try {
      const q = { provider, attestationCenter: state.l2[0].attestationCenter, chainId: state.l2[0].chainId };
      const hash = sent.json().taskHash;
      // Without the journal and without asking for history, nothing is claimed...
      expect((await lookupVerdicts(q, [hash])).size).toBe(0);
      // ...and the chain's history gives the very verdict the send reported.
      const found = await lookupVerdicts(q, [hash], new Set([hash.toLowerCase()]));
      expect(found.get(hash.toLowerCase())).toMatchObject({
        status: "approved",
        taskNumber: sent.json().taskNumber,
        txHash: sent.json().txHash,
      });
    } finally {
      provider.destroy();
    }
  });

  it("exit codes: unknown definition 2 on either path, a refusal the execution service passes on as over --via rpc, nothing sent", async () => {
    const before = await verdictsByHash();
    for (const via of ["rpc", "execution"]) {
      const unknownDef = await cli(["task", "send", "--via", via, "--task-def", "77", "--wait"]);
      expect(unknownDef.code, via).toBe(2);
      expect(unknownDef.json().error, via).toMatchObject({
        code: "TASK_DEF_NOT_FOUND",
        hint: expect.stringContaining("avsctl task-def list"),
      });
    }
    // the default path is the execution service's
    const byDefault = await cli(["task", "send", "--task-def", "77", "--wait"]);
    expect(byDefault.code).toBe(2);
    expect(byDefault.json().error.code).toBe("TASK_DEF_NOT_FOUND");
    // a definition the performer's voting power does not reach: the service's sendTask is refused
    const def = await cli([
      "task-def",
      "create",
      "--name",
      "out-of-reach",
      "--min-voting-power",
      "1000000eth",
    ]);
    expect(def.code, def.stderr).toBe(0);
    const id = String(def.json().taskDefinitionId);
    // create said so, with a command that lets the performer's tasks through
    expect(def.json().warnings).toContainEqual(
      expect.stringMatching(
        new RegExp(
          `performer .* has less voting power than this minimum.*\`avsctl task-def set-min-voting-power ${id} 0\``,
        ),
      ),
    );
    // the service passes on only the aggregator's message: its reason is read back from it, and
    // both paths say the same
    const refused = await Promise.all(
      ["rpc", "execution"].map((via) => cli(["task", "send", "--via", via, "--task-def", id, "--wait"])),
    );
    for (const r of refused) {
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.json().error).toMatchObject({
        code: "COMMAND_FAILED",
        message: expect.stringContaining(`less than task definition ${id}'s minimum voting power`),
        hint: `the performer's voting power is below the definition's minimum: \`avsctl task-def show ${id}\``,
      });
    }
    expect(refused[1]!.json().error.message).toMatch(
      /^the execution service's task was refused by the aggregator: /,
    );
    expect(refused[1]!.json().error.details).toMatchObject({ reason: "INSUFFICIENT_VOTING_POWER" });
    // the hint works when pasted
    const shown = await cli(["task-def", "show", id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect((await verdictsByHash()).size).toBe(before.size);
    // the command it named works when pasted, and its answer warns no more
    const lowered = await cli(["task-def", "set-min-voting-power", id, "0"]);
    expect(lowered.code, lowered.stderr).toBe(0);
    expect(lowered.json().warnings).toEqual([]);
    const raised = await cli(["task-def", "set-min-voting-power", id, "1eth"]);
    expect(raised.json().warnings).toHaveLength(1);
  });

  it("a definition no attester can approve: the same refusal by either path, with a hint that works pasted, nothing sent", async () => {
    const before = await verdictsByHash();
    // restricted to the performer (operator 2, after the aggregator), which holds no voting power
    const def = await cli(["task-def", "create", "--name", "no-eligible", "--restricted-operators", "2"]);
    expect(def.code, def.stderr).toBe(0);
    const id = String(def.json().taskDefinitionId);
    const refused = await Promise.all(
      ["rpc", "execution"].map((via) => cli(["task", "send", "--via", via, "--task-def", id])),
    );
    const hint = `the definition's restricted operators and minimum voting power leave no attester to approve its tasks: \`avsctl task-def show ${id}\` shows them, \`avsctl devnet status\` the attesters' operator ids`;
    for (const r of refused) {
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.json().error).toMatchObject({
        code: "COMMAND_FAILED",
        message: expect.stringContaining(`no voting power can attest task definition ${id}`),
        hint,
      });
    }
    expect(refused[1]!.json().error.details).toMatchObject({ reason: "NO_ELIGIBLE_ATTESTERS" });
    // the commands it names work pasted, and show what it speaks of
    const shown = await cli(["task-def", "show", id]);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.json()).toMatchObject({ restrictedOperatorIndexes: ["2"], minimumVotingPower: "0" });
    const status = await cli(["devnet", "status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json().attesters.map((a: any) => a.operatorId)).not.toContain(2);
    expect((await verdictsByHash()).size).toBe(before.size);
  });

  it("apply warns as create does of a minimum voting power the performer falls short of", async () => {
    const file = path.join(dir, "avsctl.config.json");
    const original = readFileSync(file, "utf8");
    const withMinimum = (minVotingPower: string) =>
      writeFileSync(
        file,
        JSON.stringify({
          ...JSON.parse(original),
          taskDefinitions: [{ name: "apply-in-reach" }, { name: "apply-out-of-reach", minVotingPower }],
        }),
      );
    const warning = (id: number) =>
      new RegExp(
        `^taskDefinitions\\[1\\] \\(apply-out-of-reach\\): the devnet's performer .* has less voting power than this minimum.*\`avsctl task-def set-min-voting-power ${id} 0\``,
      );
    try {
      withMinimum("1eth");
      const created = await cli(["task-def", "apply"]);
      expect(created.code, created.stderr).toBe(0);
      const id = created.json().applied[1].taskDefinitionId;
      expect(created.json().applied[1]).toMatchObject({ action: "create", name: "apply-out-of-reach" });
      expect(created.json().warnings).toEqual([expect.stringMatching(warning(id))]);
      // the command it names lets the tasks through; the next apply raises the minimum again, and says so
      expect((await cli(["task-def", "set-min-voting-power", String(id), "0"])).code).toBe(0);
      const raised = await cli(["task-def", "apply"]);
      expect(raised.json().plan).toEqual([
        {
          action: "setMinVotingPower",
          name: "apply-out-of-reach",
          taskDefinitionId: id,
          from: "0",
          to: "1000000000000000000",
        },
      ]);
      expect(raised.json().warnings).toEqual([expect.stringMatching(warning(id))]);
      // a minimum the performer reaches (0 here) is applied without a word
      withMinimum("0");
      const lowered = await cli(["task-def", "apply"]);
      expect(lowered.json().applied).toHaveLength(1);
      expect(lowered.json().warnings).toEqual([]);
    } finally {
      writeFileSync(file, original);
    }
  });

  /**
   * A definition that expires with the block its first submission lands in: created (one block)
   * to expire at the next, it is still live when the aggregator takes a task in, and the
   * submitTask, mined in that next block (the devnet mines one per transaction), reverts with
   * InvalidTaskDefinition, which the aggregator journals as failed.
   */
  async function expiringAtSubmission(name: string): Promise<number> {
    const { jsonRpc, quantity } = await import("../../../src/chain/json-rpc.js");
    const head = quantity(await jsonRpc<string>(state.l2[0].rpcUrl, "eth_blockNumber", []));
    const def = await cli(["task-def", "create", "--name", name, "--block-expiry", String(head + 2)]);
    expect(def.code, def.stderr).toBe(0);
    return Number(def.json().taskDefinitionId);
  }

  it("a task whose submission reverts ends the wait at once: failed, with the revert as its reason, exit 1", async () => {
    for (const via of ["rpc", "execution"]) {
      const id = await expiringAtSubmission(`expiring-${via}`);
      const started = Date.now();
      const r = await cli([
        "task",
        "send",
        "--task-def",
        String(id),
        "--via",
        via,
        "--wait",
        "--timeout",
        "20",
      ]);
      expect(r.code, `${via}: ${r.stdout}${r.stderr}`).toBe(1);
      const t = r.json();
      expect(t, via).toMatchObject({
        status: "failed",
        taskNumber: null,
        taskDefinitionId: id,
        performer: state.performer.address,
        reason: {
          // replayed as in the block it was mined in: on the block before, the definition was live
          message: expect.stringContaining("submitTask reverted: InvalidTaskDefinition"),
          abstained: [],
        },
      });
      expect(t.taskHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(t.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      // it waited out the whole --timeout before (20.6 s), and said "timeout"
      expect(Date.now() - started, via).toBeLessThan(15_000);
      const status = await cli(["task", "status", t.taskHash]);
      expect(status.json()).toMatchObject({ status: "failed", error: t.reason.message, txHash: t.txHash });
    }
  }, 120_000);

  it("load mode: tasks whose submission reverts count as failed at once, exit 1", async () => {
    const id = await expiringAtSubmission("expiring-load");
    const started = Date.now();
    const r = await cli([
      "task",
      "send",
      "--task-def",
      String(id),
      "--via",
      "rpc",
      "--count",
      "3",
      "--concurrency",
      "3",
      "--wait",
      "--timeout",
      "20",
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const s = r.json();
    expect(s).toMatchObject({ sent: 3, distinct: 3, failed: 3, timedOut: 0, approved: 0, rejected: 0 });
    for (const t of s.results) {
      expect(t).toMatchObject({
        status: "failed",
        taskDefinitionId: id,
        reason: { message: expect.stringContaining("submitTask reverted: InvalidTaskDefinition") },
      });
    }
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 60_000);

  it("too little connected power for a definition: unreachable by either path, naming the task that was sent", async () => {
    // one signer at most, while approval needs two thirds of the attesters' power
    const def = await cli(["task-def", "create", "--name", "single-signer", "--max-attesters", "1"]);
    expect(def.code, def.stderr).toBe(0);
    const id = Number(def.json().taskDefinitionId);
    const before = await verdictsByHash();
    const reasons: unknown[] = [];
    for (const via of ["rpc", "execution"]) {
      const r = await cli([
        "task",
        "send",
        "--task-def",
        String(id),
        "--via",
        via,
        "--wait",
        "--timeout",
        "20",
      ]);
      expect(r.code, `${via}: ${r.stdout}${r.stderr}`).toBe(1);
      const t = r.json();
      expect(t, via).toMatchObject({
        status: "unreachable",
        taskNumber: null,
        txHash: null,
        taskDefinitionId: id,
        performer: state.performer.address,
        reason: {
          message: expect.stringMatching(
            new RegExp(`^at most 1 attester\\(s\\) may sign for definition ${id} .* below the \\d+ needed`),
          ),
          abstained: [],
          connectedPower: expect.stringMatching(/^[1-9]\d*$/),
          requiredPower: expect.stringMatching(/^[1-9]\d*$/),
        },
      });
      expect(BigInt(t.reason.connectedPower)).toBeLessThan(BigInt(t.reason.requiredPower));
      reasons.push(t.reason);
      if (via === "rpc") {
        // the task avsctl signed: its proof and hash, not blanks
        expect(t.proofOfTask).not.toBe("");
        expect(t.taskHash).toMatch(/^0x[0-9a-f]{64}$/);
      }
    }
    // the same refusal, whichever path relayed it
    expect(reasons[1]).toEqual(reasons[0]);
    expect((await verdictsByHash()).size).toBe(before.size);
  }, 60_000);

  it("SIGTERM or SIGINT while waiting: exit 130 at once, INTERRUPTED naming what was sent", async () => {
    // attesters frozen: the aggregator takes the tasks and no verdict can come while we wait
    const groups = state.attesters.map(
      (a: { name: string }) =>
        JSON.parse(readFileSync(path.join(dir, ".avsctl", "run", `${a.name}.json`), "utf8")).pid as number,
    );
    const interrupt = async (args: string[], signal: NodeJS.Signals, afterMs: number) => {
      const child = spawn(process.execPath, [binPath, ...args, "--json"], {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (d) => void (stdout += d));
      const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
      await new Promise((r) => setTimeout(r, afterMs));
      const sentAt = Date.now();
      child.kill(signal);
      const code = await exited;
      return { code, error: JSON.parse(stdout).error, tookMs: Date.now() - sentAt };
    };
    for (const pid of groups) process.kill(-pid, "SIGSTOP");
    try {
      const one = await interrupt(["task", "send", "--wait", "--timeout", "60"], "SIGTERM", 4_000);
      expect(one.code).toBe(130);
      expect(one.error.code).toBe("INTERRUPTED");
      expect(one.error.details.sent).toBe(1);
      const [hash] = one.error.details.taskHashes;
      expect(one.error.message).toBe(
        `task send was interrupted before task ${hash} had its verdict; the aggregator has it and may still decide it`,
      );
      expect(one.error.hint).toBe(`\`avsctl task status ${hash}\` shows its verdict once it lands`);
      expect(one.tookMs).toBeLessThan(10_000);

      const load = await interrupt(
        ["task", "send", "--count", "50", "--rate", "5", "--wait", "--timeout", "60"],
        "SIGINT",
        3_000,
      );
      expect(load.code).toBe(130);
      expect(load.error.code).toBe("INTERRUPTED");
      expect(load.error.details.sent).toBeGreaterThan(0);
      expect(load.error.details.sent).toBeLessThan(50);
      expect(load.error.message).toMatch(
        new RegExp(
          `^task send was interrupted after sending ${load.error.details.sent} of 50 task\\(s\\), 0 decided`,
        ),
      );
      expect(load.error.details.taskHashes).toHaveLength(load.error.details.sent);
    } finally {
      for (const pid of groups) process.kill(-pid, "SIGCONT");
    }
  }, 90_000);

  it("an aggregator that is stopped gives exit 3 after the timeout, not a hang", async () => {
    const run = JSON.parse(readFileSync(path.join(dir, ".avsctl", "run", "aggregator.json"), "utf8"));
    process.kill(-run.pid, "SIGSTOP"); // frozen: connections hang instead of failing fast
    try {
      // the child's own 60 s bound fails the test if --timeout is not honoured
      const r = await cli(["task", "send", "--wait", "--timeout", "4"], 60_000);
      expect(r.code).toBe(3);
      expect(r.json().status).toBe("timeout");
    } finally {
      process.kill(-run.pid, "SIGCONT");
    }
    const status = await runCli(["devnet", "status", "--json"], { cwd: dir });
    expect(status.code, status.stdout).toBe(0);
  });
});

describe("task watch", () => {
  it("streams each new verdict as one JSON line, and stops at --timeout", async () => {
    const { spawn } = await import("node:child_process");
    const { binPath } = await import("../../helpers/cli.js");
    // Watching from the block after today's head: whatever the watch reads first, the task sent
    // below lands in a block it reports, with no sleep racing its start.
    const { jsonRpc, quantity } = await import("../../../src/chain/json-rpc.js");
    const head = quantity(await jsonRpc<string>(state.l2[0].rpcUrl, "eth_blockNumber", []));
    const watch = spawn(
      process.execPath,
      [binPath, "task", "watch", "--json", "--timeout", "8", "--from-block", String(head + 1)],
      { cwd: dir },
    );
    let out = "";
    watch.stdout.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => watch.on("close", resolve));
    const sent = await cli(["task", "send", "--wait", "--data", "watched"]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(await exited).toBe(0);
    const lines = out
      .trim()
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.taskHash)).toContain(sent.json().taskHash);
    expect(lines.every((l) => l.status === "approved" || l.status === "rejected")).toBe(true);
  }, 60_000);
});
