/** Small HTTP server helpers shared by the node's endpoints. */

import type http from "node:http";
import net, { type AddressInfo } from "node:net";
import { AvsctlError } from "../errors.js";
import { readBodyBytes } from "../util/http-body.js";

/** Thrown by readBody when the body exceeds its cap. */
export class BodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`request body larger than ${limit} bytes`);
  }
}

/**
 * The request body as a string, refusing bodies above `limit` bytes as soon as the header or
 * the bytes received say so (a huge payload is never buffered whole).
 */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return (await readBodyBytes(req, limit, () => new BodyTooLargeError(limit))).toString("utf8");
}

/** Writes a JSON response. */
export function sendJson(
  res: http.ServerResponse,
  status: number,
  body: unknown,
  extraHeaders?: http.OutgoingHttpHeaders,
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...extraHeaders,
  });
  res.end(text);
}

export interface ListeningServer {
  server: http.Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Binds `server` to host:port; a port in use is PORT_IN_USE. */
function bind(server: net.Server, host: string, port: number, reusePort: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      server.off("listening", onListening);
      if (err.code === "EADDRINUSE") {
        reject(
          new AvsctlError("PORT_IN_USE", `port ${port} on ${host} is already in use`, {
            hint: "pick another port or stop what is using it",
            details: { host, port },
          }),
        );
      } else reject(err);
    };
    const onListening = (): void => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(reusePort ? { port, host, reusePort } : { port, host });
  });
}

const closeServer = (server: http.Server): Promise<void> =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

function listening(servers: http.Server[], host: string): ListeningServer {
  const address = servers[0]!.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    server: servers[0]!,
    host,
    port: address.port,
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${address.port}`,
    close: async () => {
      await Promise.all(servers.map(closeServer));
    },
  };
}

/**
 * Starts `server` on host:port (0 = any free port) and returns a handle whose close() also ends
 * idle and streaming connections, so stop() never hangs on a keep-alive socket.
 */
export async function listen(server: http.Server, host: string, port: number): Promise<ListeningServer> {
  await bind(server, host, port, false);
  return listening([server], host);
}

/**
 * listen() with `acceptors` listening sockets on the one port (SO_REUSEPORT, Linux), each a
 * server from `make`. libuv takes one new connection per event-loop turn from a listening
 * socket (since 1.45): an aggregator whose turns take 40 ms under overload took 25 new
 * connections a second, so a performer opening a connection per request waited seconds for a
 * refusal. The kernel spreads new connections over the sockets; each takes one per turn.
 * A plain bind first keeps a port held by another process, even one sharing it the same way,
 * PORT_IN_USE; it is released just before the shared ones bind.
 */
export async function listenShared(
  make: () => http.Server,
  host: string,
  port: number,
  acceptors: number,
): Promise<ListeningServer> {
  if (acceptors <= 1 || process.platform !== "linux") return listen(make(), host, port);
  const probe = net.createServer();
  await bind(probe, host, port, false);
  const chosen = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const servers: http.Server[] = [];
  try {
    for (let i = 0; i < acceptors; i++) {
      const server = make();
      await bind(server, host, chosen, true);
      servers.push(server);
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  return listening(servers, host);
}
