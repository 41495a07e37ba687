/**
 * The commands that follow until stopped (`devnet logs -f`, `task watch`, `devnet watch`), as a
 * user's Ctrl-C and a CI runner's cancel stop them: SIGINT or SIGTERM ends each with
 * INTERRUPTED, exit 130 (the error on stderr, or its JSON as the last line of stdout under
 * --json), after what it printed, and nothing it started runs on; the devnet does. One process
 * devnet serves all three; its validation service is the project's own (a few lines of plain
 * Node), so `devnet watch` has files to follow.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binPath, runCli, runPasted } from "../../helpers/cli.js";
import { taskProject } from "../task/project.js";

const SERVER = `import http from "node:http";
// approves every task; GET /health for the devnet's wait
http
  .createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(req.url === "/health" ? '{"ok":true}' : '{"data":true,"error":false,"message":null}');
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
`;

const { dir, cli } = taskProject("followers", {
  services: {
    validation: { dir: "validation-service", command: `${JSON.stringify(process.execPath)} server.mjs` },
  },
});
const serverFile = path.join(dir, "validation-service", "server.mjs");
const started: Follower[] = [];

/** A long-running avsctl, leading its own process group as a shell's foreground job does. */
class Follower {
  stdout = "";
  stderr = "";
  readonly child: ChildProcessWithoutNullStreams;
  readonly closed: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [binPath, ...args], {
      cwd: dir,
      detached: true,
      env: { ...process.env, NO_COLOR: "1" },
    });
    this.child.stdout.on("data", (d) => void (this.stdout += d));
    this.child.stderr.on("data", (d) => void (this.stderr += d));
    // "close": the exit code once every byte it printed has been read
    this.closed = new Promise((resolve) => this.child.on("close", (code) => resolve(code)));
    started.push(this);
  }

  /** Waits until `ready` holds of its output, failing if it exits first. */
  async until(ready: (f: Follower) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ready(this)) {
      if (this.child.exitCode !== null || Date.now() > deadline)
        throw new Error(
          `not ready (exit ${this.child.exitCode})\nstdout: ${this.stdout}\nstderr: ${this.stderr}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * SIGINT to its process group, as Ctrl-C in a terminal sends it, or SIGTERM to it, as a CI
   * runner cancels a job; resolves with its exit code and how long it took to exit.
   */
  async stop(signal: "SIGINT" | "SIGTERM"): Promise<{ code: number | null; ms: number }> {
    expect(this.child.exitCode, `still following before ${signal}\n${this.stderr}`).toBeNull();
    const at = Date.now();
    if (signal === "SIGINT") process.kill(-this.child.pid!, signal);
    else this.child.kill(signal);
    const code = await this.closed;
    return { code, ms: Date.now() - at };
  }

  /** Whether any process it started (its process group) still runs. */
  groupAlive(): boolean {
    try {
      process.kill(-this.child.pid!, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Its --json lines; the last is the error. */
  lines(): any[] {
    return this.stdout
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l));
  }
}

let state: any;

beforeAll(async () => {
  mkdirSync(path.dirname(serverFile), { recursive: true });
  writeFileSync(serverFile, SERVER);
  const up = await cli(["devnet", "up", "--runtime", "process"], 180_000);
  expect(up.code, up.stderr + up.stdout).toBe(0);
  state = up.json();
  expect(state.serviceRuntimes.validation).toBe("process");
}, 240_000);

afterAll(async () => {
  for (const f of started) {
    try {
      process.kill(-f.child.pid!, "SIGKILL");
    } catch {
      // ended, as it should have
    }
  }
  await runCli(["devnet", "down"], { cwd: dir, timeoutMs: 120_000 });
  rmSync(dir, { recursive: true, force: true });
}, 180_000);

describe("devnet logs -f", () => {
  it("Ctrl-C: exit 130, INTERRUPTED on stderr after the lines it printed", async () => {
    const f = new Follower(["devnet", "logs", "aggregator", "-f"]);
    await f.until((x) => x.stdout.includes("\n"));
    const { code } = await f.stop("SIGINT");
    expect(code, f.stderr).toBe(130);
    const lines = f.stdout.split("\n").length - 1;
    expect(f.stderr).toBe(
      `Error [INTERRUPTED]: devnet logs -f was interrupted after ${lines} line(s); the devnet keeps running\n` +
        "  `avsctl devnet logs aggregator -f` follows again\n",
    );
    expect(f.groupAlive()).toBe(false);
  });

  it("SIGTERM on the merged stream, --json: exit 130, the error as the last line", async () => {
    const f = new Follower(["devnet", "logs", "-f", "--json"]);
    await f.until((x) => x.stdout.includes("\n"));
    const { code } = await f.stop("SIGTERM");
    expect(code, f.stderr).toBe(130);
    const lines = f.lines();
    const { error } = lines.pop();
    expect(error).toMatchObject({ code: "INTERRUPTED", details: { lines: lines.length } });
    expect(error.hint).toBe("`avsctl devnet logs -f` follows again");
    for (const record of lines) expect(record).toHaveProperty("component");
    expect(f.stderr).toBe("");
    expect(f.groupAlive()).toBe(false);
  });
});

describe("task watch", () => {
  it("SIGTERM, --json: exit 130 after the verdicts it printed; the --from-block it names misses none", async () => {
    const sent = await cli(["task", "send", "--wait", "--data", "followed"]);
    expect(sent.code, sent.stderr).toBe(0);
    const f = new Follower(["task", "watch", "--json", "--from-block", "0"]);
    await f.until((x) => x.stdout.includes(sent.json().taskHash));
    const { code } = await f.stop("SIGTERM");
    expect(code, f.stderr).toBe(130);
    const lines = f.lines();
    const { error } = lines.pop();
    const next = Math.max(...lines.map((v) => v.blockNumber)) + 1;
    expect(error).toEqual({
      code: "INTERRUPTED",
      message: `task watch was interrupted after ${lines.length} verdict(s)`,
      hint: `\`avsctl task watch --from-block ${next}\` watches on without missing a verdict that lands meanwhile`,
      details: { verdicts: lines.length, fromBlock: next },
    });
    expect(lines.map((v) => v.taskHash)).toContain(sent.json().taskHash);
    expect(f.groupAlive()).toBe(false);

    // the hint, pasted: nothing shown twice, and a verdict landed since is there
    const later = await cli(["task", "send", "--wait", "--data", "after the watch"]);
    expect(later.code, later.stderr).toBe(0);
    const pasted = await runPasted(`${error.hint.split("`")[1]} --timeout 3 --json`, { cwd: dir });
    expect(pasted.code, pasted.stderr).toBe(0);
    const shown = pasted.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).taskHash);
    expect(shown).toEqual([later.json().taskHash]);
  }, 120_000);

  it("Ctrl-C: exit 130, INTERRUPTED on stderr", async () => {
    const f = new Follower(["task", "watch"]);
    await f.until((x) => x.stderr.includes("Ctrl-C to stop"));
    const { code } = await f.stop("SIGINT");
    expect(code, f.stderr).toBe(130);
    expect(f.stderr).toMatch(
      /\nError \[INTERRUPTED\]: task watch was interrupted after 0 verdict\(s\)\n {2}`avsctl task watch --from-block \d+` watches on without missing a verdict that lands meanwhile\n$/,
    );
    expect(f.stdout).toBe("");
    expect(f.groupAlive()).toBe(false);
  });

  it("a frozen chain does not hold it: SIGTERM answers within seconds", async () => {
    const f = new Follower(["task", "watch"]);
    await f.until((x) => x.stderr.includes("Ctrl-C to stop"));
    // the L2 frozen while the watch polls it: its next request hangs, unanswered
    const l2 = JSON.parse(readFileSync(path.join(dir, ".avsctl", "run", "l2-1.json"), "utf8")).pid as number;
    process.kill(-l2, "SIGSTOP");
    try {
      await new Promise((r) => setTimeout(r, 1_000));
      const { code, ms } = await f.stop("SIGTERM");
      expect(code, f.stderr).toBe(130);
      expect(ms).toBeLessThan(10_000);
      expect(f.stderr).toContain("Error [INTERRUPTED]: task watch was interrupted after 0 verdict(s)");
    } finally {
      process.kill(-l2, "SIGCONT");
    }
  });
});

describe("devnet watch", () => {
  it("SIGTERM during a reload, --json: the reload ends, then stopped, then exit 130", async () => {
    const f = new Follower(["devnet", "watch", "--json"]);
    await f.until((x) => x.stdout.includes('"watching"'));
    appendFileSync(serverFile, "// edited\n");
    await f.until((x) => x.stdout.includes('"reloading"'));
    const { code } = await f.stop("SIGTERM");
    expect(code, f.stderr).toBe(130);
    const events = f.lines();
    expect(events.map((e) => e.action ?? e.error.code)).toEqual([
      "watching",
      "reloading",
      "restarted",
      "stopped",
      "INTERRUPTED",
    ]);
    expect(events.at(-1).error).toEqual({
      code: "INTERRUPTED",
      message: "devnet watch was interrupted; the devnet keeps running",
      hint: "`avsctl devnet watch` watches again; `avsctl devnet down` stops the devnet",
    });
    expect(f.groupAlive()).toBe(false);
    // the reloaded service runs on, as the devnet does
    const status = await cli(["devnet", "status"]);
    expect(status.code, status.stdout).toBe(0);
    expect(status.json().components.find((c: any) => c.name === "validation").healthy).toBe(true);
  });

  it("Ctrl-C: exit 130, INTERRUPTED on stderr after the last event", async () => {
    const f = new Follower(["devnet", "watch"]);
    await f.until((x) => x.stdout.includes("Ctrl-C stops watching"));
    const { code } = await f.stop("SIGINT");
    expect(code, f.stderr).toBe(130);
    expect(f.stdout).toMatch(
      /stopped watching; the devnet is still running \(`avsctl devnet down` stops it\)\n$/,
    );
    expect(f.stderr).toBe(
      "Error [INTERRUPTED]: devnet watch was interrupted; the devnet keeps running\n" +
        "  `avsctl devnet watch` watches again; `avsctl devnet down` stops the devnet\n",
    );
    expect(f.groupAlive()).toBe(false);
  });
});
