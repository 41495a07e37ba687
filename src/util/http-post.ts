/**
 * POST over node:http for plain-http endpoints (a devnet's anvil, a node, a validation service),
 * fetch only for the others (https, which it handles with proxies). fetch costs several times
 * more per request than node:http, and its first call loads Node's bundled undici: about 4 MB of
 * a process's memory and 20 ms of its start-up.
 */

import http from "node:http";

const agents = new Map<string, http.Agent>();

/**
 * A keep-alive agent per origin and connection cap; an idle socket does not hold the process
 * open (Agent unrefs it).
 */
function agentFor(origin: string, maxSockets: number): http.Agent {
  const key = `${maxSockets} ${origin}`;
  let agent = agents.get(key);
  if (!agent) {
    agent = new http.Agent({ keepAlive: true, maxSockets, keepAliveMsecs: 10_000 });
    agents.set(key, agent);
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

/** The deadline passed before the whole answer came. */
export class PostTimeoutError extends Error {
  // a plain field, not a parameter property: Node's type stripping runs this file as it is
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

export interface PostResult {
  status: number;
  /** A 2xx status. */
  ok: boolean;
  text: string;
}

const result = (status: number, text: string): PostResult => ({
  status,
  ok: status >= 200 && status <= 299,
  text,
});

const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

/** A fetch answer's body as text, given up (and the rest cancelled) beyond `maxBytes`. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`answer larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/**
 * POST over node:http with a pooled keep-alive connection, a deadline, an abort signal and a
 * cap on the answer's size. Rejects on network errors, timeouts and oversized answers.
 */
export function httpPost(
  url: string,
  body: string | Uint8Array,
  opts: {
    headers?: Record<string, string>;
    timeoutMs: number;
    signal?: AbortSignal;
    maxBytes?: number;
    /** Connections to the origin at once (default 32); more requests wait for one. */
    maxSockets?: number;
    /** Only the status matters: the answer's body is drained unread (`text` is empty, no cap). */
    discardBody?: boolean;
  },
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
      const timeout = AbortSignal.timeout(opts.timeoutMs);
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...opts.headers },
        body,
        signal: opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout,
      })
        .then(async (res) => {
          if (opts.discardBody) {
            await res.body?.cancel();
            resolve(result(res.status, ""));
            return;
          }
          resolve(result(res.status, await readCapped(res, opts.maxBytes ?? DEFAULT_MAX_BYTES)));
        })
        .catch((error: unknown) =>
          reject(timeout.aborted && !opts.signal?.aborted ? new PostTimeoutError(opts.timeoutMs) : error),
        );
      return;
    }
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: target.path,
        ...(target.auth === undefined ? {} : { auth: target.auth }),
        method: "POST",
        agent: agentFor(target.origin, opts.maxSockets ?? 32),
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
          if (opts.discardBody) return;
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          cleanup();
          resolve(result(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8")));
        });
        res.on("error", (err) => {
          cleanup();
          reject(err);
        });
      },
    );
    const timer = setTimeout(() => req.destroy(new PostTimeoutError(opts.timeoutMs)), opts.timeoutMs);
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
