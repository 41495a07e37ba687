import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { dockerClient, pingDocker, requireDocker } from "../../../src/devnet/docker-engine.js";
import { findFreePort, releasePort } from "../../../src/devnet/runtime/ports.js";
import { describeDocker } from "../../helpers/docker.js";
import { codeOf, errorOf } from "./fixtures.js";

const original = process.env.DOCKER_HOST;

/** A 127.0.0.1 TCP server whose close() also drops open connections (net.Server does not). */
async function tcpServer(
  onConnection: (socket: net.Socket) => void,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

afterEach(() => {
  if (original === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = original;
});

describe("Docker engine connection errors", () => {
  it("reports an engine that refuses as DOCKER_UNAVAILABLE with a hint", async () => {
    const port = await findFreePort();
    process.env.DOCKER_HOST = `tcp://127.0.0.1:${port}`;
    const ping = await pingDocker(2_000);
    expect(ping.ok).toBe(false);
    if (!ping.ok) {
      expect(ping.reason).toMatch(/refused/);
      expect(ping.hint).toMatch(/DOCKER_HOST/);
    }
    const error = await errorOf(requireDocker(2_000));
    expect(error.code).toBe("DOCKER_UNAVAILABLE");
    expect(error.exitCode).toBe(4);
    releasePort(port);
  });

  it("reports a missing socket and a malformed DOCKER_HOST", async () => {
    process.env.DOCKER_HOST = "unix:///nonexistent/avsctl-test/docker.sock";
    const ping = await pingDocker(2_000);
    expect(ping.ok).toBe(false);
    if (!ping.ok) expect(ping.reason).toMatch(/no Docker engine socket/);
    process.env.DOCKER_HOST = "tcp://[not a host";
    expect(await codeOf(Promise.resolve().then(() => dockerClient()))).toBe("DOCKER_UNAVAILABLE");
    expect((await pingDocker(2_000)).ok).toBe(false);
  });

  it("times out on an engine that never answers", async () => {
    // Accepts connections and says nothing.
    const silent = await tcpServer(() => undefined);
    try {
      process.env.DOCKER_HOST = `tcp://127.0.0.1:${silent.port}`;
      const ping = await pingDocker(500);
      expect(ping.ok).toBe(false);
      if (!ping.ok) expect(ping.reason).toMatch(/did not answer within 500 ms/);
    } finally {
      await silent.close();
    }
  });
});

describeDocker("Docker engine over DOCKER_HOST=tcp://", () => {
  it("talks to the engine through a tcp:// DOCKER_HOST", async () => {
    // A TCP-to-socket relay on 127.0.0.1 stands in for a remote engine.
    const socketPath = (original ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");
    const relay = await tcpServer((client) => {
      const upstream = net.connect(socketPath);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on("error", close);
      upstream.on("error", close);
      upstream.on("close", close);
    });
    try {
      process.env.DOCKER_HOST = `tcp://127.0.0.1:${relay.port}`;
      const ping = await pingDocker(5_000);
      expect(ping.ok).toBe(true);
      if (ping.ok) expect(ping.apiVersion).toMatch(/^\d+\.\d+$/);
      const docker = await requireDocker();
      expect(Array.isArray(await docker.listNetworks())).toBe(true);
    } finally {
      await relay.close();
    }
  });
});
