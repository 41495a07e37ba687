/** The task engine as its own process (dist/task-engine/main.js), its JSON log lines kept. */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "./cli.js";
import { until } from "./until.js";

export const engineEntry = path.join(repoRoot, "dist", "task-engine", "main.js");

export interface EngineProcess {
  child: ChildProcess;
  url: string;
  /** Every stdout and stderr line, as written. */
  raw: string[];
  lines: Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startEngineProcess(
  opts: { operatorSecret?: string; env?: Record<string, string> } = {},
): Promise<EngineProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), "avsctl-engine-proc-"));
  const args = [engineEntry, "--store", path.join(dir, "engine.sqlite"), "--port", "0", "--verbose"];
  if (opts.operatorSecret) args.push("--operator-secret", opts.operatorSecret);
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...opts.env },
  });
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const reader = (json: boolean) => {
    let buffered = "";
    return (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split("\n");
      buffered = parts.pop()!;
      for (const p of parts) {
        if (!p.trim()) continue;
        raw.push(p);
        if (json) lines.push(JSON.parse(p));
      }
    };
  };
  child.stdout!.setEncoding("utf8").on("data", reader(true));
  child.stderr!.setEncoding("utf8").on("data", reader(false));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const listening = await until(
      async () => {
        if (child.exitCode !== null) throw new Error(`the engine exited: ${raw.join("\n")}`);
        return lines.find((l) => l.msg === "task engine listening");
      },
      "the engine to listen",
      20_000,
    );
    return { child, url: String(listening.url), raw, lines, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
