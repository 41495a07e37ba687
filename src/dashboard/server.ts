/**
 * The HTTP side of `avsctl devnet ui` (docs/dashboard.md): the web app's static files from the
 * package's `dist/ui/`, and the API over the feed: `/api/snapshot`, `/api/tasks/<hash>`,
 * `/api/health`, and `/api/events` (server-sent events). It binds 127.0.0.1 only: the page
 * shows a devnet's keys' addresses and talks to nothing else.
 */

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DashboardFeed } from "./feed.js";

/** Comments keep proxies and browsers from closing an idle stream. */
const PING_MS = 15_000;

/** The built web app, next to this module in the installed package: dist/ui/. */
export const UI_DIR = fileURLToPath(new URL("../ui/", import.meta.url));

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

export interface DashboardServer {
  url: string;
  close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(text);
}

async function serveStatic(res: http.ServerResponse, pathname: string, uiDir: string): Promise<void> {
  const index = path.join(uiDir, "index.html");
  if (!existsSync(index)) {
    res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
    res.end(
      `The dashboard's web app is not built: ${uiDir} has no index.html.\n` +
        "Build it with `npm run build` in the avsctl package (the API under /api/ works without it).\n",
    );
    return;
  }
  const relative = path.normalize(decodeURIComponent(pathname)).replace(/^([/\\])+/, "");
  let file = path.join(uiDir, relative);
  // Nothing outside the app's folder; a route of the app (no file) gets its index.html.
  if (!file.startsWith(uiDir) || relative === "" || !existsSync(file) || !path.extname(file)) file = index;
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
      "cache-control": file === index ? "no-store" : "public, max-age=3600",
    });
    res.end(body);
  } catch {
    json(res, 404, { error: { code: "NOT_FOUND", message: `no ${pathname}` } });
  }
}

function events(req: http.IncomingMessage, res: http.ServerResponse, feed: DashboardFeed): void {
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-store",
    connection: "keep-alive",
  });
  res.write(": avsctl devnet ui\n\n");
  const unsubscribe = feed.subscribe((e) => {
    res.write(`event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
  });
  const ping = setInterval(() => res.write(": ping\n\n"), PING_MS);
  const end = () => {
    clearInterval(ping);
    unsubscribe();
  };
  req.on("close", end);
  res.on("close", end);
}

export async function startDashboardServer(opts: {
  feed: DashboardFeed;
  port?: number;
  uiDir?: string;
}): Promise<DashboardServer> {
  const { feed } = opts;
  const uiDir = path.resolve(opts.uiDir ?? UI_DIR) + path.sep;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const route = url.pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      json(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: `${req.method} is not served` } });
      return;
    }
    if (route === "/api/health") return json(res, 200, { ok: true });
    if (route === "/api/snapshot") return json(res, 200, feed.snapshot());
    if (route === "/api/events") return events(req, res, feed);
    const task = /^\/api\/tasks\/([^/]*)$/.exec(route);
    if (task) {
      const id = task[1]!;
      // no task has a malformed hash: NOT_FOUND as for any unseen one, saying what a hash is
      if (!/^0x[0-9a-fA-F]{64}$/.test(id)) {
        return json(res, 404, {
          error: {
            code: "NOT_FOUND",
            message: `no task ${id || "(none given)"}: a task is named by its task hash, 0x and 64 hex digits (as \`task send\` prints it)`,
          },
        });
      }
      const found = feed.task(id);
      return found
        ? json(res, 200, found)
        : json(res, 404, { error: { code: "NOT_FOUND", message: `no task ${id} seen on this devnet` } });
    }
    if (route.startsWith("/api/"))
      return json(res, 404, { error: { code: "NOT_FOUND", message: `no API route ${route}` } });
    void serveStatic(res, route, uiDir);
  });
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        // Event streams never end on their own: close every connection so the server can.
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
