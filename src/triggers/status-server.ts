/**
 * The runner's status server: GET /triggers (the trigger status), GET /firings (the kept
 * records) and GET /health, as JSON. `avsctl task triggers` reads it (status-client.ts).
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AvsctlError } from "../errors.js";
import type { FiringRecord, TriggerStatusResponse } from "./types.js";

export interface StatusServer {
  /** `http://host:port`, with a wildcard host given as 127.0.0.1. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Listens on `host:port` (port 0: any free port). PORT_IN_USE when the port is taken,
 * COMMAND_FAILED for any other listen error.
 */
export async function startStatusServer(opts: {
  host: string;
  port: number;
  triggers: () => TriggerStatusResponse;
  firings: () => FiringRecord[];
}): Promise<StatusServer> {
  const { host, port } = opts;
  const server: Server = createServer((req, res) => serveStatus(req, res, opts.triggers, opts.firings));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new AvsctlError(
      code === "EADDRINUSE" ? "PORT_IN_USE" : "COMMAND_FAILED",
      `the trigger status server could not listen on ${host}:${port} (${code ?? (error as Error).message})`,
      { details: { port }, cause: error },
    );
  }
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${bound}`,
    close: () => {
      const closing = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closing;
    },
  };
}

function serveStatus(
  req: IncomingMessage,
  res: ServerResponse,
  triggers: () => TriggerStatusResponse,
  firings: () => FiringRecord[],
): void {
  const reply = (code: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(code, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
  };
  const path = new URL(req.url ?? "/", "http://localhost").pathname.replace(/\/+$/, "") || "/";
  if (req.method !== "GET") reply(405, { error: "method not allowed" });
  else if (path === "/health") reply(200, { status: "ok" });
  else if (path === "/triggers") reply(200, triggers());
  else if (path === "/firings") reply(200, { firings: firings() });
  else reply(404, { error: "not found" });
}
