/**
 * A process devnet does not depend on the Docker engine. `up` and `down` sweep the project's
 * containers too (leftovers of an earlier Docker start), and one CI run showed what a wedged
 * engine did to that: it answered its ping, then never answered the listing, and every process
 * `up` and `down` on the machine hung. A wedged engine cannot be made on demand, so a stand-in
 * on a unix socket plays one: it answers the ping (`/_ping`, `/version`) and nothing else.
 */
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TempProject, tempProject } from "./support.js";

function wedgedEngine(socketPath: string): Promise<{ requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const held = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    held.add(socket);
    socket.on("close", () => held.delete(socket));
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk;
      if (!head.includes("\r\n\r\n")) return;
      const line = head.split("\r\n")[0]!;
      head = "";
      requests.push(line);
      const url = line.split(" ")[1] ?? "";
      if (!url.includes("/_ping") && !url.includes("/version")) return; // held: never answered
      const body = url.includes("/version")
        ? JSON.stringify({ Version: "20.10.24", ApiVersion: "1.41", Os: "linux" })
        : "OK";
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(socketPath, () =>
      resolve({
        requests,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of held) socket.destroy();
            server.close(() => done());
          }),
      }),
    ),
  );
}

describe("a process devnet beside a Docker engine that answers its ping and nothing else", () => {
  let p: TempProject;
  let socketDir: string;
  let engine: Awaited<ReturnType<typeof wedgedEngine>>;
  let env: Record<string, string>;

  beforeAll(async () => {
    socketDir = mkdtempSync(path.join(os.tmpdir(), "avsctl-wedged-"));
    engine = await wedgedEngine(path.join(socketDir, "docker.sock"));
    // a short bound on each request, so the test does not wait out the default 30 s
    env = { DOCKER_HOST: `unix://${path.join(socketDir, "docker.sock")}`, DOCKER_CLIENT_TIMEOUT: "1500" };
    p = tempProject("e2e-wedged");
  });

  afterAll(async () => {
    await p.cli(["devnet", "down", "--volumes"], { DOCKER_HOST: "unix:///nonexistent/docker.sock" }, 60_000);
    await engine.close();
    rmSync(socketDir, { recursive: true, force: true });
    p.remove();
  });

  it("up comes up, and warns that the project's containers were not looked at", async () => {
    const up = await p.cli(["devnet", "up", "--runtime", "process", "--no-services", "--json"], env, 120_000);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const body = up.json();
    expect(body.healthy).toBe(true);
    expect(body.warnings).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/Docker engine answered a ping, then stopped answering/),
      ]),
    );
    // it did ask: the sweep reached the engine, which held the request
    expect(engine.requests.some((r) => r.includes("/containers/json"))).toBe(true);
  });

  it("down removes the processes, exit 0, with the same warning", async () => {
    const down = await p.cli(["devnet", "down", "--json"], env, 60_000);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    const body = down.json();
    expect(body.removed.processes.length).toBeGreaterThan(0);
    expect(body.warnings).toEqual([expect.stringMatching(/stopped answering.*not removed/)]);
    const status = await p.cli(["devnet", "status", "--json"], {
      DOCKER_HOST: "unix:///nonexistent/docker.sock",
    });
    expect(status.code).toBe(4);
    expect(status.json().error.code).toBe("NO_DEVNET");
  });
});
