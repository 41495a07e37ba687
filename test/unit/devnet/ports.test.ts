/**
 * Where devnet ports come from: below the ephemeral range, whose ports the kernel gives outgoing
 * connections (one of those, or its TIME_WAIT, would keep a dead component from its port); the
 * OS's pick (port 0) where too little lies below it. Real sockets on 127.0.0.1.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  canListen,
  devnetPortRange,
  ephemeralPortRange,
  findFreePort,
  findFreePorts,
  type PortRange,
  releasePort,
} from "../../../src/devnet/runtime/ports.js";

const taken: number[] = [];
afterEach(() => {
  for (const port of taken.splice(0)) releasePort(port);
});

/** `size` consecutive ports below the ephemeral range that nothing listens on now. */
async function freeRun(size: number): Promise<PortRange> {
  const { low, high } = devnetPortRange()!;
  for (let attempt = 0; attempt < 50; attempt++) {
    const start = low + Math.floor(Math.random() * (high - low - size));
    const ports = Array.from({ length: size }, (_, i) => start + i);
    if ((await Promise.all(ports.map((port) => canListen(port)))).every(Boolean)) {
      return { low: start, high: start + size - 1 };
    }
  }
  throw new Error(`no ${size} free consecutive ports`);
}

describe("devnet port range", () => {
  it("lies from 10000 to just below the ephemeral range", () => {
    expect(devnetPortRange({ low: 32_768, high: 60_999 })).toEqual({ low: 10_000, high: 32_767 });
    expect(devnetPortRange({ low: 49_152, high: 65_535 })).toEqual({ low: 10_000, high: 49_151 });
  });

  it("is none when too few ports lie below the ephemeral range, so the OS picks", () => {
    expect(devnetPortRange({ low: 1_024, high: 65_535 })).toBeNull();
    expect(devnetPortRange({ low: 10_500, high: 65_535 })).toBeNull();
  });

  it.runIf(process.platform === "linux")("reads Linux's ip_local_port_range", () => {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    expect(ephemeralPortRange()).toEqual({ low: Number(low), high: Number(high) });
  });
});

describe("findFreePort", () => {
  it("gives distinct ports below this machine's ephemeral range", async () => {
    const ports = await findFreePorts(100);
    taken.push(...ports);
    expect(new Set(ports).size).toBe(100);
    const { low } = ephemeralPortRange();
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(low);
    }
  });

  it("draws each port of a range once, concurrently too, and then reports PORT_IN_USE", async () => {
    const range = await freeRun(4);
    const ports = await findFreePorts(4, "127.0.0.1", range);
    taken.push(...ports);
    expect([...ports].sort((a, b) => a - b)).toEqual([0, 1, 2, 3].map((i) => range.low + i));
    const error = await findFreePort("127.0.0.1", range).catch((e) => e);
    expect(error.code).toBe("PORT_IN_USE");
  });

  it("skips a port another process listens on", async () => {
    const range = await freeRun(2);
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(range.low, "127.0.0.1", resolve));
    try {
      const port = await findFreePort("127.0.0.1", range);
      taken.push(port);
      expect(port).toBe(range.high);
    } finally {
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("without a range, takes the port the OS picks (port 0)", async () => {
    const port = await findFreePort("127.0.0.1", null);
    taken.push(port);
    if (process.platform === "linux") {
      const { low, high } = ephemeralPortRange();
      expect(port).toBeGreaterThanOrEqual(low);
      expect(port).toBeLessThanOrEqual(high);
    } else expect(port).toBeGreaterThan(0);
  });
});
