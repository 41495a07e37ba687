/**
 * A process devnet whose parts died or were crowded out, brought back with the commands
 * docs/cli.md names for it: a `restart` whose port another process holds (PORT_IN_USE, exit 4,
 * the component still restartable). Built CLI, real processes; afterAll removes the devnet with
 * `down --volumes` and closes every port the test held.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPasted } from "../../helpers/cli.js";
import { until } from "../../helpers/until.js";
import { labelledProcesses, type State, stopSupervision, type TempProject, tempProject } from "./support.js";

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

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
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
});
