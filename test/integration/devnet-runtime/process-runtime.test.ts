import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "../../../src/devnet/runtime/ports.js";
import { findLabelledProcesses, isAlive, ProcessRuntime } from "../../../src/devnet/runtime/process.js";
import { isHeld } from "../../../src/devnet/runtime/process-hold.js";
import type { ProcessComponentSpec } from "../../../src/devnet/runtime/types.js";
import { codeOf, errorOf, httpGet, SERVER_JS, uniqueSuffix } from "./fixtures.js";

const execFileAsync = promisify(execFile);
const srcDir = path.resolve(import.meta.dirname, "../../../src");

/** Lets a plain `node` child import our TypeScript sources (`./x.js` -> `./x.ts`). */
const REGISTER_TS = `
import { registerHooks } from "node:module";
registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (error) {
      if (/^\\.\\.?\\//.test(specifier) && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
      throw error;
    }
  },
});
`;

async function waitUntil(check: () => boolean | Promise<boolean>, ms = 5_000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return check();
}

describe("process runtime (real child processes)", () => {
  const project = `proc-${uniqueSuffix()}`;
  let dir: string;
  let runtime: ProcessRuntime;
  let serverFile: string;
  const spawnedPids: number[] = [];

  const server = (
    name: string,
    port: number,
    extra: Partial<ProcessComponentSpec> = {},
  ): ProcessComponentSpec => ({
    name,
    command: process.execPath,
    args: [serverFile],
    env: { NAME: name, PORT: String(port), HOST: "127.0.0.1", CHILD: "1" },
    ports: [port],
    wait: [
      { kind: "log", pattern: `^listening on ${port}`, timeoutMs: 15_000 },
      { kind: "http", port, path: "/health", timeoutMs: 15_000 },
    ],
    ...extra,
  });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "avsctl-proc-"));
    serverFile = path.join(dir, "server.cjs");
    await writeFile(serverFile, SERVER_JS);
    runtime = new ProcessRuntime({ project, projectDir: dir });
  });

  afterAll(async () => {
    await runtime?.removeProject();
    // Whatever happened above, nothing we started may survive the suite.
    for (const pid of spawnedPids) {
      if (isAlive(pid)) process.kill(pid, "SIGKILL");
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("starts a detached server, waits for it, logs to .avsctl/logs, and stops the whole group", async () => {
    const port = await findFreePort();
    const started = await runtime.start(server("api", port));
    expect(started.pid).toBeGreaterThan(0);
    spawnedPids.push(started.pid!);
    expect(started.url(port, "/whoami")).toBe(`http://127.0.0.1:${port}/whoami`);
    expect((await httpGet(started.url(port, "/whoami"))).body).toBe("api");
    expect(started.logFile).toBe(path.join(dir, ".avsctl", "logs", "api.log"));

    const log = await readFile(started.logFile!, "utf8");
    expect(log).toMatch(/^listening on \d+ as api$/m);
    expect(log).toMatch(/^GET \/whoami$/m);
    const childPid = Number(/^child pid (\d+)$/m.exec(log)?.[1]);
    expect(isAlive(childPid)).toBe(true);
    spawnedPids.push(childPid);

    const lines: string[] = [];
    for await (const line of runtime.logs("api", { tail: 3 })) lines.push(line);
    expect(lines).toHaveLength(3);
    expect(lines.at(-1)).toBe("GET /whoami");

    const health = await runtime.health("api");
    expect(health.healthy).toBe(true);
    expect(health.pid).toBe(started.pid);

    await runtime.stop("api");
    expect(isAlive(started.pid!)).toBe(false);
    expect(isAlive(childPid)).toBe(false);
    expect(await findLabelledProcesses({ project })).toEqual([]);
    // Stopping what is already stopped succeeds.
    await runtime.stop("api");
    const after = await runtime.health("api");
    expect(after.healthy).toBe(false);
    expect(after.state).toBe("exited");
  });

  it("follows the log file and restarts from the run record", async () => {
    const port = await findFreePort();
    const first = await runtime.start(server("web", port));
    spawnedPids.push(first.pid!);
    const controller = new AbortController();
    const seen: string[] = [];
    const follower = (async () => {
      for await (const line of runtime.logs("web", { follow: true, tail: 0, signal: controller.signal })) {
        seen.push(line);
        if (line === "GET /followed") controller.abort();
      }
    })();
    for (let i = 0; i < 50 && !controller.signal.aborted; i++) {
      await httpGet(`http://127.0.0.1:${port}/followed`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    controller.abort();
    await follower;
    expect(seen).toContain("GET /followed");

    const restarted = await runtime.restart("web");
    spawnedPids.push(restarted.pid!);
    expect(restarted.pid).not.toBe(first.pid);
    expect(isAlive(first.pid!)).toBe(false);
    expect((await httpGet(`http://127.0.0.1:${port}/whoami`)).body).toBe("web");
    const log = await readFile(restarted.logFile!, "utf8");
    expect(log.match(/starting web:/g)).toHaveLength(2);
  });

  it("caps a running component's log: it writes on at the new start, and its history reads across the cut", async () => {
    const { capLogFile, rotatedLogOf } = await import("../../../src/devnet/runtime/log-files.js");
    const port = await findFreePort();
    const web = await runtime.start(server("capped", port));
    spawnedPids.push(web.pid!);
    for (let i = 0; i < 20; i++) await httpGet(`http://127.0.0.1:${port}/before-${i}`);
    expect(
      await waitUntil(async () => (await readFile(web.logFile!, "utf8")).includes("GET /before-19")),
    ).toBe(true);
    expect(capLogFile(web.logFile!, 100)).toBe(true);
    for (let i = 0; i < 5; i++) await httpGet(`http://127.0.0.1:${port}/after-${i}`);
    expect(await waitUntil(async () => (await readFile(web.logFile!, "utf8")).includes("GET /after-4"))).toBe(
      true,
    );

    // the process kept its descriptor and appends from the start of the emptied file: no hole of zeros
    const current = await readFile(web.logFile!, "utf8");
    expect(current.startsWith("GET /after-0\n")).toBe(true);
    expect(await readFile(rotatedLogOf(web.logFile!), "utf8")).toMatch(/GET \/before-19\n$/);
    const lines: string[] = [];
    for await (const line of runtime.logs("capped")) lines.push(line);
    const requests = lines.filter((line) => /^GET \/(before|after)-/.test(line));
    expect(requests).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `GET /before-${i}`),
      ...Array.from({ length: 5 }, (_, i) => `GET /after-${i}`),
    ]);
    const tail: string[] = [];
    for await (const line of runtime.logs("capped", { tail: 7 })) tail.push(line);
    expect(tail).toEqual(["GET /before-18", "GET /before-19", ...requests.slice(-5)]);
    await web.remove();
  });

  it("remove forgets the record and keeps the component held from the supervisor until a new start", async () => {
    const port = await findFreePort();
    const first = await runtime.start(server("gone", port));
    spawnedPids.push(first.pid!);
    await runtime.remove("gone");
    expect(isAlive(first.pid!)).toBe(false);
    expect(await runtime.record("gone")).toBeNull();
    // a supervisor that read the record just before it went leaves the component alone
    expect(isHeld(runtime.runDir, "gone")).toBe(true);
    const again = await runtime.start(server("gone", port));
    spawnedPids.push(again.pid!);
    expect(isHeld(runtime.runDir, "gone")).toBe(false);
    await runtime.stop("gone");
  });

  /**
   * A TCP server that says `ready` once the file GATE exists (at once without GATE). On SIGTERM,
   * while the file STUBBORN exists, it closes its port but lives on until another process listens
   * there (a component slow to stop, while something else starts).
   */
  const GATED_JS = `
const net = require("node:net");
const fs = require("node:fs");
const port = Number(process.env.PORT);
const server = net.createServer((socket) => socket.end()).listen(port, "127.0.0.1", () => {
  console.log("listening on " + port);
  const gate = process.env.GATE;
  if (!gate) return console.log("ready");
  const timer = setInterval(() => {
    if (!fs.existsSync(gate)) return;
    clearInterval(timer);
    console.log("ready");
  }, 50);
});
process.on("SIGTERM", () => {
  if (!process.env.STUBBORN || !fs.existsSync(process.env.STUBBORN)) process.exit(0);
  server.close();
  console.log("closed on SIGTERM");
  setInterval(() => {
    const socket = net.connect(port, "127.0.0.1");
    socket.on("connect", () => process.exit(0));
    socket.on("error", () => socket.destroy());
  }, 50);
});
`;
  const gated = (name: string, port: number, env: Record<string, string>): ProcessComponentSpec => ({
    name,
    command: process.execPath,
    args: [path.join(dir, "gated.cjs")],
    env: { PORT: String(port), ...env },
    ports: [port],
    wait: [{ kind: "log", pattern: "^ready$", timeoutMs: 30_000 }],
    stopGraceMs: 30_000,
  });
  const exists = (file: string) =>
    stat(file).then(
      () => true,
      () => false,
    );

  it("a restart while another process (the supervisor) starts the component again waits until it is done, then restarts it", async () => {
    await writeFile(path.join(dir, "gated.cjs"), GATED_JS);
    const port = await findFreePort();
    const gate = path.join(dir, "gate-again");
    await writeFile(gate, "");
    const first = await runtime.start(gated("again", port, { GATE: gate }));
    spawnedPids.push(first.pid!);
    await rm(gate);
    // It dies; the supervisor starts it again from its record (in a process of its own), and
    // that start is not done yet: the new process waits for the gate.
    process.kill(-first.pid!, "SIGKILL");
    expect(await waitUntil(() => !isAlive(first.pid!))).toBe(true);
    const register = path.join(dir, "register-ts.mjs");
    const supervisor = path.join(dir, "fake-supervisor.mjs");
    await writeFile(register, REGISTER_TS);
    await writeFile(
      supervisor,
      `import { ProcessRuntime, specOf } from ${JSON.stringify(path.join(srcDir, "devnet/runtime/process.ts"))};
const runtime = new ProcessRuntime({ project: ${JSON.stringify(project)}, projectDir: ${JSON.stringify(dir)} });
try {
  const started = await runtime.start(specOf(await runtime.record("again")));
  console.log(JSON.stringify({ pid: started.pid }));
} catch (error) {
  console.log(JSON.stringify({ error: error.code ?? error.message }));
}
`,
    );
    const fake = execFileAsync(process.execPath, ["--import", register, supervisor], {
      timeout: 60_000,
      cwd: dir,
    });
    const startedAgain = async () => {
      const record = await runtime.record("again");
      return record !== null && record.pid !== first.pid && isAlive(record.pid);
    };
    expect(await waitUntil(startedAgain, 30_000)).toBe(true);
    const again = (await runtime.record("again"))!.pid;
    spawnedPids.push(again);

    const waitedFor: number[] = [];
    const restarting = runtime.restart("again", { onWait: (pid) => waitedFor.push(pid) });
    // Until the restart says it waits, or (what went wrong before) the supervisor's start ends
    // because the restart stopped its new process under it.
    const fakeDone = fake.then(
      () => "done",
      () => "done",
    );
    await Promise.race([fakeDone, waitUntil(() => waitedFor.length > 0, 30_000)]);
    await writeFile(gate, "");
    const { stdout } = await fake;
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({ pid: again });
    expect(waitedFor).toHaveLength(1);
    const restarted = await restarting;
    spawnedPids.push(restarted.pid!);
    // and then restarted as asked: the supervisor's process stopped, a new one runs
    expect(restarted.pid).not.toBe(again);
    expect(isAlive(again)).toBe(false);
    expect(isAlive(restarted.pid!)).toBe(true);
    expect((await runtime.record("again"))!.pid).toBe(restarted.pid);
    await runtime.remove("again");
  });

  it("a process of the component itself on its port, started while the restart stopped the old one, is stopped too: not PORT_IN_USE", async () => {
    await writeFile(path.join(dir, "gated.cjs"), GATED_JS);
    const port = await findFreePort();
    const stubborn = path.join(dir, "stubborn-own");
    const first = await runtime.start(gated("own", port, { STUBBORN: stubborn }));
    spawnedPids.push(first.pid!);
    await writeFile(stubborn, "");
    const restarting = runtime.restart("own");
    // The old process has let the port go but still runs; meanwhile a process of this component
    // the restart did not know about (as a supervisor would start it) takes the port.
    expect(
      await waitUntil(
        async () => (await readFile(first.logFile!, "utf8")).includes("closed on SIGTERM"),
        15_000,
      ),
    ).toBe(true);
    await rm(stubborn);
    const { spawn } = await import("node:child_process");
    const { ENV_COMPONENT, ENV_PROJECT, ENV_PROJECT_DIR } = await import(
      "../../../src/devnet/runtime/labels.js"
    );
    const own = spawn(process.execPath, [path.join(dir, "gated.cjs")], {
      env: {
        ...process.env,
        PORT: String(port),
        [ENV_PROJECT]: runtime.project,
        [ENV_PROJECT_DIR]: runtime.projectDir,
        [ENV_COMPONENT]: "own",
      },
      detached: true,
      stdio: "ignore",
    });
    own.unref();
    spawnedPids.push(own.pid!);
    const restarted = await restarting;
    spawnedPids.push(restarted.pid!);
    expect(await exists(path.join(runtime.runDir, "own.json"))).toBe(true);
    expect(isAlive(first.pid!)).toBe(false);
    expect(isAlive(own.pid!)).toBe(false);
    expect(isAlive(restarted.pid!)).toBe(true);
    await runtime.remove("own");
  });

  it("cleans up after a failed start and names a missing command", async () => {
    const port = await findFreePort();
    const crash = await errorOf(
      runtime.start(
        server("crash", port, { args: ["-e", "console.log('boom before ready'); process.exit(3)"] }),
      ),
    );
    expect(crash.code).toBe("DEVNET_START_FAILED");
    expect(crash.details.logTail).toContain("boom before ready");
    expect((await runtime.inspect("crash")).running).toBe(false);
    expect(await findLabelledProcesses({ project, component: "crash" })).toEqual([]);

    const slow = await errorOf(
      runtime.start(
        server("slow", port, { wait: [{ kind: "log", pattern: "never printed", timeoutMs: 1_000 }] }),
      ),
    );
    expect(slow.code).toBe("TIMEOUT");
    expect(await findLabelledProcesses({ project, component: "slow" })).toEqual([]);

    expect(await codeOf(runtime.start({ name: "ghost", command: `no-such-command-${uniqueSuffix()}` }))).toBe(
      "TOOLCHAIN_MISSING",
    );
    expect(await codeOf(runtime.restart("never-started"))).toBe("NOT_FOUND");
  });

  it("keeps running after the starting CLI exits, and a later removeProject leaves nothing", async () => {
    const port = await findFreePort();
    const register = path.join(dir, "register-ts.mjs");
    const cli = path.join(dir, "fake-cli.mjs");
    await writeFile(register, REGISTER_TS);
    await writeFile(
      cli,
      `import { ProcessRuntime } from ${JSON.stringify(path.join(srcDir, "devnet/runtime/process.ts"))};
const runtime = new ProcessRuntime({ project: ${JSON.stringify(project)}, projectDir: ${JSON.stringify(dir)} });
const started = await runtime.start(${JSON.stringify(server("detached", port))});
console.log(JSON.stringify({ pid: started.pid }));
`,
    );
    const { stdout } = await execFileAsync(process.execPath, ["--import", register, cli], {
      timeout: 30_000,
      cwd: dir,
    });
    const { pid } = JSON.parse(stdout.trim().split("\n").at(-1)!) as { pid: number };
    spawnedPids.push(pid);
    // The "CLI" has exited; the component still answers.
    expect(isAlive(pid)).toBe(true);
    expect((await httpGet(`http://127.0.0.1:${port}/whoami`)).body).toBe("detached");
    const record = JSON.parse(await readFile(path.join(dir, ".avsctl", "run", "detached.json"), "utf8"));
    expect(record.pid).toBe(pid);
    expect((await stat(path.join(dir, ".avsctl", "run", "detached.json"))).mode & 0o777).toBe(0o600);

    const labelled = await findLabelledProcesses({ project });
    expect(labelled.map((p) => p.pid)).toContain(pid);
    const childPids = labelled.map((p) => p.pid).filter((p) => p !== pid);
    expect(childPids.length).toBeGreaterThanOrEqual(1);
    spawnedPids.push(...childPids);

    const removed = await runtime.removeProject();
    expect(removed.processes).toContain(pid);
    expect(await waitUntil(() => !isAlive(pid))).toBe(true);
    for (const child of childPids) expect(isAlive(child)).toBe(false);
    expect(await findLabelledProcesses({ project })).toEqual([]);
    expect(await runtime.list()).toEqual([]);
    // Nothing to do the second time.
    expect((await runtime.removeProject()).processes).toEqual([]);
  });
});
