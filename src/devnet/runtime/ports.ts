/**
 * Free 127.0.0.1 ports for devnet components. A candidate is checked by listening on it; we
 * close that socket again and hand the number to anvil or Docker, so a reservation set keeps
 * two allocations in the same run from ever receiving the same number.
 *
 * Candidates lie below the system's ephemeral range, not where port 0 would put them: the kernel
 * gives ports of that range to outgoing connections, and a component that died, or is restarted,
 * would often find its port held by one (even in TIME_WAIT, a minute after it closed), though
 * nothing listens there.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import { AvsctlError } from "../../errors.js";

export const LOCALHOST = "127.0.0.1";

const reserved = new Set<number>();
const MAX_ATTEMPTS = 64;

/** A range of TCP ports, both ends included. */
export interface PortRange {
  low: number;
  high: number;
}

/** Linux's default when its setting cannot be read; macOS and Windows use IANA's 49152-65535. */
const LINUX_EPHEMERAL: PortRange = { low: 32_768, high: 60_999 };
const IANA_EPHEMERAL: PortRange = { low: 49_152, high: 65_535 };
/** Below it lie the usual ports of development servers (3000, 5432, 8080, 8545, ...). */
const RANGE_FLOOR = 10_000;
/** Fewer ports than this below the ephemeral range, and random picks would collide: port 0 then. */
const MIN_RANGE = 1_000;

/** The ports this machine gives outgoing connections (Linux: `net.ipv4.ip_local_port_range`). */
export function ephemeralPortRange(): PortRange {
  if (process.platform !== "linux") return IANA_EPHEMERAL;
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! >= 1 && low! <= high!) {
      return { low: low!, high: high! };
    }
  } catch {
    // no /proc (some sandboxes): the kernel's default
  }
  return LINUX_EPHEMERAL;
}

/**
 * Where devnet ports are drawn from: from 10000 to just below the ephemeral range, or null when
 * too few ports are left there (an ephemeral range from 1024, say), so the OS picks (port 0).
 */
export function devnetPortRange(ephemeral: PortRange = ephemeralPortRange()): PortRange | null {
  const high = ephemeral.low - 1;
  return high - RANGE_FLOOR + 1 >= MIN_RANGE ? { low: RANGE_FLOOR, high } : null;
}

let machineRange: PortRange | null | undefined;

/** devnetPortRange() of this machine, read once. */
function machinePortRange(): PortRange | null {
  if (machineRange === undefined) machineRange = devnetPortRange();
  return machineRange;
}

function listenOnce(port: number, host: string): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(null));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === "object" && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** True when nothing listens on `host:port` right now (and it is not reserved by this run). */
export async function isPortFree(port: number, host: string = LOCALHOST): Promise<boolean> {
  if (reserved.has(port)) return false;
  return (await listenOnce(port, host)) === port;
}

/**
 * True when a process could listen on `host:port` right now, whatever this run reserved: for a
 * port a component is about to take again (its own, from its run record).
 */
export async function canListen(port: number, host: string = LOCALHOST): Promise<boolean> {
  return (await listenOnce(port, host)) === port;
}

/** A command that names the process listening on a TCP port of this machine, for hints. */
export function whoListensCommand(port: number): string {
  return process.platform === "linux" ? `ss -ltnp 'sport = :${port}'` : `lsof -nP -iTCP:${port} -sTCP:LISTEN`;
}

/**
 * A free port on 127.0.0.1, from `range` (default: devnetPortRange() of this machine; null: any
 * the OS picks), reserved for the rest of this process so parallel allocations never collide.
 *
 * @example const rpcPort = await findFreePort();
 */
export async function findFreePort(
  host: string = LOCALHOST,
  range: PortRange | null = machinePortRange(),
): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const candidate = range ? range.low + Math.floor(Math.random() * (range.high - range.low + 1)) : 0;
    if (reserved.has(candidate)) continue;
    const port = await listenOnce(candidate, host);
    if (port !== null && !reserved.has(port)) {
      reserved.add(port);
      return port;
    }
  }
  throw new AvsctlError("PORT_IN_USE", `could not find a free port on ${host}`, {
    hint: "Too many ports are in use; stop other services or devnets and retry.",
  });
}

/** `count` distinct free ports (allocated concurrently, still collision-free). */
export async function findFreePorts(
  count: number,
  host: string = LOCALHOST,
  range: PortRange | null = machinePortRange(),
): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, () => findFreePort(host, range)));
}

/**
 * Claim a specific port: fails with PORT_IN_USE (exit 4) naming it when something listens there.
 */
export async function reservePort(port: number, host: string = LOCALHOST): Promise<number> {
  if (!(await isPortFree(port, host))) {
    throw new AvsctlError("PORT_IN_USE", `port ${host}:${port} is already in use`, {
      hint: `Stop whatever listens on ${port}, or leave the port unset so a free one is chosen.`,
      details: { port, host },
    });
  }
  reserved.add(port);
  return port;
}

/** Give a port back to the pool (after the component using it is gone). */
export function releasePort(port: number): void {
  reserved.delete(port);
}

/** A component that could not have its port again: another process listens there. */
export interface MovedPort {
  component: string;
  from: number;
  to: number;
}

/**
 * The ports a devnet's components had, for `up` starting it again: each component gets its own
 * again when nothing else listens there, so the URLs users copied into .env files and scripts
 * stay true; one taken meanwhile is replaced by a free port and listed in `moved`. Every port is
 * reserved at once, so no other component of this run draws one of them.
 */
export class KeptPorts {
  readonly moved: MovedPort[] = [];
  private readonly previous: ReadonlyMap<string, readonly number[]>;

  // no parameter property: this module is also loaded as TypeScript, types stripped
  constructor(previous: ReadonlyMap<string, readonly number[]>) {
    this.previous = previous;
    for (const ports of previous.values()) for (const port of ports) reserved.add(port);
  }

  /** `count` ports for `component`: the ones it had (same roles, same order) where free. */
  async take(component: string | undefined, count: number): Promise<number[]> {
    const before = component === undefined ? undefined : this.previous.get(component);
    if (component === undefined || before?.length !== count) return findFreePorts(count);
    const ports: number[] = [];
    for (const port of before) {
      if (await canListen(port)) {
        ports.push(port);
        continue;
      }
      const to = await findFreePort();
      this.moved.push({ component, from: port, to });
      ports.push(to);
    }
    return ports;
  }
}
