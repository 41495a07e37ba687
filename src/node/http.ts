/** Small HTTP server helpers shared by the node's endpoints. */

import type http from "node:http";
import type { AddressInfo } from "node:net";
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

/**
 * Starts `server` on host:port (0 = any free port) and returns a handle whose close() also ends
 * idle and streaming connections, so stop() never hangs on a keep-alive socket.
 */
export async function listen(server: http.Server, host: string, port: number): Promise<ListeningServer> {
  await new Promise<void>((resolve, reject) => {
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
    server.listen(port, host);
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return {
    server,
    host,
    port: address.port,
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
