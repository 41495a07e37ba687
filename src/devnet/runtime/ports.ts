/**
 * Free 127.0.0.1 ports for devnet components. The OS hands out a free port by binding port 0;
 * we close that socket again and hand the number to anvil or Docker, so a reservation set keeps
 * two allocations in the same run from ever receiving the same number.
 */
import net from "node:net";
import { AvsctlError } from "../../errors.js";

export const LOCALHOST = "127.0.0.1";

const reserved = new Set<number>();
const MAX_ATTEMPTS = 64;

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
 * A free port on 127.0.0.1, reserved for the rest of this process so parallel allocations
 * never collide.
 *
 * @example const rpcPort = await findFreePort();
 */
export async function findFreePort(host: string = LOCALHOST): Promise<number> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const port = await listenOnce(0, host);
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
export async function findFreePorts(count: number, host: string = LOCALHOST): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, () => findFreePort(host)));
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
