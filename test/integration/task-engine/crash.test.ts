/**
 * Crash recovery: the engine runs as its own process (dist/task-engine/main.js), 50 executions
 * are triggered, the process is SIGKILLed while they run, and a new process on the same store
 * finishes them: 50 executions recorded, each exactly once (one "execution recorded" log line
 * per execution across both processes), the ones cut short run again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../helpers/cli.js";
import { call, code, flow, signIn, until, Wallet } from "./helpers.js";

const entry = path.join(repoRoot, "dist", "task-engine", "main.js");
const dir = mkdtempSync(path.join(tmpdir(), "avsctl-engine-crash-"));
const storeFile = path.join(dir, "engine.sqlite");
const children: ChildProcess[] = [];
let slow: http.Server | undefined;
let slowUrl = "";

beforeAll(async () => {
  // a service that answers after a while: the executions' wait, without busying the engine
  slow = http.createServer((_req, res) => {
    const timer = setTimeout(
      () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'),
      100,
    );
    res.on("close", () => clearTimeout(timer));
  });
  await new Promise<void>((resolve) => slow!.listen(0, "127.0.0.1", resolve));
  slowUrl = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
});

interface Engine {
  child: ChildProcess;
  url: string;
  lines: Array<Record<string, unknown>>;
  exited: Promise<void>;
}

async function startEngine(): Promise<Engine> {
  const child = spawn(process.execPath, [entry, "--store", storeFile, "--port", "0", "--concurrency", "2"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const lines: Array<Record<string, unknown>> = [];
  let buffered = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split("\n");
    buffered = parts.pop()!;
    for (const p of parts) if (p.trim()) lines.push(JSON.parse(p));
  });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (c: string) => {
    stderr += c;
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const listening = await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`the engine exited: ${stderr}`);
      return lines.find((l) => l.msg === "task engine listening");
    },
    "the engine to listen",
    20_000,
  );
  return { child, url: String(listening.url), lines, exited };
}

afterAll(async () => {
  slow?.closeAllConnections();
  await new Promise<void>((resolve) => (slow ? slow.close(() => resolve()) : resolve()));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("crash recovery", () => {
  it("dist/ has the engine's entry (the test runs the build)", () => {
    expect(existsSync(entry)).toBe(true);
  });

  it("an engine killed during a burst of 50 executions records each once after a restart", async () => {
    const owner = Wallet.createRandom();
    const first = await startEngine();
    const token = await signIn(first.url, owner);
    // each run waits on a slow HTTP answer, so the kill lands with work queued and running
    const created = await call(
      first.url,
      "POST",
      "/workflows",
      token,
      flow({
        nodes: [
          { id: "slow", name: "slow", type: "restApi", config: { url: slowUrl, method: "GET", headers: {} } },
          code("c", "return trig.data.i"),
        ],
        edges: [
          { id: "e1", source: "trigger", target: "slow" },
          { id: "e2", source: "slow", target: "c" },
        ],
      }),
    );
    expect(created.status, created.text).toBe(201);
    const taskId = created.body.id as string;
    const triggered = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(first.url, "POST", `/workflows/${taskId}:trigger`, token, { triggerData: { i } }),
      ),
    );
    expect(triggered.map((r) => r.status)).toEqual(Array(50).fill(202));
    const ids = triggered.map((r) => r.body.executionId as string);
    expect(new Set(ids).size).toBe(50);

    await until(async () => first.lines.some((l) => l.msg === "execution recorded"), "a first execution");
    first.child.kill("SIGKILL");
    await first.exited;

    const db = new DatabaseSync(storeFile, { readOnly: true });
    const atKill = db.prepare("SELECT id, status FROM executions WHERE task_id = ?").all(taskId) as Array<{
      id: string;
      status: string;
    }>;
    const queueRows = Number((db.prepare("SELECT COUNT(*) AS n FROM queue").get() as { n: number }).n);
    db.close();
    const finalAtKill = atKill.filter((e) => e.status === "success").length;
    const cutShort = atKill.filter((e) => e.status === "running").map((e) => e.id);
    expect(atKill).toHaveLength(50);
    expect(finalAtKill).toBeGreaterThan(0);
    expect(cutShort.length).toBeGreaterThan(0);
    expect(finalAtKill).toBeLessThan(50);
    expect(queueRows).toBe(50 - finalAtKill);

    const second = await startEngine();
    expect(second.lines.find((l) => l.msg === "queue recovered")).toMatchObject({ queued: 50 - finalAtKill });
    // the token survives the restart: its key is kept in the store
    const task = await until(async () => {
      const r = await call(second.url, "GET", `/workflows/${taskId}`, token);
      return r.body.totalExecution === 50 && r.body;
    }, "all 50 executions");
    expect(task.status).toBe("active");

    const runs = await call(second.url, "GET", `/workflows/${taskId}/executions?limit=200`, token);
    const items = runs.body.items as Array<{
      id: string;
      status: string;
      index: number;
      steps: any[];
      attempts: number;
    }>;
    expect(items).toHaveLength(50);
    expect(items.map((e) => e.id).sort()).toEqual([...ids].sort());
    expect(items.every((e) => e.status === "success")).toBe(true);
    expect(items.map((e) => e.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const byId = new Map(items.map((e) => [e.id, e]));
    ids.forEach((id, i) => {
      expect(byId.get(id)!.steps.find((step) => step.name === "c").output).toBe(i);
    });
    for (const id of cutShort) expect(byId.get(id)!.attempts).toBe(2);

    const recorded = [...first.lines, ...second.lines].filter((l) => l.msg === "execution recorded");
    const counts = new Map<string, number>();
    for (const l of recorded) counts.set(String(l.executionId), (counts.get(String(l.executionId)) ?? 0) + 1);
    expect(counts.size).toBe(50);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    second.child.kill("SIGTERM");
    await second.exited;
    expect(second.lines.some((l) => l.msg === "task engine stopped")).toBe(true);
  }, 120_000);
});
