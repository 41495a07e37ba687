/** Small HTTP server helpers shared by the node's endpoints. */

import http from "node:http";
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

const agents = new Map<string, http.Agent>();

/** A keep-alive agent per origin (fetch costs several times more per request than node:http). */
function agentFor(origin: string): http.Agent {
  let agent = agents.get(origin);
  if (!agent) {
    agent = new http.Agent({ keepAlive: true, maxSockets: 32, keepAliveMsecs: 10_000 });
    agents.set(origin, agent);
  }
  return agent;
}

interface ParsedTarget {
  protocol: string;
  hostname: string;
  port: string;
  path: string;
  origin: string;
  /** user:password of the URL, as http.request takes it (urlToHttpOptions does the same). */
  auth: string | undefined;
}

// A node posts to the same few URLs all the time: each is parsed once.
const targets = new Map<string, ParsedTarget>();

function parseTarget(url: string): ParsedTarget {
  let t = targets.get(url);
  if (!t) {
    const u = new URL(url);
    t = {
      protocol: u.protocol,
      // an IPv6 literal comes bracketed in URL.hostname; http.request wants it bare
      hostname: u.hostname.replace(/^\[(.*)\]$/, "$1"),
      port: u.port || (u.protocol === "https:" ? "443" : "80"),
      path: `${u.pathname}${u.search}`,
      origin: u.origin,
      auth:
        u.username || u.password
          ? `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`
          : undefined,
    };
    if (targets.size >= 256) targets.clear();
    targets.set(url, t);
  }
  return t;
}

export interface PostResult {
  status: number;
  text: string;
}

/**
 * POST over node:http with a pooled keep-alive connection, a deadline, an abort signal and a
 * cap on the answer's size. Rejects on network errors, timeouts and oversized answers.
 */
export function httpPost(
  url: string,
  body: string,
  opts: { headers?: Record<string, string>; timeoutMs: number; signal?: AbortSignal; maxBytes?: number },
): Promise<PostResult> {
  return new Promise((resolve, reject) => {
    let target: ParsedTarget;
    try {
      target = parseTarget(url);
    } catch (error) {
      reject(error);
      return;
    }
    if (target.protocol !== "http:") {
      // TLS endpoints (a hosted RPC) go through fetch, which handles https and proxies.
      const signal = opts.signal
        ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)])
        : AbortSignal.timeout(opts.timeoutMs);
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...opts.headers },
        body,
        signal,
      })
        .then(async (res) => resolve({ status: res.status, text: await res.text() }))
        .catch(reject);
      return;
    }
    const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.path,
        ...(target.auth === undefined ? {} : { auth: target.auth }),
        method: "POST",
        agent: agentFor(target.origin),
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          cleanup();
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", (err) => {
          cleanup();
          reject(err);
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)),
      opts.timeoutMs,
    );
    const onAbort = (): void => {
      req.destroy(new Error("aborted"));
    };
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    function cleanup(): void {
      clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
    }
    req.on("error", (err) => {
      cleanup();
      reject(err);
    });
    req.end(body);
  });
}
