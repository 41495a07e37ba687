/**
 * A real anvil that freezes (SIGSTOP) the moment a chosen request reaches it: a relay on
 * 127.0.0.1 passes every request on to the chain, and stops the chain's process just before
 * passing on the first one `when` picks. The command then meets what a frozen node is: its
 * connection taken, its request never answered. A timer could not stop the chain between two
 * steps of a command reliably; this does, at the step the test names.
 */
import { readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface RpcCall {
  method: string;
  params: unknown[];
}

export interface FreezingRelay {
  /** The URL to give the command instead of the chain's. */
  url: string;
  /** Whether the chain was stopped (and not woken since). */
  readonly frozen: boolean;
  /** SIGCONT, if the relay stopped it. */
  thaw(): void;
  /** Thaws the chain and closes the relay and every connection it holds. */
  close(): Promise<void>;
}

/**
 * Returns once every thread of `pid` is stopped. kill() returns before they are: a thread busy
 * on another core stops when the kernel gets to it, and could still take the request meanwhile.
 */
function stopped(pid: number): void {
  const deadline = Date.now() + 5_000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  const state = (tid: string) => {
    try {
      // "<tid> (<comm>) <state> ...": the comm may hold spaces and parentheses
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    } catch {
      return "T"; // the thread ended
    }
  };
  while (!readdirSync(`/proc/${pid}/task`).every((tid) => ["T", "t"].includes(state(tid)))) {
    if (Date.now() > deadline) throw new Error(`process ${pid} did not stop`);
    Atomics.wait(pause, 0, 0, 1); // 1 ms, leaving the core to the kernel
  }
}

export async function freezeOn(
  chain: { rpcUrl: string; pid: number },
  when: (call: RpcCall) => boolean,
): Promise<FreezingRelay> {
  let frozen = false;
  const sockets = new Set<Socket>();
  const upstream = new URL(chain.rpcUrl);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      let calls: RpcCall[] = [];
      try {
        const parsed = JSON.parse(body.toString("utf8"));
        calls = Array.isArray(parsed) ? parsed : [parsed];
      } catch {
        // not JSON-RPC: passed on as it came, the chain answers it
      }
      if (!frozen && calls.some((c) => when({ method: c.method, params: c.params ?? [] }))) {
        process.kill(chain.pid, "SIGSTOP");
        frozen = true;
        stopped(chain.pid);
      }
      const forward = http.request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: upstream.pathname,
          method: "POST",
          agent: false,
          headers: { "content-type": "application/json", "content-length": body.length },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on("error", () => res.destroy());
      res.on("close", () => forward.destroy());
      forward.end(body);
    });
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const thaw = () => {
    if (!frozen) return;
    frozen = false;
    try {
      process.kill(chain.pid, "SIGCONT");
    } catch {
      // gone already
    }
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get frozen() {
      return frozen;
    },
    thaw,
    async close() {
      thaw();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
