/**
 * `task trace` and the merged log stream on one process-runtime devnet: an approved task and a
 * rejected one (a wrong proof, sent straight to the aggregator), traced by hash and by number,
 * and `devnet logs --task` / `--json --since` over every component's log.
 */
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";

const dir = mkdtempSync(path.join(tmpdir(), "avsctl-trace-"));
writeFileSync(path.join(dir, "avsctl.config.json"), JSON.stringify({ name: `e2e-trace-${process.pid}` }));
const cli = (args: string[], timeoutMs = 120_000) => runCli(args, { cwd: dir, timeoutMs });
const cliJson = (args: string[], timeoutMs = 120_000) => cli([...args, "--json"], timeoutMs);

let state: any;
let approved: any;
let rejected: any;

/** stdout as JSON lines. */
const jsonLines = (stdout: string): any[] =>
  stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));

beforeAll(async () => {
  const up = await cliJson(["devnet", "up", "--runtime", "process"], 180_000);
  expect(up.code, up.stderr + up.stdout).toBe(0);
  state = up.json();
  const ok = await cliJson(["task", "send", "--wait", "--via", "rpc", "--data", "traced"]);
  expect(ok.code, ok.stderr).toBe(0);
  approved = ok.json();
  const bad = await cliJson(["task", "send", "--wait", "--via", "rpc", "--proof", "0xbad"]);
  expect(bad.code, bad.stderr).toBe(1);
  rejected = bad.json();
  expect(rejected.status).toBe("rejected");
}, 300_000);

afterAll(async () => {
  await runCli(["devnet", "down"], { cwd: dir });
  rmSync(dir, { recursive: true, force: true });
});

/** The checks every trace of the rejected task passes, whichever way it was asked for. */
function checkRejectedTrace(trace: any): void {
  expect(trace).toMatchObject({
    taskHash: rejected.taskHash.toLowerCase(),
    taskNumber: rejected.taskNumber,
    status: "rejected",
    chainId: state.l2[0].chainId,
  });
  const events: any[] = trace.events;
  const steps = events.map((e) => e.step);
  const at = (e: any) => Date.parse(e.time);
  // in order, with times
  for (const e of events) expect(e.time, JSON.stringify(e)).toMatch(/^\d{4}-\d\d-\d\dT/);
  for (let i = 1; i < events.length; i++) expect(at(events[i])).toBeGreaterThanOrEqual(at(events[i - 1]));
  expect(steps[0]).toBe("received");
  // One verdict, after the submission. A rejection needs a third of the power, so an attester
  // slower than the others may vote after it: its line still belongs to the trace.
  expect(steps.filter((s) => s === "verdict")).toHaveLength(1);
  // each attester's validation call, its answer (false) and its reject vote, in that order
  const names: string[] = state.attesters.map((a: any) => a.name);
  for (const name of names) {
    const own = events.filter((e) => e.component === name);
    expect(
      own.map((e) => e.step),
      name,
    ).toEqual(["validation-call", "validation-answer", "vote"]);
    expect(own[1].result).toBe(false);
    expect(own[2].isApproved).toBe(false);
  }
  const threshold = events.find((e) => e.step === "threshold");
  expect(threshold).toMatchObject({ component: "aggregator", verdict: "reject" });
  expect(threshold.attestersIds.length).toBeGreaterThanOrEqual(1);
  const counted = events.filter((e) => e.step === "vote-counted");
  expect(counted.length).toBeGreaterThanOrEqual(1);
  for (const c of counted) expect(c.verdict).toBe("reject");
  expect(steps.indexOf("vote-counted")).toBeLessThan(steps.indexOf("threshold"));
  expect(steps.indexOf("threshold")).toBeLessThan(steps.indexOf("submission"));
  const submission = events.find((e) => e.step === "submission");
  expect(submission).toMatchObject({ txHash: rejected.txHash, status: "success" });
  expect(BigInt(submission.gasUsed)).toBeGreaterThan(0n);
  expect(trace.submission).toMatchObject({ txHash: rejected.txHash, status: "success", revert: null });
  expect(steps.indexOf("verdict")).toBeGreaterThan(steps.indexOf("submission"));
  expect(events.find((e) => e.step === "verdict")).toMatchObject({
    status: "rejected",
    taskNumber: rejected.taskNumber,
  });
}

describe("task trace (process runtime)", () => {
  it("traces the rejected task by hash: validation answers false, reject votes, gas, verdict rejected", async () => {
    const r = await cliJson(["task", "trace", rejected.taskHash]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    checkRejectedTrace(r.json());
    expect(r.json().logsAfterTask).toEqual([]);
  });

  it("traces the same task by its number", async () => {
    const r = await cliJson(["task", "trace", String(rejected.taskNumber)]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    checkRejectedTrace(r.json());
  });

  it("shows humans the same steps in order, one line each", async () => {
    const r = await cli(["task", "trace", rejected.taskHash]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toContain(`rejected (task ${rejected.taskNumber})`);
    expect(lines[1]).toContain("sendTask received");
    expect(lines.filter((l) => l.includes("validation answered false"))).toHaveLength(state.attesters.length);
    expect(lines.filter((l) => l.includes("voted reject"))).toHaveLength(state.attesters.length);
    expect(r.stdout).toMatch(/threshold reached: reject/);
    expect(r.stdout).toMatch(new RegExp(`submitTask ${rejected.txHash} in block \\d+, gas \\d+`));
    const submitted = lines.findIndex((l) => l.includes(`submitTask ${rejected.txHash}`));
    const verdict = lines.findIndex((l) => l.includes(`rejected as task ${rejected.taskNumber}`));
    expect(verdict).toBeGreaterThan(submitted);
  });

  it("traces the approved task: answers true, approve votes, verdict approved", async () => {
    const r = await cliJson(["task", "trace", approved.taskHash]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const trace = r.json();
    expect(trace).toMatchObject({ status: "approved", taskNumber: approved.taskNumber });
    const answers = trace.events.filter((e: any) => e.step === "validation-answer");
    expect(answers).toHaveLength(state.attesters.length);
    for (const a of answers) expect(a.result).toBe(true);
    expect(trace.events.find((e: any) => e.step === "threshold").verdict).toBe("approve");
    expect(trace.events.find((e: any) => e.step === "verdict")).toMatchObject({ status: "approved" });
  });

  it("an unknown task exits 1 NOT_FOUND, by hash and by number", async () => {
    for (const ref of [`0x${"ab".repeat(32)}`, "999999"]) {
      const r = await cliJson(["task", "trace", ref]);
      expect(r.code, ref).toBe(1);
      expect(r.json().error.code).toBe("NOT_FOUND");
    }
    const bad = await cliJson(["task", "trace", "nope"]);
    expect(bad.code).toBe(2);
  });
});

describe("devnet logs: one stream (process runtime)", () => {
  it("--task keeps only that task's lines, from the aggregator and every attester", async () => {
    const r = await cliJson(["devnet", "logs", "--task", rejected.taskHash]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const records = jsonLines(r.stdout);
    expect(records.length).toBeGreaterThan(0);
    const hash = rejected.taskHash.toLowerCase();
    for (const rec of records) expect(JSON.stringify(rec).toLowerCase()).toContain(hash);
    for (const rec of records)
      expect(JSON.stringify(rec).toLowerCase()).not.toContain(approved.taskHash.toLowerCase());
    const components = new Set(records.map((rec) => rec.component));
    expect(components).toContain("aggregator");
    for (const a of state.attesters) expect(components).toContain(a.name);
    // the human form: every line prefixed by its component, and about the task
    const human = await cli(["devnet", "logs", "--task", rejected.taskHash]);
    expect(human.code, human.stderr + human.stdout).toBe(0);
    for (const line of human.stdout.trim().split("\n")) {
      expect(line).toMatch(/^[\w-]+ +\| /);
      expect(line.toLowerCase()).toContain(hash);
    }
  });

  it("--json --since 1m merges every component in time order", async () => {
    const r = await cliJson(["devnet", "logs", "--since", "1m"]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const records = jsonLines(r.stdout);
    const since = Date.now() - 60_000 - 30_000; // the command started a moment ago
    const times = records.map((rec) => Date.parse(rec.time));
    for (const t of times) expect(t).toBeGreaterThanOrEqual(since);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
    for (const rec of records) {
      expect(typeof rec.component).toBe("string");
      expect(typeof rec.level).toBe("string");
      expect(typeof rec.msg).toBe("string");
    }
    const components = new Set(records.map((rec) => rec.component));
    expect(components).toContain("aggregator");
    expect(components.size).toBeGreaterThanOrEqual(1 + state.attesters.length);
    const hashes = records
      .filter((rec) => rec.taskHash !== undefined)
      .map((rec) => rec.taskHash.toLowerCase());
    expect(hashes).toContain(rejected.taskHash.toLowerCase());
  });

  it("a bad --since or --task exits 2", async () => {
    for (const args of [
      ["--since", "yesterday"],
      ["--task", "0x12"],
    ]) {
      const r = await cliJson(["devnet", "logs", ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.json().error.code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("task trace of a task a snapshot restore took off the chain (process runtime)", () => {
  it("says its submission is not on the chain, in JSON and for humans", async () => {
    const saved = await cliJson(["devnet", "snapshot", "save", "before-dropped"]);
    expect(saved.code, saved.stderr + saved.stdout).toBe(0);
    const sent = await cliJson(["task", "send", "--wait", "--via", "rpc", "--data", "dropped"]);
    expect(sent.code, sent.stderr).toBe(0);
    const dropped = sent.json();
    const restored = await cliJson(["devnet", "snapshot", "restore", "before-dropped"], 180_000);
    expect(restored.code, restored.stderr + restored.stdout).toBe(0);

    const chainId = state.l2[0].chainId;
    const notOnChain = `submitTask ${dropped.txHash} is not on chain ${chainId} (a restored or restarted chain may have dropped it)`;
    const r = await cliJson(["task", "trace", dropped.taskHash]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const trace = r.json();
    expect(trace.submission).toMatchObject({ txHash: dropped.txHash, status: "unknown", blockNumber: null });
    expect(trace.verdict).toBeNull();
    const submission = trace.events.find((e: any) => e.step === "submission");
    expect(submission).toMatchObject({ status: "unknown", blockNumber: null, summary: notOnChain });
    const human = await cli(["task", "trace", dropped.taskHash]);
    expect(human.code, human.stderr + human.stdout).toBe(0);
    expect(human.stdout).toContain(notOnChain);
    expect(human.stdout).not.toContain("in block null");
  });
});

describe("task trace of a task sent twice, a snapshot restored between the sends (process runtime)", () => {
  /** The devnet's L2 asked directly: what the trace says must be what the chain has. */
  const rpc = async (method: string, params: unknown[]): Promise<any> => {
    const res = await fetch(state.l2[0].rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    return ((await res.json()) as any).result;
  };
  const send = async (data = "sent twice") => {
    const r = await cliJson(["task", "send", "--wait", "--via", "rpc", "--data", data]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    return r.json();
  };
  const restore = async () => {
    const r = await cliJson(["devnet", "snapshot", "restore", "before-twice"], 180_000);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  };
  const notOnChain = (txHash: string) =>
    `submitTask ${txHash} is not on chain ${state.l2[0].chainId} (a restored or restarted chain may have dropped it)`;
  /** The trace in JSON and for humans, with its submission steps and their lines. */
  const traced = async (taskHash: string) => {
    const r = await cliJson(["task", "trace", taskHash]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const trace = r.json();
    const human = await cli(["task", "trace", taskHash]);
    expect(human.code, human.stderr + human.stdout).toBe(0);
    expect(human.stdout).not.toMatch(/submitTask mined/);
    const lines = human.stdout.split("\n").filter((l) => l.includes("submitTask"));
    return { trace, steps: trace.events.filter((e: any) => e.step === "submission"), lines };
  };

  it("gives each submission its own step, read from the chain: one mined, then none", async () => {
    const saved = await cliJson(["devnet", "snapshot", "save", "before-twice"]);
    expect(saved.code, saved.stderr + saved.stdout).toBe(0);
    const first = await send();
    await restore();
    // Another task takes the aggregator's next nonce: the same signers would otherwise sign the
    // very same transaction again, hash and all.
    await send("between the sends");
    const second = await send();
    expect(second.taskHash).toBe(first.taskHash);
    expect(second.txHash).not.toBe(first.txHash);

    // The chain holds the second submission only.
    expect(await rpc("eth_getTransactionByHash", [first.txHash])).toBeNull();
    const receipt = await rpc("eth_getTransactionReceipt", [second.txHash]);
    expect(receipt.status).toBe("0x1");
    const block = Number(receipt.blockNumber);
    const gas = BigInt(receipt.gasUsed).toString();
    const mined = `submitTask ${second.txHash} in block ${block}, gas ${gas}`;
    let { trace, steps, lines } = await traced(second.taskHash);
    expect(trace).toMatchObject({ status: "approved", taskNumber: second.taskNumber });
    expect(steps).toHaveLength(2);
    expect(steps[0]).toMatchObject({
      txHash: first.txHash,
      status: "unknown",
      blockNumber: null,
      gasUsed: null,
      summary: notOnChain(first.txHash),
    });
    expect(steps[1]).toMatchObject({
      txHash: second.txHash,
      status: "success",
      blockNumber: block,
      gasUsed: gas,
      summary: mined,
    });
    expect(trace.submission).toMatchObject({ txHash: second.txHash, status: "success", blockNumber: block });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(notOnChain(first.txHash));
    expect(lines[1]).toContain(mined);

    // Restored again: the chain holds neither.
    await restore();
    for (const sent of [first, second]) {
      expect(await rpc("eth_getTransactionByHash", [sent.txHash])).toBeNull();
      expect(await rpc("eth_getTransactionReceipt", [sent.txHash])).toBeNull();
    }
    ({ trace, steps, lines } = await traced(second.taskHash));
    expect(trace.verdict).toBeNull();
    expect(steps.map((s: any) => [s.txHash, s.status, s.blockNumber, s.summary])).toEqual([
      [first.txHash, "unknown", null, notOnChain(first.txHash)],
      [second.txHash, "unknown", null, notOnChain(second.txHash)],
    ]);
    // none on the chain: the latest sent
    expect(trace.submission).toMatchObject({ txHash: second.txHash, status: "unknown", blockNumber: null });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(notOnChain(first.txHash));
    expect(lines[1]).toContain(notOnChain(second.txHash));
  });
});

// Last: it empties the aggregator's log, as two rotations past a task would.
describe("task trace of a task older than the logs (process runtime)", () => {
  it("names the node whose log begins after the task, and still shows the others' steps", async () => {
    const log = path.join(dir, ".avsctl", "logs", "aggregator.log");
    // The aggregator appends, so it writes on from the start: what the supervisor's cap does.
    truncateSync(log, 0);
    const next = await cliJson(["task", "send", "--wait", "--via", "rpc", "--data", "after the cut"]);
    expect(next.code, next.stderr).toBe(0);
    expect(readFileSync(log, "utf8")).toMatch(/"taskHash"/);

    const r = await cliJson(["task", "trace", rejected.taskHash]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const trace = r.json();
    expect(trace.logsAfterTask).toHaveLength(1);
    expect(trace.logsAfterTask[0].component).toBe("aggregator");
    expect(Date.parse(trace.logsAfterTask[0].logBegins)).toBeGreaterThan(Date.parse(trace.events[0].time));
    const steps = trace.events.map((e: any) => e.step);
    // The intake comes from the journal (milliseconds), the submission and verdict from the chain
    // (the block's whole second): never before the intake, however the times fall.
    expect(steps[0]).toBe("received");
    expect(steps.indexOf("verdict")).toBeGreaterThan(steps.indexOf("submission"));
    expect(trace.events.find((e: any) => e.step === "submission").component).toBe("chain");
    // the attesters' logs still hold their steps; the aggregator's counted votes and threshold are gone
    expect(steps.filter((s: string) => s === "vote")).toHaveLength(state.attesters.length);
    expect(steps).not.toContain("threshold");
    expect(trace.status).toBe("rejected");

    const human = await cli(["task", "trace", rejected.taskHash]);
    expect(human.stdout).toMatch(
      /aggregator's log begins at \S+, after this task: its steps there are not shown/,
    );
    const recent = await cliJson(["task", "trace", next.json().taskHash]);
    expect(recent.json().logsAfterTask).toEqual([]);
  });
});
