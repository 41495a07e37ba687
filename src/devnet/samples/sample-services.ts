import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sampleIsValid, sampleProof, toDataHex } from "./sample-rule.js";

/**
 * avsctl's own execution and validation services, speaking the HTTP APIs of
 * docs/protocol.md#services, for a devnet whose project has none (and for `quickstart`).
 */

export interface SampleService {
  url: string;
  port: number;
  stop(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<any> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return text ? JSON.parse(text) : {};
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * A request that failed: answered 500, and one line on stderr (the service's devnet log), which
 * the hint of a failed `task send` sends the user to.
 */
function fail(
  res: ServerResponse,
  service: string,
  req: IncomingMessage,
  message: string,
  data: Record<string, unknown> = {},
): void {
  const line = {
    time: new Date().toISOString(),
    level: "error",
    msg: "request failed",
    service,
    method: req.method,
    path: req.url,
    status: 500,
    error: message,
  };
  process.stderr.write(`${JSON.stringify(line)}\n`);
  send(res, 500, { error: true, message, data });
}

function listen(server: Server, host: string, port: number): Promise<SampleService> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${actual}`,
        port: actual,
        stop: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}

/** POST /task/validate: approve iff proofOfTask is the SHA-256 of data. */
export function startSampleValidation(opts: { host?: string; port?: number } = {}): Promise<SampleService> {
  const server = createServer(async (req, res) => {
    try {
      if (req.method === "GET" && req.url === "/health") return send(res, 200, { status: "ok" });
      if (req.method !== "POST" || req.url !== "/task/validate")
        return send(res, 404, { error: true, message: "not found", data: {} });
      const body = await readJson(req);
      if (typeof body.proofOfTask !== "string") {
        return fail(res, "validation", req, "proofOfTask is required");
      }
      const data = typeof body.data === "string" ? body.data : "0x";
      return send(res, 200, { data: sampleIsValid(body.proofOfTask, data), error: false, message: null });
    } catch (error) {
      return fail(res, "validation", req, (error as Error).message);
    }
  });
  return listen(server, opts.host ?? "127.0.0.1", opts.port ?? 0);
}

export interface SampleExecutionOptions {
  host?: string;
  port?: number;
  /** Aggregator JSON-RPC (OTHENTIC_CLIENT_RPC_ADDRESS). */
  aggregatorUrl: string;
  performerKey: string;
}

/**
 * POST /task/execute {data?, taskDefinitionId?, targetChainId?}: computes the proof, signs the
 * task hash as the performer (raw ECDSA) and calls sendTask on the aggregator.
 */
export async function startSampleExecution(opts: SampleExecutionOptions): Promise<SampleService> {
  const { prepareTask, sendPrepared, unanswered } = await import("../../client/send.js");
  let id = 0;
  const server = createServer(async (req, res) => {
    try {
      if (req.method === "GET" && req.url === "/health") return send(res, 200, { status: "ok" });
      if (req.method !== "POST" || req.url !== "/task/execute")
        return send(res, 404, { error: true, message: "not found", data: {} });
      const body = await readJson(req);
      const data = toDataHex(
        typeof body.data === "string" ? body.data : JSON.stringify({ at: Date.now(), n: ++id }),
      );
      const taskDefinitionId = Number(body.taskDefinitionId ?? 1);
      const proofOfTask = sampleProof(data);
      const task = await prepareTask(
        { proofOfTask, data, taskDefinitionId },
        {
          aggregatorUrl: opts.aggregatorUrl,
          performerKey: opts.performerKey,
          sigType: "ecdsa",
          targetChainId: body.targetChainId === undefined ? undefined : Number(body.targetChainId),
        },
      );
      let sent: Awaited<ReturnType<typeof sendPrepared>>;
      try {
        sent = await sendPrepared(task, opts.aggregatorUrl);
      } catch (error) {
        if (!unanswered(error)) throw error;
        // No answer: the aggregator may have taken the task. The caller gets the task signed, to
        // send again as that very task (docs/protocol.md#execution-service).
        return fail(res, "execution", req, (error as Error).message, {
          taskHash: task.taskHash,
          sendTaskParams: task.params,
        });
      }
      // a known task (-32022): the network already has this very task, which is what was asked for
      const known = sent.known === true;
      return send(res, 200, {
        data: { proofOfTask, data, taskDefinitionId, ...(known ? { known } : {}) },
        error: false,
        message: null,
      });
    } catch (error) {
      return fail(res, "execution", req, (error as Error).message);
    }
  });
  return listen(server, opts.host ?? "127.0.0.1", opts.port ?? 0);
}

/**
 * The devnet's deterministic price feed for the price-oracle template: `GET /price?symbol=X`
 * answers `{"symbol", "price", "timestamp"}` with a constant price, so execution and validation
 * always agree within tolerance (and a test can predict the proof).
 */
export function startPriceFeed(
  opts: { host?: string; port?: number; price?: string } = {},
): Promise<SampleService> {
  const price = opts.price ?? "3000.00";
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://feed");
    if (req.method === "GET" && url.pathname === "/health") return send(res, 200, { status: "ok" });
    if (req.method !== "GET" || url.pathname !== "/price") return send(res, 404, { error: "not found" });
    const symbol = url.searchParams.get("symbol") ?? "ETHUSDT";
    if (!/^[A-Za-z0-9._-]{1,32}$/.test(symbol)) return send(res, 400, { error: "bad symbol" });
    return send(res, 200, { symbol, price, timestamp: Math.floor(Date.now() / 1000) });
  });
  return listen(server, opts.host ?? "127.0.0.1", opts.port ?? 0);
}
