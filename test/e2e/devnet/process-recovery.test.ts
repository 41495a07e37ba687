/**
 * A process devnet whose parts died or were crowded out, brought back with the commands
 * docs/cli.md names for it: a component killed while the machine makes thousands of outgoing
 * connections (its port lies below the ephemeral range, so `restart` gets it back); a `restart` whose port another process holds (PORT_IN_USE, exit 4,
 * the component still restartable); a supervisor killed alone (status says so, `up` starts it
 * again and says so); every process killed (`up` starts each component on the port it had, and
 * names one whose port was taken), and `devnet env` meanwhile (DEVNET_UNHEALTHY, not dead URLs).
 * Built CLI, real processes; afterAll removes the devnet with
 * `down --volumes` and closes every port the test held.
 */
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPasted } from "../../helpers/cli.js";
import { until } from "../../helpers/until.js";
import {
  labelledProcesses,
  type State,
  stateUrls,
  stopSupervision,
  type TempProject,
  tempProject,
} from "./support.js";

function runRecord(p: TempProject, component: string): { pid: number; ports: number[] } {
  return JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "run", `${component}.json`), "utf8"));
}

/** Another program listening on 127.0.0.1:<port>, as `python3 -m http.server <port> --bind 127.0.0.1` would. */
async function holdPort(port: number): Promise<http.Server> {
  const server = http.createServer((_req, res) => res.end("not a chain\n"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return server;
}

/** The ports the kernel gives outgoing connections (Linux's `net.ipv4.ip_local_port_range`). */
function ephemeralRange(): { low: number; high: number } {
  const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
  return { low: Number(low), high: Number(high) };
}

/**
 * `count` TCP connections to a server of the test on 127.0.0.1, each closed by the client first,
 * as parallel tests' HTTP clients make them: each leaves its local port, one the kernel chose from
 * the ephemeral range, in TIME_WAIT for a minute, where nothing may listen meanwhile.
 */
async function outgoingConnections(count: number): Promise<number[]> {
  const server = net.createServer((socket) => socket.on("error", () => {}));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  const locals: number[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        locals.push(socket.localPort!);
        socket.end(resolve);
      });
      socket.once("error", reject);
    });
  for (let i = 0; i < count; i += 50) await Promise.all(Array.from({ length: 50 }, one));
  await new Promise((resolve) => server.close(resolve));
  return locals;
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * SIGKILLs the supervisor and every component, as a crash of the machine's session would. The
 * supervisor is found by its labels: it writes supervisor.json only once it has started, which a
 * loaded machine may not have reached yet.
 */
async function killEverything(p: TempProject): Promise<void> {
  const runDir = path.join(p.dir, ".avsctl", "run");
  const recorded = readdirSync(runDir)
    .filter((f) => f.endsWith(".json"))
    .map((file) => JSON.parse(readFileSync(path.join(runDir, file), "utf8")).pid as number);
  const kill = (pids: number[]) => {
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  };
  kill([...labelledProcesses(p.devnet), ...recorded]);
  // a component the supervisor started again in the same instant it was killed: killed too
  await until(
    async () => {
      const left = labelledProcesses(p.devnet);
      kill(left);
      return left.length === 0;
    },
    "every process gone",
    10_000,
  );
}

/** Every backticked command of a hint, in order. */
function commandsOf(hint: string): string[] {
  return [...hint.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

describe("a process devnet brought back after its parts died (built CLI)", () => {
  const p = tempProject("e2e-recover");
  let state: State;
  const held: http.Server[] = [];

  beforeAll(async () => {
    const up = await p.cli(["devnet", "up", "--runtime", "process", "--json"]);
    if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    state = up.json();
  }, 240_000);

  afterAll(async () => {
    for (const server of held) if (server.listening) await closeServer(server);
    await p.cli(["devnet", "down", "--volumes"]);
    expect(labelledProcesses(p.devnet)).toEqual([]);
    p.remove();
  }, 120_000);

  it("every port a component has lies below the ephemeral range, so one killed while thousands of outgoing connections come and go gets its own back with `restart`", async () => {
    const { low } = ephemeralRange();
    const runDir = path.join(p.dir, ".avsctl", "run");
    const components = readdirSync(runDir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -".json".length));
    expect(components).toContain("aggregator");
    for (const component of components) {
      for (const port of runRecord(p, component).ports) expect(port, component).toBeLessThan(low);
    }

    await stopSupervision(p);
    const ports = runRecord(p, "aggregator").ports;
    process.kill(runRecord(p, "aggregator").pid, "SIGKILL");
    await until(
      async () => (await p.cli(["devnet", "status", "--json"])).code === 1,
      "aggregator down",
      10_000,
    );
    const locals = await outgoingConnections(2_000);
    expect(locals.every((port) => port >= low)).toBe(true);
    const restart = await p.cli(["devnet", "restart", "aggregator"]);
    expect(restart.code, restart.stdout + restart.stderr).toBe(0);
    expect(runRecord(p, "aggregator").ports).toEqual(ports);
  }, 180_000);

  it("restart of an L2 whose port another process holds: PORT_IN_USE (exit 4) naming port and component; it stays restartable and comes back once the port is free", async () => {
    // nothing may start it again behind the test's back while the port is taken
    await stopSupervision(p);
    const port = Number(new URL(state.l2[0]!.rpcUrl).port);
    process.kill(runRecord(p, "l2-1").pid, "SIGKILL");
    const server = await until(
      async () => holdPort(port).catch(() => undefined),
      `port ${port} free to take`,
      10_000,
    );
    held.push(server);

    let hint = "";
    for (let attempt = 0; attempt < 2; attempt++) {
      const r = await p.cli(["devnet", "restart", "l2-1", "--json"]);
      expect(r.code, r.stdout + r.stderr).toBe(4);
      const { error } = r.json();
      expect(error.code).toBe("PORT_IN_USE");
      expect(error.message).toContain("l2-1");
      expect(error.message).toContain(`127.0.0.1:${port}`);
      expect(error.details).toMatchObject({ component: "l2-1", port });
      expect(commandsOf(error.hint)).toContain("avsctl devnet restart l2-1");
      hint = error.hint;
    }
    // still a component of the devnet, down, not missing
    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code).toBe(1);
    expect(status.json().components.find((c: { name: string }) => c.name === "l2-1")).toMatchObject({
      state: "exited",
      healthy: false,
    });
    const human = await p.cli(["devnet", "restart", "l2-1"]);
    expect(human.code).toBe(4);
    expect(human.stderr).toContain("PORT_IN_USE");
    expect(human.stderr).not.toContain("Address already in use");

    await closeServer(server);
    const restart = commandsOf(hint).find((c) => c.startsWith("avsctl devnet restart"))!;
    const again = await runPasted(restart, { cwd: p.dir });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain("l2-1: restarted and healthy");
    const back = await p.cli(["devnet", "status", "--json"]);
    expect(back.code, back.stdout).toBe(0);
    expect(runRecord(p, "l2-1").ports).toEqual([port]);
  }, 180_000);

  it("a supervisor killed alone: status says so (still healthy, exit 0), and the `up` its warning names starts it again, saying so", async () => {
    const before = (await p.cli(["devnet", "status", "--json"])).json().supervisor;
    if (before?.running) process.kill(before.pid, "SIGKILL");
    const gone = await until(
      async () => {
        const r = await p.cli(["devnet", "status", "--json"]);
        return r.json().supervisor?.running === false ? r : undefined;
      },
      "the supervisor gone",
      10_000,
    );
    expect(gone.code, gone.stdout).toBe(0);
    expect(gone.json().healthy).toBe(true);
    const [warning] = gone.json().warnings as string[];
    expect(warning).toContain("the supervisor is not running");
    expect(commandsOf(warning!)).toEqual(["avsctl devnet up"]);
    const human = await p.cli(["devnet", "status"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`warning: ${warning}`);

    // nothing starts a component that dies now: status says why it stays down
    process.kill(runRecord(p, "attester-1").pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 2_000));
    const down = await p.cli(["devnet", "status", "--json"]);
    expect(down.code).toBe(1);
    expect(down.json().components.find((c: { name: string }) => c.name === "attester-1")).toMatchObject({
      healthy: false,
      restarts: 0,
    });
    expect(down.json().warnings.join("\n")).toContain("nothing starts a component that died again");
    expect((await p.cli(["devnet", "restart", "attester-1"])).code).toBe(0);

    const up = await runPasted("avsctl devnet up", { cwd: p.dir });
    expect(up.code, up.stderr).toBe(0);
    const pid = Number(/its supervisor was not running: started it again \(pid (\d+)\)/.exec(up.stdout)?.[1]);
    expect(pid, up.stdout).toBeGreaterThan(0);
    expect(up.stdout).not.toContain("nothing changed\n");
    const after = await p.cli(["devnet", "status", "--json"]);
    expect(after.code).toBe(0);
    expect(after.json().supervisor).toEqual({ running: true, pid });
    expect(after.json().warnings).toEqual([]);
    const again = await p.cli(["devnet", "up", "--json"]);
    expect(again.json().supervisorStarted).toBeUndefined();

    // and it supervises: a component killed now comes back by itself
    process.kill(runRecord(p, "attester-2").pid, "SIGKILL");
    await until(
      async () => {
        const r = await p.cli(["devnet", "status", "--json"]);
        const c = r.json().components.find((x: { name: string }) => x.name === "attester-2");
        return r.code === 0 && c.restarts >= 1;
      },
      "attester-2 started again by the supervisor",
      60_000,
    );
  }, 180_000);

  it("after every process was killed, `up` starts each component on the port it had, and names one whose port was taken", async () => {
    const before: State = (await p.cli(["devnet", "status", "--json"])).json();
    await killEverything(p);
    const up = await p.cli(["devnet", "up"]);
    expect(up.code, up.stderr).toBe(0);
    const same: State = (await p.cli(["devnet", "status", "--json"])).json();
    expect(stateUrls(same)).toEqual(stateUrls(before));
    expect(up.stdout).toContain("started it again as it was started");
    expect(up.stdout).toContain("each component listens on the port it had\n");

    // another program took the aggregator's port meanwhile: a new one, and up says which
    await killEverything(p);
    const port = Number(new URL(before.aggregator.rpcUrl).port);
    const server = await until(
      async () => holdPort(port).catch(() => undefined),
      `port ${port} free to take`,
      10_000,
    );
    held.push(server);
    const moved = await p.cli(["devnet", "up", "--json"]);
    expect(moved.code, moved.stderr).toBe(0);
    const body = moved.json();
    expect(body.repaired.movedPorts).toEqual([
      { component: "aggregator", from: port, to: expect.any(Number) },
    ]);
    const to = body.repaired.movedPorts[0].to;
    expect(body.aggregator.rpcUrl).toBe(`http://127.0.0.1:${to}`);
    expect(body.warnings.join("\n")).toContain(
      `aggregator: port ${port} was taken by another process, so it listens on ${to} now`,
    );
    const others = (s: State) => stateUrls(s).filter((u) => u !== s.aggregator.rpcUrl);
    expect(others(body)).toEqual(others(before));
    await closeServer(server);
    state = body;
  }, 180_000);

  it("devnet env on a devnet whose processes died: DEVNET_UNHEALTHY (exit 1) naming them, not their dead URLs; the hint's up brings the same env back", async () => {
    const before = await p.cli(["devnet", "env"]);
    expect(before.code, before.stderr).toBe(0);
    expect(before.stdout).toContain(`L2_RPC=31338@${state.l2[0]!.rpcUrl}`);

    // one component down: what env would print for it is refused, the rest is not
    await stopSupervision(p);
    process.kill(runRecord(p, "aggregator").pid, "SIGKILL");
    await until(
      async () => (await p.cli(["devnet", "status", "--json"])).code === 1,
      "aggregator down",
      10_000,
    );
    const partly = await p.cli(["devnet", "env", "--json"]);
    expect(partly.code, partly.stdout).toBe(1);
    expect(partly.json().error).toMatchObject({
      code: "DEVNET_UNHEALTHY",
      details: { components: ["aggregator"] },
    });
    const validation = await p.cli(["devnet", "env", "--service", "validation"]);
    expect(validation.code, validation.stderr).toBe(0);

    await killEverything(p);
    const down = await p.cli(["devnet", "env"]);
    expect(down.code).toBe(1);
    expect(down.stdout).toBe("");
    expect(down.stderr).toContain("DEVNET_UNHEALTHY");
    const json = (await p.cli(["devnet", "env", "--json"])).json().error;
    expect(json.details.components).toEqual(["l1", "l2-1", "aggregator", "ipfs"]);
    expect(json.message).toContain("devnet is down");
    const commands = commandsOf(json.hint);
    expect(commands).toContain("avsctl devnet up");
    const up = await runPasted("avsctl devnet up", { cwd: p.dir });
    expect(up.code, up.stderr).toBe(0);
    const after = await p.cli(["devnet", "env"]);
    expect(after.code, after.stderr).toBe(0);
    // the same ports again (the URLs a .env made from the first one holds), so the same env
    expect(after.stdout).toBe(before.stdout);
  }, 180_000);
});
