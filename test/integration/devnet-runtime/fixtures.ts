/** Shared test fixtures: a tiny Node HTTP server used both in containers and as a process. */

/**
 * CommonJS so it runs with plain `node server.js` in any image. Env: NAME, PORT, CHILD=1 to
 * also spawn a long-lived child (to prove that a whole process group is stopped), BYE_FILE to
 * write "bye" there on SIGTERM (as anvil writes its state), GET /file?path= to read a file back.
 */
export const SERVER_JS = `
const http = require("node:http");
const { spawn } = require("node:child_process");
const name = process.env.NAME || "unnamed";
const port = Number(process.env.PORT || 8080);
const host = process.env.HOST || "0.0.0.0";
let child = null;
if (process.env.CHILD === "1") {
  child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  console.log("child pid " + child.pid);
}
const server = http.createServer((req, res) => {
  console.log(req.method + " " + req.url);
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/health") return res.end("ok");
  if (url.pathname === "/whoami") return res.end(name);
  if (url.pathname === "/file") {
    try {
      return res.end(require("node:fs").readFileSync(url.searchParams.get("path"), "utf8"));
    } catch {
      res.statusCode = 404;
      return res.end();
    }
  }
  if (url.pathname === "/fetch") {
    fetch(url.searchParams.get("url"), { signal: AbortSignal.timeout(3000) })
      .then((r) => r.text())
      .then((text) => res.end(text))
      .catch((e) => { res.statusCode = 502; res.end("ERR " + ((e.cause && e.cause.code) || e.message)); });
    return;
  }
  if (req.method === "POST") {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const id = JSON.parse(body).id;
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x7a69" }));
    });
    return;
  }
  res.statusCode = 404;
  res.end();
});
server.listen(port, host, () => console.log("listening on " + port + " as " + name));
process.on("SIGTERM", () => {
  if (process.env.BYE_FILE) require("node:fs").writeFileSync(process.env.BYE_FILE, "bye");
  process.exit(0);
});
`;

export const DOCKERFILE = `ARG BASE_IMAGE
FROM \${BASE_IMAGE}
WORKDIR /app
COPY server.js /app/server.js
CMD ["node", "/app/server.js"]
`;

/** A short random suffix so concurrent runs never share project names. */
export function uniqueSuffix(): string {
  return Math.random().toString(36).slice(2, 8);
}

/** Plain HTTP GET from the test (127.0.0.1 only), returning status and body. */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.text() };
}

/** Collect the error code of a rejected promise (undefined when it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return undefined;
}

export interface CaughtError {
  code: string;
  exitCode?: number;
  message: string;
  hint?: string;
  details: Record<string, any>;
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function errorOf(promise: Promise<unknown>): Promise<CaughtError> {
  try {
    await promise;
  } catch (error) {
    return error as CaughtError;
  }
  throw new Error("expected a rejection, but the promise resolved");
}
